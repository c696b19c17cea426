"""latent_class: the Dirichlet-process latent-class model of Manrique-Vallier (2016), against LCMCR 0.4.14."""

import math
import warnings

import numpy as np
import pytest
from numba import njit
from scipy import stats

import estimators
from estimators import CaptureHistories, ConvergenceWarning, IdentifiabilityWarning
from estimators._latent_class import _gibbs as gibbs
from estimators._latent_class import chains_apart, default_classes, latent_class
from estimators._latent_class._estimator import auto_sweeps
from estimators._latent_class._random import new_state
from estimators.histories import pattern_matrix

from conftest import peer_row

LCMCR = "lcmCR K=10 a=b=0.25 burnin=10000 samples=1000 thin=100"
# a fixed run (no extension): for tests of the sampler and the result, not of the adaptive rule
SMALL = dict(K=5, chains=2, draws=150, burn=300, thin=4, max_sweeps=None)


@pytest.fixture(scope="module")
def kosovo():
    return estimators.load_dataset("LCMCR_kosovo")


@pytest.fixture(scope="module")
def small_fit(kosovo):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return latent_class(kosovo, random_seed=7, **SMALL)


def simulate_latent_classes(rng, size, weights, inclusion):
    """A capture table drawn from the latent-class model itself: class by person, then independent lists."""
    weights = np.asarray(weights)
    inclusion = np.asarray(inclusion)
    classes = rng.choice(len(weights), size=size, p=weights)
    listed = rng.random((size, inclusion.shape[1])) < inclusion[classes]
    k = inclusion.shape[1]
    index = listed.astype(int) @ (1 << np.arange(k - 1, -1, -1))
    counts = np.bincount(index, minlength=2**k).astype(float)
    counts[0] = 0.0
    return CaptureHistories(lists=[f"L{j}" for j in range(k)], patterns=pattern_matrix(k), counts=counts)


# ------------------------------------------------------------------ kernels
# The kernels are compiled without Python wrappers (``_random.HELPER``), so they are called through these.


@njit
def _multinomials(state, size, weights, reps):
    n_classes = weights.shape[0]
    out = np.zeros((reps, n_classes), dtype=np.int64)
    for r in range(reps):
        gibbs.multinomial_draw(state, size, weights, out[r])
    return out


@njit
def _log_beta_draws(state, a, b, size):
    out = np.empty((size, 2))
    for i in range(size):
        out[i, 0], out[i, 1] = gibbs.log_beta_draw(state, a, b)
    return out


@njit
def _overrelaxed_betas(state, a, b, start, coefficient):
    out = np.empty((start.shape[0], 2))
    for i in range(start.shape[0]):
        out[i, 0], out[i, 1] = gibbs.overrelaxed_beta(
            state, a, b, math.log(start[i]), math.log1p(-start[i]), coefficient)
    return out


@njit
def _truncated_negative_binomials(state, successes, p, upper, size):
    out = np.empty(size, dtype=np.int64)
    for i in range(size):
        out[i] = gibbs.truncated_negative_binomial_draw(state, successes, p, upper)
    return out


def test_multinomial_draw_sums_to_size_and_matches_the_mean():
    rng = new_state(np.random.SeedSequence(0))
    weights = np.array([0.5, 1.5, 0.0, 2.0])
    draws = _multinomials(rng, 40, weights, 2000)
    assert (draws.sum(axis=1) == 40).all()
    assert (draws[:, 2] == 0).all()
    np.testing.assert_allclose(draws.mean(axis=0), 40 * weights / weights.sum(), rtol=0.03)
    singles = _multinomials(rng, 1, weights, 4000)
    np.testing.assert_allclose(singles.mean(axis=0), weights / weights.sum(), atol=0.025)


