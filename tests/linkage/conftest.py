"""A small linked example shared by the linkage tests (one splink fit per session: a few seconds)."""

import pytest

pytest.importorskip("splink")


@pytest.fixture(scope="session")
def named_sim():
    from estimators.simulate import simulate_named_lists

    return simulate_named_lists(300, random_seed=11)


@pytest.fixture(scope="session")
def linked(named_sim):
    import estimators

    return estimators.link(named_sim.lists, random_seed=3)
