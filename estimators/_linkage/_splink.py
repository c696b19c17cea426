"""The Fellegi-Sunter model, fitted and applied by splink 5 on its embedded DuckDB backend.

Imported only when :func:`estimators.link` runs: ``import estimators`` never imports splink or duckdb.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
import pandas as pd

# step times at DEBUG level (benchmarks/bench_linkage.py reads them)
LOG = logging.getLogger("estimators.linkage")

# pairs scored below this are dropped from the output (they count as non-links in every replicate)
FLOOR = 1e-3
# Smallest m-probability kept after EM. A disagreement never seen among the matches of the training blocks (a
# different sex, dates months apart) drives its m-probability to zero geometrically, which in a few more EM
# iterations underflows (splink then stops the session with an error) and would make one recording error a veto.
# At 1e-4 such a disagreement still lowers the odds about 10^4-fold.
M_FLOOR = 1e-4
# EM on lists of 50,000 records or more: a sample of about this many pairs of each training block
EM_MAX_PAIRS = 1e6

DEFAULT_BLOCKING = (
    # A pair is a candidate when any rule holds. The rules are chosen so that nearly every true pair is proposed
    # (pair recall of the blocks 0.997 on simulate_named_lists, 8 x 400 deaths; the first four rules alone
    # missed 2.3%, each a pair with a typo in one name and a blank or variant in another):
    # typos in the family or father's name: first letters of the given and family keys
    "l.first3 = r.first3 and l.family2 = r.family2",
    # given and family names swapped: all name tokens sorted
    "l.sorted_key = r.sorted_key",
    # the given name garbled
    "l.family_key = r.family_key and l.father_key = r.father_key",
    # the family name garbled
    "l.first_key = r.first_key and l.father_key = r.father_key",
    # the father's name missing on one record, or garbled
    "l.core_key = r.core_key",
    # typos anywhere after the first letter of the given and family names: phonetic skeletons
    "l.first_ph = r.first_ph and l.family_ph = r.family_ph",
    # the names badly garbled: same sex and age decade and month of death, or same sex and date of death
    "l.sex_key = r.sex_key and l.age_band = r.age_band and l.death_month = r.death_month",
    "l.sex_key = r.sex_key and l.dod = r.dod",
)


def _splink():
    try:
        import splink.comparison_level_library as cll
        import splink.comparison_library as cl
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError("estimators.link needs splink 5 (and its DuckDB backend): "
                          "pip install 'undercount-estimators[linkage]'") from error

    return cll, cl, DuckDBAPI, Linker, SettingsCreator, block_on


def comparisons(optional=()):
    """The comparisons: the names (all tokens sorted, Jaro-Winkler), sex, age, date and place of death, and
    those of ``optional`` (key columns the lists carry: ``mother_key``, ``quarter_key`` (with the place),
    ``id_key``)."""
    cll, cl, *_ = _splink()

    # the levels in order of strength: a record without (or with a garbled) father's name agrees with its match
    # on the given and family names (core_key); Jaro-Winkler on the sorted tokens catches typos
    sorted_names = cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel("sorted_key"),
            cll.ExactMatchLevel("sorted_key"),
            cll.JaroWinklerLevel("sorted_key", 0.95),
            cll.ExactMatchLevel("core_key"),
            cll.JaroWinklerLevel("sorted_key", 0.9),
            cll.JaroWinklerLevel("core_key", 0.92),
            cll.JaroWinklerLevel("sorted_key", 0.8),
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
    extra = {
        # the mother's name is drawn independently of the father's line: a comparison of its own
        "mother_key": lambda: cl.CustomComparison(
            comparison_levels=[cll.NullLevel("mother_key"), cll.ExactMatchLevel("mother_key"),
                               cll.JaroWinklerLevel("mother_key", 0.9), cll.ElseLevel()],
            output_column_name="mother_key"),
        # an id number with one digit wrong is still nearly always the same person
        "id_key": lambda: cl.CustomComparison(
            comparison_levels=[cll.NullLevel("id_key"), cll.ExactMatchLevel("id_key"),
                               cll.LevenshteinLevel("id_key", 1), cll.ElseLevel()],
            output_column_name="id_key"),
    }
    if "quarter_key" in optional:
        # a neighbourhood lies in one place: one comparison in levels, since agreement on the neighbourhood
        # implies agreement on the place and two comparisons would count it twice
        place = cl.CustomComparison(
            comparison_levels=[
                cll.CustomLevel('("quarter_key_l" is null or "quarter_key_r" is null) and '
                                '("place_key_l" is null or "place_key_r" is null)', "place unknown")
                .configure(is_null_level=True),
                cll.ExactMatchLevel("quarter_key"),
                cll.ExactMatchLevel("place_key"),
                cll.ElseLevel(),
            ],
            output_column_name="place_key",
        )
    else:
        place = cl.ExactMatch("place_key")
    return [
        sorted_names,
        cl.ExactMatch("sex_key"),
        age,
        dod,
        place,
        *[extra[key]() for key in optional if key != "quarter_key"],
    ]


def _rules(blocking, dedupe: bool):
    rules = list(DEFAULT_BLOCKING if blocking is None else blocking)
    if not dedupe:
        rules = [f"({r}) and l.list <> r.list" if isinstance(r, str) else r for r in rules]
    return rules


def fit_and_predict(records: pd.DataFrame, *, blocking=None, dedupe=True, random_seed=0, training=None):
    """Train the model (u by random sampling, lambda from near-certain rules, m by EM or from ``training``) and
    score every blocked pair. Returns (pairs DataFrame, parameters DataFrame, notes)."""
    cll, cl, DuckDBAPI, Linker, SettingsCreator, block_on = _splink()
    notes = []
    clock = time.perf_counter()

    def step(name):
        nonlocal clock
        now = time.perf_counter()
        LOG.debug("%s: %.2f s", name, now - clock)
        clock = now

    columns = ["unique_id", "list", "first_key", "father_key", "family_key", "sorted_key", "core_key", "first_ph",
               "father_ph", "family_ph", "first3", "family2", "sex_key", "age_years", "age_band", "dod",
               "death_month", "place_key"]
    optional = [c for c in ("mother_key", "quarter_key", "id_key") if c in records and records[c].notna().any()]
    frame = records[columns + optional].copy()
    db = DuckDBAPI()
    sdf = db.register(frame, dataset_display_name="records")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons(optional),
        blocking_rules_to_generate_predictions=_rules(blocking, dedupe),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["list"],
    )
    logging.getLogger("splink").setLevel(logging.ERROR)
    linker = Linker(sdf, settings, log_level=logging.ERROR)
    settings_obj = linker._settings_obj
    exact = ["l.sorted_key = r.sorted_key and l.sex_key = r.sex_key and abs(l.age_years - r.age_years) <= 2"]
    try:
        linker.training.estimate_probability_two_random_records_match(exact, recall=0.6)
    except Exception as error:  # too few exact agreements in a tiny input: keep the default prior
        notes.append(f"The prior match probability was not estimated ({error}); splink's default was used.")
    step("set up and prior from an exact rule")
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=int(random_seed) % (2**31))
    step("u-probabilities from random pairs")
    if training is not None and len(training):
        labels = db.register(training, dataset_display_name="labels")
        linker.training.estimate_m_from_pairwise_labels(labels)
        notes.append(f"m-probabilities estimated from {len(training):,} known matching pairs (training).")
    else:
        # two sessions, each blocked on fields the other compares: the same names (estimates sex, age, date,
        # place, ...), then the same date of death and neighbourhood or age decade (estimates the names). The
        # second block must hold a fair share of matches, or EM settles on another split of the pairs: among
        # 300,000 records, pairs with the same date and age decade are 0.7% matches, and there EM gave the
        # names' agreement levels m-probabilities equal to their u (no weight); with the same date and
        # neighbourhood about half are matches
        prior = settings_obj._probability_two_random_records_match
        large = len(frame) >= 50_000
        second = block_on("dod", "quarter_key") if "quarter_key" in optional else block_on("dod", "age_band")
        for rule in (block_on("sorted_key"), second):
            error = _em_session(linker, settings_obj, rule, max_pairs=EM_MAX_PAIRS if large else None)
            if error is not None:
                notes.append(f"The EM session blocked on {rule.get_blocking_rule('duckdb').blocking_rule_sql} "
                             f"failed ({error}); the other session still trains.")
            # the session's blocking-adjusted prior is not the prior of all pairs: put it back
            settings_obj._probability_two_random_records_match = prior
            step(f"EM session on {rule.get_blocking_rule('duckdb').blocking_rule_sql}")
    # scored down to FLOOR / 20, so that the pairs the re-estimated prior lifts above FLOOR are all there
    predictions = linker.inference.predict(threshold_match_probability=FLOOR / 20)
    pairs = predictions.as_pandas_dataframe()
    step("scoring the blocked pairs")
    keep = ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
    pairs = pairs[keep].copy()
    pairs["unique_id_l"] = pairs["unique_id_l"].astype(np.int64)
    pairs["unique_id_r"] = pairs["unique_id_r"].astype(np.int64)
    lo = np.minimum(pairs["unique_id_l"], pairs["unique_id_r"])
    hi = np.maximum(pairs["unique_id_l"], pairs["unique_id_r"])
    pairs["unique_id_l"], pairs["unique_id_r"] = lo, hi
    pairs = pairs.drop_duplicates(["unique_id_l", "unique_id_r"]).reset_index(drop=True)
    first_prior = settings_obj._probability_two_random_records_match
    prior = estimate_prior(pairs["match_weight"].to_numpy(dtype=float), first_prior,
                           possible_pairs(frame["list"], dedupe))
    log2_odds = np.log2(prior / (1 - prior)) - np.log2(first_prior / (1 - first_prior))
    pairs["match_weight"] = pairs["match_weight"] + log2_odds
    pairs["match_probability"] = 1 / (1 + np.exp2(-pairs["match_weight"].to_numpy(dtype=float)))
    pairs = pairs[pairs["match_probability"] >= FLOOR].reset_index(drop=True)
    settings_obj._probability_two_random_records_match = prior
    parameters = _parameters(linker)
    step("prior by maximum likelihood, pairs kept")
    return pairs, parameters, notes


def _em_session(linker, settings_obj, rule, max_pairs=None):
    """One EM session blocked on ``rule``; None, or the error if it failed at every length tried.

    A level that no match of the training block takes (a different sex, dates months apart) sees its
    m-probability collapse faster than geometrically, and within 25 iterations it can underflow: splink then
    stops with an error and leaves the model half changed (the session's comparisons and prior). So the model is
    copied before, restored on failure, and the session retried shorter; m-probabilities are floored after."""
    error = None
    for iterations in (25, 8, 3):
        saved = settings_obj.core_model_settings.copy()
        settings_obj.training_settings = dataclasses.replace(settings_obj.training_settings,
                                                             max_iterations=iterations)
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=max_pairs)
        except Exception as failure:  # underflow, or a block with no pairs (then every length fails)
            settings_obj.core_model_settings = saved
            error = failure
            continue
        error = None
        break
    _floor_m(settings_obj)
    return error


def _floor_m(settings_obj, floor: float = M_FLOOR) -> None:
    """Raise every m-probability below ``floor`` to it (see M_FLOOR)."""
    for comparison in settings_obj.comparisons:
        for level in comparison.comparison_levels:
            if not level.is_null_level and isinstance(level.m_probability, float) and level.m_probability < floor:
                level.m_probability = floor


def possible_pairs(lists: pd.Series, dedupe: bool) -> float:
    """How many pairs of records there are: all of them, or only those from different lists."""
    n = len(lists)
    if dedupe:
        return n * (n - 1) / 2
    sizes = lists.value_counts().to_numpy(dtype=float)
    return (sizes.sum() ** 2 - (sizes**2).sum()) / 2


def estimate_prior(match_weight: np.ndarray, prior: float, n_pairs: float, iterations: int = 500) -> float:
    """The prior match probability (lambda) by maximum likelihood with the m- and u-probabilities held fixed.

    The EM update of lambda is the mean match probability over all pairs; pairs never proposed by the blocking
    rules, or scored below the floor, count as non-matches. Starting from the deterministic-rule estimate (which
    assumes the rule's recall), the update is iterated to its fixed point. ``match_weight`` is each scored pair's
    log2 posterior odds under ``prior``."""
    bayes = match_weight - np.log2(prior / (1 - prior))  # log2 Bayes factor of each pair
    lam = prior
    for _ in range(iterations):
        p = 1 / (1 + np.exp2(-(bayes + np.log2(lam / (1 - lam)))))
        new = min(max(float(p.sum() / n_pairs), 1e-12), 0.5)
        if abs(new - lam) <= 1e-6 * lam:
            return new
        lam = new
    return lam


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