@pytest.mark.parametrize(
    "size, weights",
    [
        (3000, [0.2, 5.0, 1e-12, 1.0, 3.0]),  # binomials for the large shares, then the few-left path
        (12, [1.0, 1.0, 2.0]),  # the few-left path from the second class on
        (500, [1e-300, 1.0, 1e-9, 1e-9]),  # one class holds almost all the weight
    ],
)
def test_multinomial_draw_has_binomial_margins_and_multinomial_covariances(size, weights):
    weights = np.array(weights)
    p = weights / weights.sum()
    draws = _multinomials(new_state(np.random.SeedSequence(size)), size, weights, 40_000)
    assert (draws.sum(axis=1) == size).all()
    for k in range(len(p)):
        law = stats.binom(size, p[k])
        if law.std() < 0.5:
            assert draws[:, k].mean() == pytest.approx(size * p[k], abs=0.01)
            continue
        support = np.arange(int(law.ppf(1e-4)), int(law.ppf(1 - 1e-4)) + 1)
        observed = np.array([(draws[:, k] == x).sum() for x in support])
        expected = law.pmf(support) * len(draws)
        keep = expected >= 5
        observed, expected = observed[keep], expected[keep] * observed[keep].sum() / expected[keep].sum()
        assert stats.chisquare(observed, expected).pvalue > 1e-4
    # Off-diagonal covariances of a multinomial: -size p_i p_j.
    expected_cov = -size * np.outer(p, p) + np.diag(size * p)
    np.testing.assert_allclose(np.cov(draws.T), expected_cov, atol=0.05 * size * p.max())


@pytest.mark.parametrize("a, b", [(2.0, 5.0), (1.0, 5.0), (3.0, 1.0), (1.0, 1.0), (0.3, 0.7)])
def test_log_beta_draw_is_a_beta_on_the_log_scale(a, b):
    rng = new_state(np.random.SeedSequence(1))
    draws = _log_beta_draws(rng, a, b, 4000)
    np.testing.assert_allclose(np.exp(draws[:, 0]) + np.exp(draws[:, 1]), 1.0)
    assert stats.kstest(np.exp(draws[:, 0]), stats.beta(a, b).cdf).pvalue > 0.001


@pytest.mark.parametrize("a, b", [(6.0, 9.0), (40.0, 300.0), (1300.0, 7900.0)])
def test_overrelaxed_beta_leaves_the_beta_invariant_and_overrelaxes(a, b):
    """One overrelaxed step from exact Beta(a, b) draws gives Beta(a, b) draws again, anticorrelated with the start."""
    rng = np.random.default_rng(3)
    state = new_state(np.random.SeedSequence(3))
    start = stats.beta(a, b).rvs(size=20_000, random_state=rng)
    moved = _overrelaxed_betas(state, a, b, start, -0.98)
    np.testing.assert_allclose(np.exp(moved[:, 0]) + np.exp(moved[:, 1]), 1.0)
    after = np.exp(moved[:, 0])
    assert stats.kstest(after, stats.beta(a, b).cdf).pvalue > 1e-3
    assert np.mean(after != start) > 0.9  # accepted nearly always: the beta is near-normal for shapes >= 5
    # -0.98 for a normal target; lower where the beta's skew makes some reflections rejected
    assert np.corrcoef(start, after)[0, 1] < -0.6


def test_log_beta_draw_stays_finite_for_tiny_shapes():
    rng = new_state(np.random.SeedSequence(1))
    # Shape 1e-3: the draw itself underflows in linear scale; its log must stay finite.
    tiny = _log_beta_draws(rng, 1e-3, 50.0, 200)[:, 0]
    assert np.isfinite(tiny).all() and (tiny < -10).mean() > 0.5


@pytest.mark.parametrize("upper", [10_000, 3])
def test_truncated_negative_binomial_matches_its_law(upper):
    """Untruncated: the negative binomial of scipy; truncated far below the bulk: the renormalised pmf."""
    rng = new_state(np.random.SeedSequence(2))
    successes, p = 20, 0.4
    draws = _truncated_negative_binomials(rng, successes, p, upper, 4000)
    assert draws.min() >= 0 and draws.max() <= upper
    support = np.arange(min(upper, 200) + 1)
    pmf = stats.nbinom.pmf(support, successes, p)
    pmf /= pmf.sum()
    np.testing.assert_allclose(draws.mean(), np.sum(support * pmf), rtol=0.03)


