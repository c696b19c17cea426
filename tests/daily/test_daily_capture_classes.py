"""Heterogeneous capture in daily_rates (capture_classes): the marginalised pattern probabilities by hand, the
identifiability warning, and a fit on a simulated conflict with a hidden class of visible deaths."""

import warnings

import numpy as np
import pandas as pd
import pytest

from estimators import IdentifiabilityWarning, daily_rates
from estimators._daily import prepare_data
from estimators._daily._draws import capture_pattern_probabilities
from estimators._daily._inputs import identified_by
from estimators.simulate import simulate_conflict

POPULATION = (450_000, 550_000)


def test_two_classes_two_lists_by_hand():
    # class 0: logit 0 on A, -log 3 on B -> capture 1/2, 1/4; class 1 shifted by log 3 -> 3/4, 1/2; shares 0.4, 0.6
    p = capture_pattern_probabilities([0.0, -np.log(3)], [0.0, np.log(3)], [0.4, 0.6])
    by_hand = {
        0b00: 0.4 * (1 / 2) * (3 / 4) + 0.6 * (1 / 4) * (1 / 2),
        0b01: 0.4 * (1 / 2) * (1 / 4) + 0.6 * (1 / 4) * (1 / 2),  # on B only
        0b10: 0.4 * (1 / 2) * (3 / 4) + 0.6 * (3 / 4) * (1 / 2),  # on A only
        0b11: 0.4 * (1 / 2) * (1 / 4) + 0.6 * (3 / 4) * (1 / 2),
    }
    assert p == pytest.approx([by_hand[h] for h in range(4)])
    assert p.sum() == pytest.approx(1.0)
    # one class, or two equal classes, is the independent (homogeneous) model
    single = capture_pattern_probabilities([0.0, -np.log(3)])
    assert single == pytest.approx([3 / 8, 1 / 8, 3 / 8, 1 / 8])
    assert capture_pattern_probabilities([0.0, -np.log(3)], [0.0, 0.0], [0.3, 0.7]) == pytest.approx(single)
    # heterogeneity makes the lists overlap more than independence at the same coverage
    coverage_a, coverage_b = p[2] + p[3], p[1] + p[3]
    assert p[3] > coverage_a * coverage_b


def test_classes_broadcast_over_draws_and_bins():
    rng = np.random.default_rng(0)
    alpha = rng.normal(size=(5, 3, 3))  # draws, bins, lists
    effect = np.cumsum(np.abs(rng.normal(size=(5, 1, 2))), axis=-1) - 0.3
    share = rng.dirichlet([1, 1], size=(5, 1))
    gamma = rng.normal(size=(5, 1, 3))
    p = capture_pattern_probabilities(alpha, effect, share, gamma)
    assert p.shape == (5, 3, 8)
    s, b = 3, 2
    one = sum(share[s, 0, c] * capture_pattern_probabilities(alpha[s, b] + effect[s, 0, c], None, None, gamma[s, 0])
              for c in range(2))
    assert p[s, b] == pytest.approx(one)


def test_identified_by_qualifies_lists_under_heterogeneity():
    sim = simulate_conflict(30, survey_clusters=None, random_seed=1)
    data = prepare_data(days=30, lists=sim.lists, population=POPULATION)
    assert identified_by(data) == ["matched lists"]
    assert identified_by(data, 2) == ["matched lists (only given capture_classes=2)"]
    four = simulate_conflict(30, capture_logits=(-1, -1, -1, -1), survey_clusters=None, random_seed=1)
    assert identified_by(prepare_data(days=30, lists=four.lists, population=POPULATION), 2) == ["matched lists"]


def test_capture_classes_needs_two_lists():
    sim = simulate_conflict(30, random_seed=1)
    with pytest.raises(ValueError, match="capture_classes"):
        daily_rates(days=30, surveys=[sim.survey], population=POPULATION, capture_classes=2)


# ------------------------------------------------------------------------------------------------ fitted model
@pytest.fixture(scope="module")
def hetero():
    # a quarter of the deaths are visible (log-odds +3 on every list); three lists independent within a class, and a
    # survey; fitted without two-way dependence, so that only heterogeneity separates the two fits
    return simulate_conflict(60, capture_logits=(-1.0, -1.3, -1.6), interactions={}, visibility=(0.25, 3.0),
                             random_seed=3)


