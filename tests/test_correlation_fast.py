"""The fast paths of metajudge.metrics.correlation against the slow, obvious computations.

- table path (few distinct values): the table built from integer codes is the table of ``np.unique`` on the
  values, the estimate is scipy's on the raw rows (1e-12), and the bootstrap is bitwise the multinomial draw of
  that table with the same seed;
- continuous path: each bootstrap replicate (weighted midranks from cumulative counts over the pre-sorted
  order; weighted moments for Pearson) equals scipy on the resampled rows to 1e-12, and the intervals agree with
  an item-resampling loop within sampling error;
- the Fisher-z fallback above ``SPEARMAN_BOOTSTRAP_MAX`` / ``PEARSON_BOOTSTRAP_MAX`` (constants patched small)
  is labelled in ``method`` and ``note``;
- seeding: the same inputs and seed give the same Estimate.

No timings here: benchmarks/run.py (P7, P8) measures them.
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest
from scipy import stats as sps

import metajudge as mj
from metajudge.metrics import correlation
from metajudge.metrics import kernels as K
from metajudge.metrics.bootstrap import percentile_interval

C = sys.modules["metajudge.metrics.correlation"]  # the module (the package re-exports a function of that name)

TOL = 1e-12
KINDS = [("pearson", "b"), ("spearman", "b"), ("kendall_tau", "b"), ("kendall_tau", "c")]


def mj_corr(kind, variant, x, y, **kw):
    return correlation(x, y, kind=kind, variant=variant, **kw)


def scipy_corr(kind, variant, x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if kind == "pearson":
        return sps.pearsonr(x, y).statistic
    if kind == "spearman":
        return sps.spearmanr(x, y).statistic
    return sps.kendalltau(x, y, variant=variant).statistic


def likert(rng, n, k=5, noise=0.4):
    a = rng.integers(1, k + 1, n)
    b = np.where(rng.random(n) < noise, np.clip(a + rng.integers(-2, 3, n), 1, k), a)
    return a, b


def _width(e):
    return e.ci_high - e.ci_low


# ================================================================================== table path: estimates
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind,variant", KINDS)
def test_table_path_vs_scipy_on_rows(seed, kind, variant):
    rng = np.random.default_rng(seed)
    a, b = likert(rng, 700)
    cases = [
        (a, b, {}, a, b),                                              # int64 codes, offset coding
        (a, b, {"levels": [1, 2, 3, 4, 5]}, a, b),                     # declared levels, lookup-table codes
        (a.astype(np.int8), b.astype(np.int16), {}, a, b),             # narrow integer dtypes
        (a.astype(float), b.astype(float), {}, a, b),                  # whole numbers stored as floats
        (a / 2, b / 2 + 0.25, {}, a / 2, b / 2 + 0.25),                # fractional values: the sort path
        (a * 10**9, np.where(b == 5, 9, b), {}, a * 10**9, np.where(b == 5, 9, b)),  # wide span, uneven spacing
    ]
    scale = ["poor", "fair", "good", "very good", "excellent"]
    lab = np.array(scale, dtype=object)
    cases.append((list(lab[a - 1]), list(lab[b - 1]), {"levels": scale}, a - 1, b - 1))  # strings: codes 0..4
    for x, y, kw, xr, yr in cases:
        e = mj_corr(kind, variant, x, y, n_resamples=0, **kw)
        assert e.method == "none" and e.n == len(xr)
        assert e.estimate == pytest.approx(scipy_corr(kind, variant, xr, yr), abs=TOL)


@pytest.mark.parametrize("kind,variant", KINDS)
def test_table_path_missing_values_dropped_jointly(kind, variant):
    rng = np.random.default_rng(5)
    a, b = likert(rng, 600)
    x, y = a.astype(float), b.astype(float)
    x[rng.random(600) < 0.1] = np.nan
    y[rng.random(600) < 0.1] = np.nan
    ok = ~(np.isnan(x) | np.isnan(y))
    for kw in ({}, {"levels": [1, 2, 3, 4, 5]}):
        e = mj_corr(kind, variant, x, y, n_resamples=0, **kw)
        assert e.n == ok.sum() and f"{(~ok).sum()} pair(s)" in e.note
        assert e.estimate == pytest.approx(scipy_corr(kind, variant, x[ok], y[ok]), abs=TOL)


@pytest.mark.parametrize("kind,variant", KINDS)
def test_numeric_levels_declared_out_of_order_use_the_values(kind, variant):
    # numeric levels are numbers: the correlation is that of the values, whatever order they are listed in
    rng = np.random.default_rng(6)
    a, b = likert(rng, 400)
    up = mj_corr(kind, variant, a, b, levels=[1, 2, 3, 4, 5], rng=1, n_resamples=200)
    down = mj_corr(kind, variant, a, b, levels=[5, 4, 3, 2, 1], rng=1, n_resamples=200)
    wide = mj_corr(kind, variant, a, b, levels=list(range(0, 12)), rng=1, n_resamples=200)  # unused levels
    assert up == down == wide


def _plain_table_estimate(kind, variant, x, y, n_resamples, seed, confidence_level=0.95):
    """The obvious table bootstrap: np.unique on the float values, bincount, multinomial draws of the table."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ux, ix = np.unique(x, return_inverse=True)
    uy, iy = np.unique(y, return_inverse=True)
    table = np.bincount(ix * len(uy) + iy, minlength=len(ux) * len(uy)).reshape(len(ux), len(uy)).astype(float)
    kernel = C._table_kernel(kind, variant, ux, uy)
    with np.errstate(invalid="ignore", divide="ignore"):
        point = float(kernel(table))
        n = len(x)
        reps = np.random.default_rng(seed).multinomial(n, table.ravel() / n, size=n_resamples)
        reps = kernel(reps.reshape(n_resamples, len(ux), len(uy)).astype(float))
    lo, hi, _ = percentile_interval(reps, confidence_level)
    return point, lo, hi


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind,variant", KINDS)
def test_table_bootstrap_is_the_multinomial_draw_of_the_unique_table(seed, kind, variant):
    rng = np.random.default_rng(10 + seed)
    a, b = likert(rng, 2_000, k=7)
    b = np.where(b == 3, 4, b)  # a level the candidate never uses
    exp = _plain_table_estimate(kind, variant, a, b, 500, seed)
    for x, y, kw in ((a, b, {}), (a, b, {"levels": list(range(1, 8))}), (a.astype(float), b.astype(float), {}),
                     ([str(v) for v in a], [str(v) for v in b], {"levels": [str(v) for v in range(1, 8)]})):
        e = mj_corr(kind, variant, x, y, n_resamples=500, rng=seed, **kw)
        assert e.method == "bootstrap-multinomial"
        assert (e.estimate, e.ci_low, e.ci_high) == exp  # bitwise: same table, same seed, same draws