def test_chains_apart_tells_a_stuck_chain_from_too_few_draws():
    rng = np.random.default_rng(3)
    bulk = rng.normal(22_000, 4_500, size=(4, 500))
    assert not chains_apart(bulk, 0.95)
    assert not chains_apart(bulk + np.array([[0], [300], [0], [-300]]), 0.95)  # Monte Carlo-sized differences
    stuck = bulk.copy()
    stuck[2] = rng.normal(12_500, 800, size=500)  # one chain held near 12,500, as on the 5-list UK table
    assert chains_apart(stuck, 0.95)
    with pytest.raises(ValueError, match="level"):
        chains_apart(stuck, 1.5)


def test_auto_budget_shrinks_with_the_patterns_and_is_capped():
    assert auto_sweeps(7, 10_000) == 10_000 * 2**9
    assert auto_sweeps(40, 10_000) == 10_000 * 2**8  # one doubling of the patterns beyond 16
    assert auto_sweeps(5000, 10_000) == 10_000 * 2**4  # at least 4 doublings
    assert auto_sweeps(7, 20) == 20 * 2**9  # a short first run: 9 doublings of it
    assert auto_sweeps(7, 1_000_000) == 10_000 * 2**9  # a long one is not multiplied up
    assert auto_sweeps(7, 8_000_000) == 8_000_000


def test_default_classes():
    assert [default_classes(k) for k in (2, 3, 4, 5, 6)] == [3, 7, 15, 15, 15]


# ------------------------------------------------------------------ the estimator


def test_result_shapes_and_invariants(small_fit, kosovo):
    fit = small_fit
    assert fit.method == "latent_class"
    assert fit.n_observed == kosovo.n_observed == 4400
    assert fit.draws.shape == (2 * 150,)
    assert fit.details["draws by chain"].shape == (2, 150)
    assert (fit.draws >= kosovo.n_observed).all()
    assert (fit.draws <= kosovo.n_observed * 21).all()
    assert np.all(fit.draws == np.round(fit.draws))
    assert fit.estimate == np.median(fit.draws)
    # The result's tail is (1 - 0.95) / 2 = 0.025 + 2e-17, so its quantiles can differ from these in the last bit.
    assert fit.interval == pytest.approx(tuple(np.quantile(fit.draws, [0.025, 0.975])), rel=1e-12)
    assert fit.interval[0] <= fit.estimate <= fit.interval[1]
    for key in ("r_hat", "ess_bulk", "ess_tail"):
        assert np.isfinite(fit.diagnostics[key])
    assert fit.details["K"] == 5
    assert fit.details["iterations per chain"] == 500 + 300 + 150 * 4
    assert len(fit.details["chain spawn keys"]) == 2
    assert 1 <= fit.details["occupied classes"] <= 5
    # The listed-only rate of the latent-class posterior sits well above the independence estimate (7,600).
    assert 8_000 < fit.estimate < 16_000