@pytest.fixture(scope="module")
def fits(hetero):
    out = {}
    for classes in (1, 2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = daily_rates(days=60, lists=hetero.lists, surveys=[hetero.survey], population=POPULATION,
                              bin_days=7, capture_classes=classes, list_dependence=False, draws=300, tune=300,
                              chains=2, prior_draws=100,
                              random_seed=1)
        out[classes] = fit, [w for w in caught if issubclass(w.category, IdentifiabilityWarning)]
    return out


def test_two_classes_warn_with_three_lists_and_name_the_assumption(fits):
    one, two = fits[1][1], fits[2][1]
    assert not any("capture classes" in str(w.message) for w in one)
    message = " ".join(str(w.message) for w in two)
    assert "depends on the assumed number of capture classes" in message
    assert "survey carries the total" in message
    table = fits[2][0].identifiability
    assert "only given capture_classes=2" in table.loc["total deaths", "informed_by"]


def test_target_accept_defaults_to_0_99_with_classes(fits):
    # recorded as used; the call keeps None, so a sensitivity refit with other classes chooses its own
    one, two = fits[1][0], fits[2][0]
    assert one.settings["target_accept"] == 0.9 and two.settings["target_accept"] == 0.99
    assert one.settings["call"]["target_accept"] is None and two.settings["call"]["target_accept"] is None


def test_two_classes_shift_the_total_up_and_widen(fits, hetero):
    one, two = fits[1][0], fits[2][0]
    truth = hetero.total
    # homogeneous capture reads the visible class's overlaps as high coverage: biased low
    assert one.total.interval[1] < truth
    assert two.total.estimate > one.total.estimate
    width = lambda f: f.total.interval[1] - f.total.interval[0]  # noqa: E731
    assert width(two) > width(one)
    assert two.total.interval[0] <= truth <= two.total.interval[1]
    assert "capture_class_share" in two.idata.posterior
    share = two.idata.posterior["capture_class_share"].values
    assert np.allclose(share.sum(-1), 1.0)


def test_auto_fits_two_classes_with_three_lists_and_a_survey(fits, hetero):
    # the same data through capture_classes="auto", reusing the compiled two-class model
    import inspect

    from estimators._daily._fit import _fit, _fit_auto

    keep = set(inspect.signature(_fit).parameters) - {"data", "model", "random_seed"}
    options = {name: p.default for name, p in inspect.signature(daily_rates).parameters.items()
               if name in keep and p.default is not inspect.Parameter.empty}
    assert options["capture_classes"] == "auto"
    options.update(list_dependence=False, draws=300, tune=300, chains=2, prior_draws=100)
    data = prepare_data(days=60, lists=hetero.lists, surveys=[hetero.survey], population=POPULATION, bin_days=7)
    two = fits[2][0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        auto = _fit_auto(data, models={2: two.model}, random_seed=1, **options)  # capture_classes="auto"
    assert auto.model is two.model and auto.settings["capture_classes"] == 2
    message = " ".join(str(w.message) for w in caught if issubclass(w.category, IdentifiabilityWarning))
    assert "capture_classes='auto' fitted two capture classes" in message
    assert "survey carries the total" in message
    assert auto.total.interval == two.total.interval


# ------------------------------------------------------------------------------------ normal capture effect
def test_normal_nodes_integrate_against_the_standard_normal():
    from estimators._daily._model import NORMAL_NODES, normal_nodes

    nodes, log_w = normal_nodes(NORMAL_NODES)
    w = np.exp(log_w)
    assert w.sum() == pytest.approx(1.0)
    assert (w * nodes).sum() == pytest.approx(0.0, abs=1e-12)
    assert (w * nodes**2).sum() == pytest.approx(1.0)
    assert (w * nodes**4).sum() == pytest.approx(3.0)


def test_normal_effect_pattern_probabilities_by_numerical_integration():
    # Rasch-type two-list model: P(h) = int prod_j p_j(z)^h_j (1 - p_j(z))^(1 - h_j) phi(z) dz, p_j = expit(a_j + sd z)
    from scipy import integrate, stats

    from estimators._daily._model import NORMAL_NODES, normal_nodes

    logits, sd = np.array([-1.0, -0.3]), 1.3
    nodes, log_w = normal_nodes(NORMAL_NODES)
    p = capture_pattern_probabilities(logits, sd * nodes, np.exp(log_w))

    def pattern(h):
        def f(z):
            q = 1 / (1 + np.exp(-(logits + sd * z)))
            on = np.array([(h >> 1) & 1, h & 1])
            return np.prod(np.where(on, q, 1 - q)) * stats.norm.pdf(z)
        return integrate.quad(f, -12, 12)[0]

    assert p == pytest.approx([pattern(h) for h in range(4)], abs=2e-5)


def test_normal_effect_is_qualified_with_three_lists():
    sim = simulate_conflict(30, survey_clusters=None, random_seed=1)
    data = prepare_data(days=30, lists=sim.lists, population=POPULATION)
    assert identified_by(data, "normal") == ["matched lists (only given capture_classes='normal')"]
    with pytest.raises(ValueError, match="capture_classes"):
        daily_rates(days=30, lists=sim.lists, population=POPULATION, capture_classes="Normal")
    surveyed = simulate_conflict(30, random_seed=1)
    with pytest.raises(ValueError, match="two or more matched lists"):
        daily_rates(days=30, surveys=[surveyed.survey], population=POPULATION, capture_classes="normal")


def _rasch_records(days=60, rate=80.0, sd=1.2, seed=2):
    """Four lists whose capture log-odds vary between deaths (a normal effect shared by every list)."""
    rng = np.random.default_rng(seed)
    deaths = rng.poisson(rate, days)
    day = np.repeat(np.arange(days), deaths)
    effect = rng.normal(0.0, sd, day.size)[:, None]
    captured = rng.random((day.size, 4)) < 1 / (1 + np.exp(-(np.array([-1.0, -1.4, -1.8, -1.2]) + effect)))
    records = pd.DataFrame(captured.astype(int), columns=list("ABCD"))
    records["day"] = day
    return int(deaths.sum()), records[captured.any(axis=1)]


@pytest.fixture(scope="module")
def rasch_fits():
    truth, records = _rasch_records()
    out = {}
    for classes in (1, "normal"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out[classes] = daily_rates(days=60, lists=records, day_column="day", population=POPULATION,
                                       capture_classes=classes, heterogeneity_check=False, draws=300, tune=300,
                                       chains=2, random_seed=3)
        out[classes, "warnings"] = [str(w.message) for w in caught]
    return truth, out


def test_normal_effect_holds_shared_heterogeneity_one_class_misses(rasch_fits):
    truth, fits = rasch_fits
    one, normal = fits[1], fits["normal"]
    # one class reads the shared heterogeneity as a common positive dependence of the pairs: low, too narrow
    assert one.total.interval[1] < truth
    assert any("The pairs of the 4 lists are positively dependent" in m for m in fits[1, "warnings"])
    assert normal.total.interval[0] <= truth <= normal.total.interval[1]
    assert normal.total.estimate > one.total.estimate
    assert not any("The pairs of the 4 lists are positively" in m for m in fits["normal", "warnings"])
    sd = normal.idata.posterior["capture_effect_sd"].values
    assert np.quantile(sd, 0.025) < 1.2 < np.quantile(sd, 0.975)
    assert "normal effect shared by the lists" in str(normal.summary())
    row = normal.identifiability.loc["sd of the capture effect"]
    assert row["lower"] < np.median(sd) < row["upper"] and "normal effect" in row["informed_by"]


def test_auto_fits_the_normal_effect_when_every_pair_is_dependent(rasch_fits, monkeypatch):
    import estimators._daily._fit as fit_module
    from estimators._daily._heterogeneity import ONE_CLASS_TOTAL_ROW

    truth, records = _rasch_records()
    # the latent-class check agrees with one class (whether it does on these 60 days depends on its draws)
    monkeypatch.setattr(fit_module, "check_heterogeneity", lambda *args, **kwargs: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        auto = daily_rates(days=60, lists=records, day_column="day", population=POPULATION, draws=300, tune=300,
                           chains=2, random_seed=3)
    assert auto.settings["capture_classes"] == "normal"
    normal, one = rasch_fits[1]["normal"].total, rasch_fits[1][1].total  # the same fits: same data, options, seed
    assert (auto.total.estimate, auto.total.interval) == (normal.estimate, normal.interval)
    row = auto.identifiability.loc[ONE_CLASS_TOTAL_ROW]
    assert (row["median"], row["lower"], row["upper"]) == (one.estimate, *one.interval)
    assert row["upper"] < truth and auto.total.interval[0] <= truth <= auto.total.interval[1]
    messages = [str(w.message) for w in caught]
    note = [m for m in messages if m.startswith("capture_classes='auto' fitted a normal capture effect")]
    assert len(note) == 1 and f"{one.estimate:,.0f}" in note[0]
    assert "the pairs of the 4 lists were positively dependent in common" in note[0]
    # the one-class fit's own warning is not passed on: the returned fit is the normal one
    assert not any(m.startswith("The pairs of the 4 lists") for m in messages)
    assert "sd of the capture effect" in auto.identifiability.index


def test_auto_keeps_one_class_when_the_pairs_are_not_all_dependent(monkeypatch):
    import estimators._daily._fit as fit_module

    rng = np.random.default_rng(5)
    deaths = rng.poisson(80.0, 60)
    day = np.repeat(np.arange(60), deaths)
    captured = rng.random((day.size, 4)) < 1 / (1 + np.exp(-np.array([-1.0, -1.4, -1.8, -1.2])))
    records = pd.DataFrame(captured.astype(int), columns=list("ABCD")).assign(day=day)[captured.any(axis=1)]
    monkeypatch.setattr(fit_module, "check_heterogeneity", lambda *args, **kwargs: None)
    auto = daily_rates(days=60, lists=records, day_column="day", population=POPULATION, draws=300, tune=300,
                       chains=2, random_seed=3)
    assert auto.settings["capture_classes"] == 1
    assert auto.total.interval[0] <= deaths.sum() <= auto.total.interval[1]