@pytest.mark.parametrize("kind,variant", KINDS)
def test_many_integer_levels_take_the_continuous_path(kind, variant):
    rng = np.random.default_rng(7)
    x = rng.integers(0, 100, 500)
    y = x + rng.integers(-20, 21, 500)
    for kw in ({}, {"levels": list(range(-20, 121))}):
        e = mj_corr(kind, variant, x, y, n_resamples=50, rng=0, **kw)
        assert e.method == "bootstrap"
        assert e.estimate == pytest.approx(scipy_corr(kind, variant, x, y), abs=TOL)


# ============================================================================ continuous path: replicates
def _continuous_data(rng, n, case):
    x = rng.normal(size=n)
    y = 0.6 * x + rng.normal(size=n)
    if case == "ties":
        x, y = np.round(x, 2), np.round(y * 0.5, 2)  # > 64 distinct values, many ties on both sides
    elif case == "one_side_likert":
        y = np.clip(np.round(y + 3), 1, 5)  # 5 values on the candidate side: still the continuous path
    return x, y


def _resample(x, y, sx, sy, cidx, gen, n_units):
    """Draw units, return (unit counts (1, n_units), the resampled rows) in the unit convention of
    _ContinuousResample: the items in the reference's sorted order, or the clusters."""
    draw = gen.integers(0, n_units, n_units)
    wu = np.bincount(draw, minlength=n_units)[None, :]
    if cidx is None:
        rows = sx.order[draw]
    else:
        members = [np.flatnonzero(cidx == u) for u in range(n_units)]
        rows = np.concatenate([members[u] for u in draw])
    return wu, rows