def test_same_seed_same_draws_whatever_the_threads(kosovo, small_fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = latent_class(kosovo, random_seed=7, n_jobs=1, **SMALL)
        other = latent_class(kosovo, random_seed=8, n_jobs=2, **SMALL)
    np.testing.assert_array_equal(again.draws, small_fit.draws)
    assert not np.array_equal(other.draws, small_fit.draws)
    # Chains are independent streams, not copies.
    chains = small_fit.details["draws by chain"]
    assert not np.array_equal(chains[0], chains[1])


def test_generator_seed_and_progress_bar(capsys):
    h = estimators.load_dataset("CARE1_HAV")
    runs = []
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            runs.append(
                latent_class(h, K=4, chains=2, draws=50, burn=50, thin=1, random_seed=np.random.default_rng(9),
                             progress=True, max_sweeps=None)
            )
    np.testing.assert_array_equal(runs[0].draws, runs[1].draws)
    assert "latent_class chains" in capsys.readouterr().err


def test_poor_mixing_is_reported(kosovo):
    with pytest.warns(ConvergenceWarning, match="ESS|ess"):
        fit = latent_class(kosovo, K=3, chains=2, draws=30, burn=0, thin=1, random_seed=3, max_sweeps=None)
    assert any("ess" in message for message in fit.warnings)


@pytest.mark.parametrize("chains, draws", [(2, 3), (2, 1), (1, 40)])
def test_runs_too_short_to_diagnose_say_so(kosovo, chains, draws):
    # R-hat (and ESS under 4 draws) is nan there, which passed every threshold: no warning at all
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = latent_class(kosovo, K=3, chains=chains, draws=draws, burn=0, thin=1, random_seed=3)
    unchecked = [w for w in caught if "Convergence is unchecked" in str(w.message)]
    assert len(unchecked) == 1 and unchecked[0].category is ConvergenceWarning
    assert any("Convergence is unchecked" in message for message in fit.warnings)


def test_unbounded_posterior_is_reported_not_silently_capped():
    """Three lists that never overlap: nothing bounds N, and the posterior runs into LCMCR's cap.

    Chains wander over a nearly flat posterior (some stay near 2n for thousands of sweeps), so a single short
    fit may report that as disagreeing chains instead. Every fit must warn one way or the other, and over five
    seeds the truncation warning must appear (each short fit reaches the cap about two times in three).
    """
    h = CaptureHistories.from_mapping({"100": 300, "010": 300, "001": 300})
    truncated = []
    for seed in range(5):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = latent_class(h, chains=4, draws=100, burn=1000, thin=2, random_seed=seed, max_sweeps=None)
        kinds = {w.category for w in caught}
        assert kinds & {IdentifiabilityWarning, ConvergenceWarning}
        if IdentifiabilityWarning in kinds:
            assert any("truncation" in message for message in fit.warnings)
            assert fit.interval[1] > 10 * h.n_observed
            truncated.append(seed)
    assert truncated


def test_two_lists_are_flagged_as_not_identified():
    h = CaptureHistories.from_mapping({"10": 400, "01": 400, "11": 40}, lists=["A", "B"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(IdentifiabilityWarning, match="two lists"):
            latent_class(h, chains=1, draws=20, burn=20, thin=1, random_seed=4)


def test_covers_the_truth_on_data_from_the_model():
    """Two classes of very different visibility; N = 3,000 must lie inside the 95% interval."""
    rng = np.random.default_rng(2016)
    h = simulate_latent_classes(
        rng, 3000, weights=[0.6, 0.4], inclusion=[[0.15, 0.2, 0.1, 0.25], [0.6, 0.5, 0.7, 0.55]]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = latent_class(h, K=6, chains=2, draws=400, burn=1000, thin=10, random_seed=11, max_sweeps=None)
    assert fit.interval[0] < 3000 < fit.interval[1]
    assert fit.interval[1] - fit.interval[0] < 1500
    # The independence (one-class) answer would be far too low; the mixture must see the hidden class.
    assert fit.estimate > h.n_observed + 0.5 * (3000 - h.n_observed)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(K=1), "`K` must be an integer >= 2"),
        (dict(K=2.5), "`K` must be an integer >= 2"),
        (dict(chains=0), "`chains` must be an integer >= 1"),
        (dict(draws=0), "`draws` must be an integer >= 1"),
        (dict(burn=-1), "`burn` must be an integer >= 0"),
        (dict(thin=0), "`thin` must be an integer >= 1"),
        (dict(level=1.5), "`level` must be a probability"),
        (dict(alpha_prior=(0.25,)), "`alpha_prior` must be a pair"),
        (dict(alpha_prior=(0.25, -1)), "alpha_prior rate"),
        (dict(random_seed=-3), "`random_seed` must be"),
        (dict(n_jobs=0), "`n_jobs` must be a positive integer, or -1"),
        (dict(n_jobs=-2), "`n_jobs` must be a positive integer, or -1"),
        (dict(n_jobs=1.5), "`n_jobs` must be a positive integer, or -1"),
        (dict(overrelaxation=-1.0), r"`overrelaxation` must be a number in \(-1, 0\]"),
        (dict(overrelaxation=0.5), r"`overrelaxation` must be a number in \(-1, 0\]"),
        (dict(overrelaxation="strong"), r"`overrelaxation` must be a number in \(-1, 0\]"),
        (dict(max_sweeps=0), "`max_sweeps` must be"),
        (dict(max_sweeps=5_000), r"`max_sweeps` \(5,000\) must be at least draws \* thin = 10,000"),
        (dict(max_seconds=0), "`max_seconds` must be"),
        (dict(max_seconds="1 min"), "`max_seconds` must be"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(kosovo, kwargs, match):
    with pytest.raises(ValueError, match=match):
        latent_class(kosovo, **kwargs)


def test_plain_gibbs_is_available_and_recorded(kosovo, small_fit):
    """overrelaxation=0 runs the paper's plain Gibbs sampler: other draws from the same seed, the same posterior
    (the long agreement runs with LCMCR check the default sampler)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = latent_class(kosovo, random_seed=7, overrelaxation=0, **SMALL)
    assert plain.details["overrelaxation"] == 0.0
    assert small_fit.details["overrelaxation"] == -0.98
    assert not np.array_equal(plain.draws, small_fit.draws)
    assert plain.interval[0] < small_fit.estimate < plain.interval[1]


def test_rejects_something_that_is_not_capture_histories():
    with pytest.raises(TypeError, match="CaptureHistories"):
        latent_class(np.array([[1, 0], [0, 1]]))


def test_public_name():
    assert estimators.latent_class is latent_class


# ------------------------------------------------------------------ the adaptive run


@pytest.fixture(scope="module")
def mild_table():
    """A 3-list table whose chains mix within a few extensions of a short first run."""
    return simulate_latent_classes(
        np.random.default_rng(17), 1500, weights=[0.6, 0.4], inclusion=[[0.2, 0.25, 0.3], [0.6, 0.5, 0.7]]
    )


EXTENDED = dict(K=4, chains=2, draws=1000, burn=500, thin=1)


@pytest.fixture(scope="module")
def extended_fit(mild_table):
    return latent_class(mild_table, random_seed=5, **EXTENDED)


def test_extends_until_the_targets_hold_and_says_so(extended_fit):
    fit = extended_fit
    d = fit.details
    assert d["extensions"] >= 1 and d["stopped"] == "targets met"
    # each extension doubles the sweeps and (with draws at 1,000 already) the thinning, keeping 1,000 draws
    assert d["thin"] == 2 ** d["extensions"] and d["first thin"] == 1
    assert d["draws by chain"].shape == (2, 1000) and d["draws per chain"] == 1000
    assert d["sweeps per chain"] == 1000 * d["thin"]
    assert d["iterations per chain"] == 500 + 500 + 1000 * d["thin"]
    assert d["max_sweeps"] == 1000 * 2**9 and d["max_seconds"] is None  # "auto" on 7 patterns
    assert fit.diagnostics["r_hat"] <= 1.01
    assert min(fit.diagnostics["ess_bulk"], fit.diagnostics["ess_tail"]) >= 400
    assert fit.warnings == ()


def test_an_extended_run_is_one_longer_chain_whatever_the_threads(mild_table, extended_fit):
    """The chains continue from where they stopped: the extended draws are every 2**e-th draw of one fixed run
    of the same total length from the same seed (e extensions), with one thread or two."""
    step = 2 ** extended_fit.details["extensions"]
    fixed = latent_class(mild_table, random_seed=5, n_jobs=1, **{**EXTENDED, "draws": 1000 * step, "max_sweeps": None})
    np.testing.assert_array_equal(extended_fit.details["draws by chain"],
                                  fixed.details["draws by chain"][:, step - 1 :: step])
    again = latent_class(mild_table, random_seed=5, n_jobs=1, **EXTENDED)
    np.testing.assert_array_equal(again.draws, extended_fit.draws)


@pytest.mark.parametrize("budget", [dict(max_sweeps=2000), dict(max_seconds=1e-6)])
def test_a_spent_budget_is_reported(mild_table, budget):
    with pytest.warns(ConvergenceWarning, match="stopped at its budget"):
        fit = latent_class(mild_table, random_seed=5, **{**EXTENDED, **budget})
    name = next(iter(budget))
    assert fit.details["stopped"] == f"{name} reached"
    assert fit.details["sweeps per chain"] <= 2000
    assert any(f"raise `{name}`" in message for message in fit.warnings)


def test_a_short_run_keeps_its_draws_until_there_are_enough_for_the_ess_target(mild_table):
    """From 100 draws per chain, extensions keep every draw up to 800 (an ESS of 400 from 2 x 100 draws would
    need anticorrelated draws), then thin: 800 sweeps at thin 1, 1,600 at thin 2, 3,200 at thin 4 (the budget)."""
    with pytest.warns(ConvergenceWarning, match="max_sweeps=3,200"):
        fit = latent_class(mild_table, random_seed=5, **{**EXTENDED, "draws": 100, "max_sweeps": 3200})
    d = fit.details
    assert d["draws by chain"].shape == (2, 800) and d["draws per chain"] == 800
    assert d["thin"] == 4 and d["sweeps per chain"] == 3200 and d["extensions"] == 5


def test_a_fixed_run_is_not_extended(small_fit):
    assert small_fit.details["extensions"] == 0
    assert small_fit.details["stopped"] == "fixed length (max_sweeps=None)"
    assert small_fit.details["thin"] == 4


# ------------------------------------------------------------------ agreement with LCMCR (long chains)


@pytest.mark.slow
@pytest.mark.parametrize(
    "dataset, burn, thin, draws",
    [
        ("LCMCR_kosovo", 10_000, 80, 2500),
        ("CARE1_HAV", 10_000, 40, 2500),
        # On the sparse 5-list UK table the Gibbs sampler (LCMCR's too) can sit for 10^5 sweeps in a state with
        # few classes and N near 12,000 before reaching the bulk of the posterior near 22,000: long burn-in, and
        # chains twice as long, as a chain held there a while sets the ESS (with 2,500 draws, min(bulk, tail) ESS
        # ranged 29-2,778 over seeds with plain Gibbs and 70-4,813 with the default sampler; 253 on this seed).
        # Since the faster sweep (d434f13) this seed's chains drift onto a trajectory held in that state: R-hat
        # 1.037, lower bound 12,977 against 15,642. A known limit of the Gibbs sampler (a split-merge or tempered
        # move is the fix), kept visible as an expected failure rather than hidden by another seed.
        pytest.param("SparseMSE_UKdat_5", 300_000, 200, 5000, marks=pytest.mark.xfail(
            reason="Gibbs sampler held near N = 12,500 on this seed (no split-merge move)", strict=False)),
    ],
)
def test_agrees_with_lcmcr(peers, dataset, burn, thin, draws):
    """Median within 3% and 95% bounds within 8% of LCMCR 0.4.14 run with the same K and prior.

    LCMCR's own run-to-run variation on Kosovo is about 1% on the median and 8% on the upper bound
    (shared/reference/README.md), so both sides need long chains.
    """
    reference = peer_row(peers, dataset, LCMCR)
    h = estimators.load_dataset(dataset)
    fit = latent_class(h, K=10, chains=4, draws=draws, burn=burn, thin=thin, random_seed=20240601, max_sweeps=None)
    print(
        f"{dataset}: ours {fit.estimate:.0f} [{fit.interval[0]:.0f}, {fit.interval[1]:.0f}], LCMCR "
        f"{reference.estimate:.0f} [{reference.lower:.0f}, {reference.upper:.0f}]; R-hat "
        f"{fit.diagnostics['r_hat']:.4f}, ESS {fit.diagnostics['ess_bulk']:.0f}/{fit.diagnostics['ess_tail']:.0f}"
    )
    # 1.02, not the warning threshold 1.01: on the UK table R-hat of N sits near 1.01 even with ESS ~2,000,
    # chains lingering unequally in the low-N state (with 100,000 sweeps of burn-in, one fit in three over
    # seeds 1-3 had a chain held near N = 12,500 for the whole run, R-hat 1.5, which the fit reports as a
    # ConvergenceWarning); the agreement below is the point of this test.
    assert fit.diagnostics["r_hat"] < 1.02
    assert min(fit.diagnostics["ess_bulk"], fit.diagnostics["ess_tail"]) > 400
    assert fit.estimate == pytest.approx(reference.estimate, rel=0.03)
    assert fit.interval[0] == pytest.approx(reference.lower, rel=0.08)
    assert fit.interval[1] == pytest.approx(reference.upper, rel=0.08)
