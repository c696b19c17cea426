"""The Fellegi-Sunter model, fitted and applied by splink 5 on its embedded DuckDB backend.

Imported only when :func:`estimators.link` runs: ``import estimators`` never imports splink or duckdb.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

# pairs scored below this are dropped from the output (they count as non-links in every replicate)
FLOOR = 1e-3

# Jaro-Winkler similarity levels of the sorted name tokens
SORTED_LEVELS = (0.96, 0.92, 0.88, 0.82, 0.75)
DEFAULT_BLOCKING = (
    # typo in the family name or the father's name: first letters of the given and family keys
    "l.first3 = r.first3 and l.family2 = r.family2",
    # given and family names swapped, or a typo at the start of the given name: all name tokens sorted
    "l.sorted_key = r.sorted_key",
    # the name badly garbled: same sex, age decade and month of death
    "l.sex_key = r.sex_key and l.age_band = r.age_band and l.death_month = r.death_month",
    # the given name garbled: family and father's names
    "l.family_key = r.family_key and l.father_key = r.father_key",
)


def _splink():
    try:
        import splink  # noqa: F401
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError("estimators.link needs splink 5 (and its DuckDB backend): "
                          "pip install 'undercount-estimators[linkage]'") from error
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    return cll, cl, DuckDBAPI, Linker, SettingsCreator, block_on


def comparisons():
    """The comparisons: the names (all tokens sorted, Jaro-Winkler), sex, age, date and place of death."""
    cll, cl, *_ = _splink()

    sorted_names = cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel("sorted_key"),
            cll.ExactMatchLevel("sorted_key"),
            *[cll.JaroWinklerLevel("sorted_key", t) for t in SORTED_LEVELS],
            cll.ElseLevel(),
        ],
        output_column_name="sorted_key",
        comparison_description="all name tokens, sorted (order swaps)",
    )
    age = cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel("age_years"),
            cll.CustomLevel('abs("age_years_l" - "age_years_r") <= 0.5', "same age"),
            cll.CustomLevel('abs("age_years_l" - "age_years_r") <= 2', "age within 2"),
            cll.CustomLevel('abs("age_years_l" - "age_years_r") <= 5', "age within 5"),
            cll.ElseLevel(),
        ],
        output_column_name="age_years",
    )
    dod = cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel("dod"),
            cll.ExactMatchLevel("dod"),
            cll.CustomLevel("abs(date_diff('day', \"dod_l\", \"dod_r\")) <= 3", "within 3 days"),
            cll.CustomLevel("abs(date_diff('day', \"dod_l\", \"dod_r\")) <= 30", "within 30 days"),
            cll.ElseLevel(),
        ],
        output_column_name="dod",
    )
    # One comparison of the names, not one per name field as well: the fields' agreements are strongly
    # dependent (a common given name goes with a common family name), and counting them twice makes the match
    # probabilities of similar-named strangers far too high (checked on simulate_named_lists: with the fields
    # compared separately as well, pairs scored 0.5-0.9 were 4% matches; with the sorted tokens alone the
    # probabilities are close to the observed share of matches in every band).
    return [
        sorted_names,
        cl.ExactMatch("sex_key"),
        age,
        dod,
        cl.ExactMatch("place_key"),
    ]


def _rules(blocking, dedupe: bool):
    rules = list(DEFAULT_BLOCKING if blocking is None else blocking)
    if not dedupe:
        rules = [f"({r}) and l.list <> r.list" if isinstance(r, str) else r for r in rules]
    return rules


def fit_and_predict(records: pd.DataFrame, *, blocking=None, dedupe=True, random_seed=0, training=None,
                    em_iterations=25):
    """Train the model (u by random sampling, lambda from near-certain rules, m by EM or from ``training``) and
    score every blocked pair. Returns (pairs DataFrame, parameters DataFrame, notes)."""
    cll, cl, DuckDBAPI, Linker, SettingsCreator, block_on = _splink()
    notes = []
    columns = ["unique_id", "list", "first_key", "father_key", "family_key", "sorted_key", "first3", "family2",
               "sex_key", "age_years", "age_band", "dod", "death_month", "place_key"]
    frame = records[columns].copy()
    db = DuckDBAPI()
    sdf = db.register(frame, dataset_display_name="records")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=_rules(blocking, dedupe),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["list"],
        max_iterations=em_iterations,
    )
    logging.getLogger("splink").setLevel(logging.ERROR)
    linker = Linker(sdf, settings, log_level=logging.ERROR)
    exact = ["l.sorted_key = r.sorted_key and l.sex_key = r.sex_key and abs(l.age_years - r.age_years) <= 2"]
    try:
        linker.training.estimate_probability_two_random_records_match(exact, recall=0.6)
    except Exception as error:  # too few exact agreements in a tiny input: keep the default prior
        notes.append(f"The prior match probability was not estimated ({error}); splink's default was used.")
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=int(random_seed) % (2**31))
    if training is not None and len(training):
        labels = db.register(training, dataset_display_name="labels")
        linker.training.estimate_m_from_pairwise_labels(labels)
        notes.append(f"m-probabilities estimated from {len(training):,} known matching pairs (training).")
    else:
        # two sessions, each blocked on fields the other compares: the same names (estimates sex, age, date,
        # place), then the same date of death and age decade (estimates the names)
        for rule in (block_on("sorted_key"), block_on("dod", "age_band")):
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, record_sample_proportion=1.0 if len(frame) < 50_000 else 0.2)
            except Exception as error:  # an EM block with no pairs: the other session still trains
                notes.append(f"An EM session blocked on {rule} failed ({error}).")
    predictions = linker.inference.predict(threshold_match_probability=FLOOR)
    pairs = predictions.as_pandas_dataframe()
    keep = ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
    pairs = pairs[keep].copy()
    pairs["unique_id_l"] = pairs["unique_id_l"].astype(np.int64)
    pairs["unique_id_r"] = pairs["unique_id_r"].astype(np.int64)
    lo = np.minimum(pairs["unique_id_l"], pairs["unique_id_r"])
    hi = np.maximum(pairs["unique_id_l"], pairs["unique_id_r"])
    pairs["unique_id_l"], pairs["unique_id_r"] = lo, hi
    pairs = pairs.drop_duplicates(["unique_id_l", "unique_id_r"]).reset_index(drop=True)
    parameters = _parameters(linker)
    return pairs, parameters, notes


def _parameters(linker) -> pd.DataFrame:
    rows = []
    settings = linker._settings_obj
    for comparison in settings.comparisons:
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            rows.append(dict(comparison=comparison.output_column_name, level=level.label_for_charts,
                             m_probability=level.m_probability, u_probability=level.u_probability))
    frame = pd.DataFrame(rows)
    frame.attrs["probability_two_random_records_match"] = settings._probability_two_random_records_match
    return frame