@pytest.mark.parametrize("case", ["distinct", "ties", "one_side_likert"])
@pytest.mark.parametrize("clustered", [False, True])
def test_continuous_replicates_vs_scipy_on_resampled_rows(case, clustered):
    rng = np.random.default_rng([len(case), int(clustered)])
    n = 240
    x, y = _continuous_data(rng, n, case)
    cidx = np.repeat(np.arange(n // 3), 3)[rng.permutation(n)] if clustered else None
    sx, sy = C._sort_side(x), C._sort_side(y)
    assert max(len(sx.values), len(sy.values)) > C.MAX_TABLE_VALUES
    assert (sx.ties, sy.ties) == {"distinct": (False, False), "ties": (True, True),
                                  "one_side_likert": (False, True)}[case]
    res = C._ContinuousResample.build(sx, sy, cidx)
    stats = C._pearson_unit_stats(x, y, res, cidx)
    gen = np.random.default_rng(1)
    for _ in range(25):
        wu, rows = _resample(x, y, sx, sy, cidx, gen, res.n_units)
        rho = res.spearman(wu)[0]
        r = C._pearson_from_moments(np.einsum("ij,kj->ik", wu, stats))[0]
        assert rho == pytest.approx(sps.spearmanr(x[rows], y[rows]).statistic, abs=TOL)
        assert r == pytest.approx(sps.pearsonr(x[rows], y[rows]).statistic, abs=TOL)


def test_continuous_replicates_in_blocks_equal_one_by_one():
    rng = np.random.default_rng(3)
    x, y = _continuous_data(rng, 150, "ties")
    sx, sy = C._sort_side(x), C._sort_side(y)
    res = C._ContinuousResample.build(sx, sy, None)
    draws = rng.integers(0, 150, (40, 150))
    block = res.spearman(C._unit_counts(draws, 150))
    single = np.concatenate([res.spearman(C._unit_counts(d[None, :], 150)) for d in draws])
    assert np.array_equal(block, single)


def test_degenerate_replicate_is_nan():
    # all draws on items with one candidate value: the replicate is 0/0, NaN (not a rounding artefact)
    rng = np.random.default_rng(4)
    x = rng.normal(size=100)
    y = np.where(np.arange(100) < 3, 2.0, 1.0) + 0.0 * x
    sx, sy = C._sort_side(x), C._sort_side(y)
    res = C._ContinuousResample.build(sx, sy, None)
    stats = C._pearson_unit_stats(x, y, res, None)
    wu = np.zeros((1, 100), dtype=np.int64)
    pos = np.flatnonzero(y[sx.order] == 1.0)  # units are reference-sorted positions
    wu[0, pos[:50]] = 2
    assert np.isnan(res.spearman(wu)[0])
    assert np.isnan(C._pearson_from_moments(np.einsum("ij,kj->ik", wu, stats))[0])


# ========================================================================== intervals vs a resampling loop
def _loop_interval(fn, x, y, n_resamples, seed, clusters=None):
    gen = np.random.default_rng(seed)
    reps = []
    if clusters is None:
        for _ in range(n_resamples):
            idx = gen.integers(0, len(x), len(x))
            reps.append(fn(x[idx], y[idx]))
    else:
        ids = np.unique(clusters)
        members = {u: np.flatnonzero(clusters == u) for u in ids}
        for _ in range(n_resamples):
            idx = np.concatenate([members[u] for u in gen.choice(ids, len(ids))])
            reps.append(fn(x[idx], y[idx]))
    reps = np.asarray(reps)
    return np.quantile(reps[np.isfinite(reps)], [0.025, 0.975])


LOOP_FNS = {"spearman": lambda a, b: sps.spearmanr(a, b).statistic,
            "pearson": lambda a, b: sps.pearsonr(a, b).statistic,
            "kendall_tau": lambda a, b: sps.kendalltau(a, b).statistic}


@pytest.mark.parametrize("kind", ["spearman", "pearson"])
@pytest.mark.parametrize("case", ["distinct", "ties", "likert", "clustered"])
def test_interval_vs_item_resampling_loop(kind, case):
    rng = np.random.default_rng(20 + len(case))
    n = 300
    clusters = None
    if case == "likert":
        x, y = likert(rng, n)
        x, y = x.astype(float), y.astype(float)
    else:
        x, y = _continuous_data(rng, n, "ties" if case == "ties" else "distinct")
    if case == "clustered":
        base = np.arange(n // 3)
        clusters = np.repeat(base, 3)
        x, y = np.repeat(x[:n // 3], 3) + 0.05 * rng.normal(size=n), np.repeat(y[:n // 3], 3) + 0.05 * rng.normal(size=n)
    e = mj_corr(kind, "b", x, y, n_resamples=2000, rng=3, clusters=clusters)
    expected = {"likert": "bootstrap-multinomial", "clustered": "bootstrap-cluster"}.get(case, "bootstrap")
    assert e.method == expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo, hi = _loop_interval(LOOP_FNS[kind], x, y, 2000, 98, clusters)
    width = hi - lo
    # two independent 2,000-replicate bootstraps: the percentile endpoints differ by a few % of the width
    assert e.ci_low == pytest.approx(lo, abs=0.1 * width)
    assert e.ci_high == pytest.approx(hi, abs=0.1 * width)


# ============================================================================================ Fisher-z fallback
def _fisher(r, var, level=0.95):
    q = sps.norm.isf((1 - level) / 2) * math.sqrt(var)
    z = math.atanh(r)
    return math.tanh(z - q), math.tanh(z + q)


@pytest.mark.parametrize("kind,const,label", [("spearman", "SPEARMAN_BOOTSTRAP_MAX", "Spearman"),
                                              ("pearson", "PEARSON_BOOTSTRAP_MAX", "Pearson")])
def test_fisher_z_fallback_above_threshold(monkeypatch, kind, const, label):
    rng = np.random.default_rng(8)
    x, y = _continuous_data(rng, 500, "distinct")
    monkeypatch.setattr(C, const, 500)
    at = mj_corr(kind, "b", x, y, n_resamples=200, rng=0)
    assert at.method == "bootstrap" and at.note == ""  # at the threshold: still the bootstrap
    monkeypatch.setattr(C, const, 499)
    e = mj_corr(kind, "b", x, y, n_resamples=200, rng=0)
    assert e.method == "fisher-z"
    assert e.note == f"Fisher-z interval: {label} bootstrap on 500 continuous pairs exceeds 499"
    r = e.estimate
    var = (1 + r * r / 2) / 497 if kind == "spearman" else 1 / 497  # Bonett–Wright / Fisher
    assert (e.ci_low, e.ci_high) == pytest.approx(_fisher(r, var), abs=1e-12)
    assert e.estimate == at.estimate
    # explicitly requested: the same interval, no note
    f = mj_corr(kind, "b", x, y, method="fisher-z")
    assert (f.method, f.note, f.ci_low, f.ci_high) == ("fisher-z", "", e.ci_low, e.ci_high)
    # no resamples asked for: no interval, no fallback
    assert mj_corr(kind, "b", x, y, n_resamples=0).method == "none"
    # few distinct values: the exact table bootstrap is cheap at any size, never the fallback
    a, b = likert(rng, 600)
    assert mj_corr(kind, "b", a, b, n_resamples=100).method == "bootstrap-multinomial"


def test_fisher_z_fallback_with_clusters_uses_items(monkeypatch):
    rng = np.random.default_rng(9)
    x, y = _continuous_data(rng, 600, "distinct")
    monkeypatch.setattr(C, "SPEARMAN_BOOTSTRAP_MAX", 100)
    e = mj.spearman(x, y, clusters=np.repeat(np.arange(200), 3), n_resamples=100)
    assert e.method == "fisher-z" and e.n == 200
    assert (e.ci_low, e.ci_high) == pytest.approx(_fisher(e.estimate, (1 + e.estimate ** 2 / 2) / 197), abs=1e-12)


def test_kendall_fallback_unchanged(monkeypatch):
    rng = np.random.default_rng(10)
    x, y = _continuous_data(rng, 300, "distinct")
    monkeypatch.setattr(C, "KENDALL_BOOTSTRAP_MAX", 100)
    e = mj.kendall_tau(x, y, n_resamples=100)
    assert e.method == "fisher-z"
    assert e.note == "Fisher-z interval: Kendall bootstrap on 300 continuous pairs exceeds 100"
    assert (e.ci_low, e.ci_high) == pytest.approx(_fisher(e.estimate, 0.437 / 296), abs=1e-12)


def test_thresholds_are_documented_sizes():
    assert C.SPEARMAN_BOOTSTRAP_MAX >= 100_000  # P7 (1e5 continuous pairs) is bootstrapped
    assert C.PEARSON_BOOTSTRAP_MAX >= C.SPEARMAN_BOOTSTRAP_MAX
    for name in ("SPEARMAN_BOOTSTRAP_MAX", "PEARSON_BOOTSTRAP_MAX"):
        assert name in (C.__doc__ or "")


# ================================================================================================== seeding
@pytest.mark.parametrize("kind", ["spearman", "pearson"])
@pytest.mark.parametrize("case", ["distinct", "ties", "clustered"])
def test_continuous_bootstrap_is_seeded(kind, case):
    rng = np.random.default_rng(11)
    x, y = _continuous_data(rng, 400, "ties" if case == "ties" else "distinct")
    cl = np.repeat(np.arange(200), 2) if case == "clustered" else None
    a = mj_corr(kind, "b", x, y, clusters=cl, n_resamples=300, rng=5)
    assert a == mj_corr(kind, "b", x, y, clusters=cl, n_resamples=300, rng=5)
    assert a == mj_corr(kind, "b", x, y, clusters=cl, n_resamples=300, rng=np.random.default_rng(5))
    assert a == mj_corr(kind, "b", list(x), list(y), clusters=cl, n_resamples=300, rng=5)
    b = mj_corr(kind, "b", x, y, clusters=cl, n_resamples=300, rng=6)
    assert (a.ci_low, a.ci_high) != (b.ci_low, b.ci_high)
    d = mj_corr(kind, "b", x, y, clusters=cl, n_resamples=300)  # None means seed 0
    assert d == mj_corr(kind, "b", x, y, clusters=cl, n_resamples=300, rng=0)


def test_large_likert_table_path_vs_scipy():
    # the size of benchmark P8, scaled down: one bincount over code pairs, exact against scipy on the rows
    rng = np.random.default_rng(12)
    a, b = likert(rng, 200_000)
    for kind, variant in KINDS:
        e = mj_corr(kind, variant, a, b, levels=[1, 2, 3, 4, 5], n_resamples=0)
        assert e.estimate == pytest.approx(scipy_corr(kind, variant, a, b), abs=TOL)
    t = np.bincount((a - 1) * 5 + (b - 1), minlength=25).reshape(5, 5).astype(float)
    assert mj.spearman(a, b, n_resamples=0).estimate == pytest.approx(float(K.spearman_table(t)), abs=TOL)
