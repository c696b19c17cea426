"""The packed data vector that carries every data value of the daily model into its compiled form."""

import numpy as np
import pytest

from estimators._daily._model import DataLayout
from estimators.exceptions import DataError


def _values():
    return {"level": np.array([1.5, 2.0]), "day_group": np.array([0, 2, 1], dtype="int64"),
            "maps": np.arange(8.0).reshape(2, 2, 2), "scale": np.array(0.25)}


def test_pack_lays_values_end_to_end_in_order():
    layout = DataLayout.of(_values())
    assert layout.size == 2 + 3 + 8 + 1
    assert layout.pack(_values()).tolist() == [1.5, 2.0, 0, 2, 1, *range(8), 0.25]


def test_unpack_gives_back_each_value_with_its_shape_and_integer_type():
    import pytensor.tensor as pt

    values = _values()
    layout = DataLayout.of(values)
    packed = pt.vector("packed")
    views = layout.unpack(packed)
    evaluated = {name: view.eval({packed: layout.pack(values)}) for name, view in views.items()}
    for name, value in values.items():
        np.testing.assert_array_equal(evaluated[name], value)
        assert evaluated[name].shape == value.shape
    assert evaluated["day_group"].dtype.kind == "i"
    assert evaluated["level"].dtype.kind == "f"


def test_data_of_another_shape_are_refused():
    layout = DataLayout.of(_values())
    other = dict(_values(), day_group=np.array([0, 1]))
    with pytest.raises(DataError, match="do not fit the compiled model"):
        layout.pack(other)
    with pytest.raises(DataError, match="do not fit the compiled model"):
        layout.pack({k: v for k, v in _values().items() if k != "scale"})
