"""Properties every metric must have, looped over the registries (METRICS.md §2, §3, §7).

perfect agreement, permutation invariance, symmetry, relabelling, input types, seeding, joint NaN dropping
(trap 5), undefined values (trap 6), declared order (trap 1), and the cluster bootstrap.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import metajudge as mj
from metajudge.metrics import TABLE_METRICS

ALL_TABLE = sorted(TABLE_METRICS)
BINARY = [m for m in ALL_TABLE if TABLE_METRICS[m].binary]
ORDERED = [m for m in ALL_TABLE if TABLE_METRICS[m].ordered]
NOMINAL = [m for m in ALL_TABLE if not TABLE_METRICS[m].ordered and not TABLE_METRICS[m].binary]
SYMMETRIC = ["percent_agreement", "accuracy", "cohen_kappa", "cohen_kappa_linear", "cohen_kappa_quadratic",
             "scott_pi", "gwet_ac1", "gwet_ac2_linear", "gwet_ac2_quadratic", "pabak",
             "krippendorff_alpha_nominal", "krippendorff_alpha_ordinal", "krippendorff_alpha_interval", "mcc"]
#: chance-corrected metrics that are 0/0 when every rating falls in one category
CHANCE_CORRECTED = ["cohen_kappa", "cohen_kappa_linear", "cohen_kappa_quadratic", "scott_pi",
                    "krippendorff_alpha_nominal", "krippendorff_alpha_ordinal", "krippendorff_alpha_interval", "mcc"]
CORR = [("pearson", "b"), ("spearman", "b"), ("kendall_tau", "b"), ("kendall_tau", "c")]


def corr(kind, variant, x, y, **kw):
    if kind == "pearson":
        return mj.pearson(x, y, **kw)
    if kind == "spearman":
        return mj.spearman(x, y, **kw)
    return mj.kendall_tau(x, y, variant=variant, **kw)


def sample(name, n=200, seed=0):
    """Correlated (reference, candidate) int codes suited to the metric: binary 0/1, else 0..3."""
    rng = np.random.default_rng(seed)
    k = 2 if TABLE_METRICS[name].binary else 4
    ref = rng.integers(0, k, n)
    cand = np.where(rng.random(n) < 0.6, ref, rng.integers(0, k, n))
    return ref, cand, list(range(k))


def one(name, ref, cand, **kw):
    if TABLE_METRICS[name].binary:
        kw.setdefault("positive", 1)
    return mj.table_estimates(ref, cand, [name], **kw)[name]


def same(a: mj.Estimate, b: mj.Estimate) -> bool:
    """Bitwise equality of two Estimates (NaN equal to NaN)."""
    for f in ("estimate", "ci_low", "ci_high", "confidence_level"):
        x, y = getattr(a, f), getattr(b, f)
        if not (x == y or (math.isnan(x) and math.isnan(y))):
            return False
    return (a.metric, a.n, a.method, a.note) == (b.metric, b.n, b.method, b.note)


# ============================================================================================ registry sanity
def test_registry_names_and_flags():
    assert {"cohen_kappa", "scott_pi", "gwet_ac1", "pabak", "percent_agreement", "mcc"} <= set(NOMINAL)
    assert {"cohen_kappa_linear", "cohen_kappa_quadratic", "krippendorff_alpha_ordinal"} <= set(ORDERED)
    assert {"precision", "recall", "f1"} <= set(BINARY)
    for name, spec in TABLE_METRICS.items():
        assert spec.name == name


# ============================================================================================ perfect agreement
@pytest.mark.parametrize("name", [m for m in ALL_TABLE if m != "kendall_tau_c"])
def test_perfect_agreement_gives_one(name):
    # (τ-c reaches 1 on a perfect diagonal only when the levels are equally frequent; tested elsewhere)
    ref, _, levels = sample(name)
    e = one(name, ref, ref.copy(), levels=levels, n_resamples=200)
    assert e.estimate == pytest.approx(1.0, abs=1e-12)
    assert e.note == ""


@pytest.mark.parametrize("kind,variant", CORR)
def test_correlation_perfect_monotone_gives_one(kind, variant):
    x = np.repeat(np.arange(5), 20)
    y = x * 2.0 + 1  # linear, so Pearson is 1 too
    assert corr(kind, variant, x, y, n_resamples=0).estimate == pytest.approx(1.0, abs=1e-12)
    xc = np.linspace(0, 1, 300)
    assert corr(kind, variant, xc, 3 * xc - 2, n_resamples=0).estimate == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_multirater_perfect_agreement(level):
    truth = np.tile([1.0, 2, 3, 4], 10)
    r = np.column_stack([truth] * 4)
    r[::3, 1] = np.nan
    assert mj.krippendorff_alpha(r, level=level, n_resamples=0).estimate == pytest.approx(1.0, abs=1e-12)
    assert mj.fleiss_kappa(np.column_stack([truth] * 4), n_resamples=0).estimate == pytest.approx(1.0, abs=1e-12)


# ============================================================================================ undefined values
@pytest.mark.parametrize("name", CHANCE_CORRECTED)
@pytest.mark.parametrize("declared", [False, True])
def test_single_category_is_nan_with_note_and_warning(name, declared):
    ref = np.full(30, 2)
    kw = {"levels": [0, 1, 2, 3]} if declared else {}
    with pytest.warns(mj.UndefinedMetricWarning):
        e = one(name, ref, ref.copy(), **kw)
    assert math.isnan(e.estimate), f"{name} on one category must be NaN (never 0 or 1); got {e.estimate}"
    assert "undefined" in e.note
    # percent agreement stays defined
    assert one("percent_agreement", ref, ref.copy(), **kw).estimate == 1.0


@pytest.mark.parametrize("name", ALL_TABLE)
def test_single_category_any_nan_is_explained(name):
    # whatever a metric does on one category, a NaN never comes without a note and a warning
    ref = np.ones(25, dtype=int)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        e = one(name, ref, ref.copy(), levels=[0, 1], n_resamples=100)
    undefined_warned = any(issubclass(x.category, mj.UndefinedMetricWarning) for x in w)
    if math.isnan(e.estimate):
        assert e.note and undefined_warned
    else:
        assert -1.0 <= e.estimate <= 1.0 and not undefined_warned


EMPTY_INPUTS = pytest.mark.parametrize(
    "data", [[], np.array([], dtype=float), [None, None], [float("nan"), float("nan")]],
    ids=["list", "ndarray", "all-none", "all-nan"])


def _copy(data):
    return list(data) if isinstance(data, list) else data.copy()


def _empty_kw(name):
    # binary metrics get positive=1 from one(); declare the levels so the positive class is known
    return {"levels": [0, 1]} if TABLE_METRICS[name].binary else {}


@EMPTY_INPUTS
def test_empty_input_is_nan_with_note(data):
    for name in ALL_TABLE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mj.UndefinedMetricWarning)
            e = one(name, data, _copy(data), n_resamples=100, **_empty_kw(name))
        assert math.isnan(e.estimate) and math.isnan(e.ci_low) and math.isnan(e.ci_high), name
        assert e.note, name
        assert e.n == 0, name


@EMPTY_INPUTS
def test_empty_input_warns_BUG_table_estimates_no_warning_on_zero_pairs(data):
    """METRICS.md §2: undefined values ("no pairs") are NaN **with a warning** and a note.

    BUG (metajudge/metrics/agreement.py, table_estimates): the ``len(ref) == 0`` branch appends the note
    "undefined: no pairs with both values" but never calls ``warn_undefined``, so empty input (or input whose
    pairs are all missing) emits no UndefinedMetricWarning. Fix: call
    ``warn_undefined(f"{spec.name} is undefined: no pairs with both values")`` in that branch.
    """
    silent = []
    for name in ALL_TABLE:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            one(name, data, _copy(data), n_resamples=100, **_empty_kw(name))
        if not any(issubclass(x.category, mj.UndefinedMetricWarning) for x in w):
            silent.append(name)
    assert not silent, f"no UndefinedMetricWarning on empty input from: {silent}"


@pytest.mark.parametrize("kind,variant", CORR)
@pytest.mark.parametrize("x,y", [
    (np.full(50, 3.0), np.arange(50.0)),                    # constant reference, continuous other side
    (np.arange(50) % 5, np.full(50, 2)),                     # constant candidate, Likert
    (np.array([], dtype=float), np.array([], dtype=float)),  # empty
    (np.array([1.0]), np.array([2.0])),                      # one pair
], ids=["const-ref", "const-cand", "empty", "one-pair"])
def test_correlation_degenerate_nan_with_note_and_warning(kind, variant, x, y):
    with pytest.warns(mj.UndefinedMetricWarning):
        e = corr(kind, variant, x, y)
    assert math.isnan(e.estimate)
    assert e.note


def test_multirater_degenerate():
    with pytest.warns(mj.UndefinedMetricWarning):
        e = mj.fleiss_kappa(np.full((10, 3), 2))
    assert math.isnan(e.estimate) and e.note
    with pytest.warns(mj.UndefinedMetricWarning):
        e = mj.krippendorff_alpha(np.full((10, 3), 2.0), level="ordinal")
    assert math.isnan(e.estimate) and e.note
    with pytest.warns(mj.UndefinedMetricWarning):  # no unit with two values
        e = mj.krippendorff_alpha(np.array([[1.0, np.nan], [np.nan, 2.0]]), level="nominal")
    assert math.isnan(e.estimate) and "2 unit" in e.note


# ============================================================================================ permutation / symmetry
@pytest.mark.parametrize("name", ALL_TABLE)
def test_item_permutation_invariance(name):
    ref, cand, levels = sample(name, seed=3)
    perm = np.random.default_rng(5).permutation(len(ref))
    a = one(name, ref, cand, levels=levels, rng=7)
    b = one(name, ref[perm], cand[perm], levels=levels, rng=7)
    assert same(a, b)  # same table, same seed: bitwise the same Estimate


@pytest.mark.parametrize("kind,variant", CORR)
@pytest.mark.parametrize("continuous", [False, True])
def test_correlation_item_permutation_and_symmetry(kind, variant, continuous):
    rng = np.random.default_rng(4)
    x = rng.normal(size=300) if continuous else rng.integers(1, 6, 300).astype(float)
    y = x + rng.normal(size=300) if continuous else np.clip(x + rng.integers(-1, 2, 300), 1, 5)
    perm = rng.permutation(300)
    base = corr(kind, variant, x, y, n_resamples=0).estimate
    assert corr(kind, variant, x[perm], y[perm], n_resamples=0).estimate == pytest.approx(base, abs=1e-12)
    assert corr(kind, variant, y, x, n_resamples=0).estimate == pytest.approx(base, abs=1e-12)


@pytest.mark.parametrize("name", SYMMETRIC)
def test_symmetric_metrics_swap_reference_candidate(name):
    ref, cand, levels = sample(name, seed=8)
    a = one(name, ref, cand, levels=levels, n_resamples=0)
    b = one(name, cand, ref, levels=levels, n_resamples=0)
    assert a.estimate == pytest.approx(b.estimate, abs=1e-12)


@pytest.mark.parametrize("name", ["precision", "recall", "balanced_accuracy", "tnr"])
def test_asymmetric_metrics_do_change_on_swap(name):
    # guard: the swap above is a real test (these are not symmetric on the same data)
    ref, cand, levels = sample(name, seed=8)
    cand = np.where(np.arange(len(ref)) % 7 == 0, 1, cand)  # make the candidate say "1" more often
    a = one(name, ref, cand, levels=[0, 1] if TABLE_METRICS[name].binary else levels, n_resamples=0)
    b = one(name, cand, ref, levels=[0, 1] if TABLE_METRICS[name].binary else levels, n_resamples=0)
    assert abs(a.estimate - b.estimate) > 1e-6


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_multirater_item_and_rater_permutation(level):
    rng = np.random.default_rng(2)
    truth = rng.integers(1, 6, 80)
    r = np.clip(truth[:, None] + rng.integers(-1, 2, (80, 4)), 1, 5).astype(float)
    r[rng.random(r.shape) < 0.15] = np.nan
    base = mj.krippendorff_alpha(r, level=level, rng=3)
    items = rng.permutation(80)
    raters = [2, 0, 3, 1]
    assert same(base, mj.krippendorff_alpha(r[items][:, raters], level=level, rng=3))
    f = mj.fleiss_kappa(np.nan_to_num(r, nan=3.0), rng=3)
    g = mj.fleiss_kappa(np.nan_to_num(r, nan=3.0)[items][:, raters], rng=3)
    # the point estimate sums per-item terms in input order (last-bit differences); the CI uses patterns
    assert g.estimate == pytest.approx(f.estimate, abs=1e-12)
    assert (g.ci_low, g.ci_high, g.n) == (f.ci_low, f.ci_high, f.n)


# ============================================================================================ relabelling
@pytest.mark.parametrize("name", NOMINAL)
def test_nominal_relabelling_invariance(name):
    ref, cand, _ = sample(name, seed=9)
    names_a = np.array(["apple", "banana", "cherry", "date"], dtype=object)
    names_b = np.array(["zeta", "alpha", "mu", "beta"], dtype=object)  # a permutation of the sorted order
    a = one(name, list(names_a[ref]), list(names_a[cand]), n_resamples=0)
    b = one(name, list(names_b[ref]), list(names_b[cand]), n_resamples=0)
    assert a.estimate == pytest.approx(b.estimate, abs=1e-12)


@pytest.mark.parametrize("name", BINARY + ["mcc", "cohen_kappa", "balanced_accuracy"])
def test_binary_relabelling_with_positive_following_the_class(name):
    ref, cand, _ = sample("precision", seed=10)
    a = mj.table_estimates(np.array(["neg", "pos"], dtype=object)[ref], np.array(["neg", "pos"], dtype=object)[cand],
                           [name], positive="pos", n_resamples=0)[name]
    b = mj.table_estimates(np.array(["z", "a"], dtype=object)[ref], np.array(["z", "a"], dtype=object)[cand],
                           [name], positive="a", n_resamples=0)[name]
    assert a.estimate == pytest.approx(b.estimate, abs=1e-12)


# ============================================================================================ input types
@pytest.mark.parametrize("name", ALL_TABLE)
def test_list_ndarray_series_identical(name):
    ref, cand, levels = sample(name, seed=11)
    a = one(name, ref.tolist(), cand.tolist(), levels=levels, rng=1)
    b = one(name, ref, cand, levels=levels, rng=1)
    c = one(name, pd.Series(ref, index=np.arange(len(ref))[::-1]), pd.Series(cand), levels=levels, rng=1)
    assert same(a, b) and same(a, c)


@pytest.mark.parametrize("kind,variant", CORR)
def test_correlation_list_ndarray_series_identical(kind, variant):
    rng = np.random.default_rng(12)
    x = rng.integers(1, 6, 150)
    y = np.clip(x + rng.integers(-1, 2, 150), 1, 5)
    a = corr(kind, variant, x.tolist(), y.tolist(), rng=2)
    b = corr(kind, variant, x, y, rng=2)
    c = corr(kind, variant, pd.Series(x), pd.Series(y), rng=2)
    assert same(a, b) and same(a, c)


# ============================================================================================ seeding
@pytest.mark.parametrize("name", ALL_TABLE)
def test_same_seed_identical_different_seed_differs(name):
    ref, cand, levels = sample(name, seed=13)
    a = one(name, ref, cand, levels=levels, rng=21)
    b = one(name, ref, cand, levels=levels, rng=21)
    g = one(name, ref, cand, levels=levels, rng=np.random.default_rng(21))
    assert same(a, b) and same(a, g)
    assert same(one(name, ref, cand, levels=levels), one(name, ref, cand, levels=levels))  # rng=None is seeded
    c = one(name, ref, cand, levels=levels, rng=22)
    assert c.estimate == a.estimate
    if a.method.startswith("bootstrap"):
        assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)
    else:
        assert a.method == "wilson" and (a.ci_low, a.ci_high) == (c.ci_low, c.ci_high)


@pytest.mark.parametrize("kind,variant", CORR)
@pytest.mark.parametrize("continuous", [False, True])
def test_correlation_seeding(kind, variant, continuous):
    rng = np.random.default_rng(14)
    x = rng.normal(size=200) if continuous else rng.integers(1, 6, 200).astype(float)
    y = x + rng.normal(size=200)
    y = y if continuous else np.round(np.clip(y, 1, 5))
    a = corr(kind, variant, x, y, rng=3, n_resamples=300)
    assert same(a, corr(kind, variant, x, y, rng=3, n_resamples=300))
    c = corr(kind, variant, x, y, rng=4, n_resamples=300)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


def test_multirater_seeding():
    rng = np.random.default_rng(15)
    r = rng.integers(1, 4, (60, 3)).astype(float)
    for fn in (lambda s: mj.fleiss_kappa(r, rng=s), lambda s: mj.krippendorff_alpha(r, level="ordinal", rng=s)):
        assert same(fn(1), fn(1))
        assert (fn(1).ci_low, fn(1).ci_high) != (fn(2).ci_low, fn(2).ci_high)


# ============================================================================================ NaN pairs (trap 5)
@pytest.mark.parametrize("name", ALL_TABLE)
def test_nan_pairs_dropped_jointly_and_counted(name):
    ref, cand, levels = sample(name, seed=16)
    r = ref.astype(float)
    c = cand.astype(float)
    r[[3, 10, 50]] = np.nan
    c[[10, 20, 77, 150]] = np.nan  # 10 is missing on both sides: 6 pairs dropped in all
    keep = ~(np.isnan(r) | np.isnan(c))
    a = one(name, r, c, levels=levels, rng=4)
    b = one(name, ref[keep], cand[keep], levels=levels, rng=4)
    assert a.estimate == b.estimate and (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert a.n == b.n == int(keep.sum())
    assert "6 pair" in a.note


def test_nan_pairs_misaligned_filtering_would_differ():
    # the trap: filtering each list separately then zipping shifts the pairs; metajudge must not do that
    ref, cand, levels = sample("cohen_kappa", seed=16)
    r = ref.astype(float)
    c = cand.astype(float)
    r[[3, 50]] = np.nan
    c[[20, 77]] = np.nan
    keep = ~(np.isnan(r) | np.isnan(c))
    good = mj.cohen_kappa(r, c, n_resamples=0).estimate
    assert good == pytest.approx(mj.cohen_kappa(ref[keep], cand[keep], n_resamples=0).estimate, abs=0)
    bad = mj.cohen_kappa(r[~np.isnan(r)], c[~np.isnan(c)], n_resamples=0).estimate
    assert abs(good - bad) > 1e-6


def test_none_and_nan_in_string_labels_dropped_jointly():
    r = ["a", "b", None, "b", "a", "c", "a"]
    c = ["a", float("nan"), "b", "b", "a", "c", None]
    e = mj.cohen_kappa(r, c, n_resamples=0)
    ref = mj.cohen_kappa(["a", "b", "a", "c"], ["a", "b", "a", "c"], n_resamples=0)
    assert e.estimate == ref.estimate
    assert "3 pair" in e.note


@pytest.mark.parametrize("kind,variant", CORR)
@pytest.mark.parametrize("continuous", [False, True])
def test_correlation_nan_pairs_dropped_jointly(kind, variant, continuous):
    rng = np.random.default_rng(17)
    x = rng.normal(size=200) if continuous else rng.integers(1, 6, 200).astype(float)
    y = x + rng.normal(size=200)
    y = y if continuous else np.round(np.clip(y, 1, 5))
    xm, ym = x.copy(), y.copy()
    xm[[1, 5, 9]] = np.nan
    ym[[5, 100]] = np.nan
    keep = ~(np.isnan(xm) | np.isnan(ym))
    a = corr(kind, variant, xm, ym, rng=5, n_resamples=200)
    b = corr(kind, variant, x[keep], y[keep], rng=5, n_resamples=200)
    assert a.estimate == b.estimate and (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert "4 pair" in a.note


# ============================================================================================ declared order (trap 1)
@pytest.mark.parametrize("name", ORDERED)
def test_ordered_metric_on_strings_without_levels_raises(name):
    with pytest.raises(mj.MetricInputError, match="levels"):
        one(name, ["good", "poor", "fair"], ["fair", "fair", "good"])


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_weighted_kappa_strings_without_levels_raises(weights):
    with pytest.raises(mj.MetricInputError):
        mj.cohen_kappa(["excellent", "fair", "good"], ["fair", "good", "good"], weights=weights)
    with pytest.raises(mj.MetricInputError):
        mj.gwet_ac1(["excellent", "fair", "good"], ["fair", "good", "good"], weights=weights)


@pytest.mark.parametrize("kind,variant", CORR)
def test_correlation_on_strings_without_levels_raises(kind, variant):
    with pytest.raises(mj.MetricInputError):
        corr(kind, variant, ["good", "poor", "fair"], ["fair", "fair", "good"])


def test_krippendorff_ordinal_strings_without_levels_raises():
    with pytest.raises(mj.MetricInputError):
        mj.krippendorff_alpha([["good", "poor"], ["fair", "fair"], ["good", "good"]], level="ordinal")


@pytest.mark.parametrize("name", ALL_TABLE)
def test_labels_outside_declared_levels_raise_and_are_named(name):
    ref, cand, levels = sample(name, seed=18)
    cand = cand.astype(object)
    cand[4] = "bogus"
    cand[9] = 42
    with pytest.raises(mj.MetricInputError, match="bogus") as ei:
        one(name, ref, cand, levels=levels)
    assert "42" in str(ei.value)


def test_numeric_label_outside_declared_levels_raises():
    with pytest.raises(mj.MetricInputError, match="7"):
        mj.cohen_kappa([0, 1, 2], [1, 7, 2], levels=[0, 1, 2])
    with pytest.raises(mj.MetricInputError, match="9"):
        mj.krippendorff_alpha([[1, 2], [9, 1]], level="ordinal", levels=[1, 2, 3])


# ============================================================================================ clusters
def _width(e):
    return e.ci_high - e.ci_low


@pytest.mark.parametrize("name", ["cohen_kappa", "cohen_kappa_quadratic", "scott_pi", "gwet_ac1", "mcc",
                                  "krippendorff_alpha_ordinal", "balanced_accuracy"])
def test_singleton_clusters_match_multinomial_bootstrap(name):
    ref, cand, levels = sample(name, n=600, seed=19)
    plain = one(name, ref, cand, levels=levels, n_resamples=3000, rng=1)
    clus = one(name, ref, cand, levels=levels, clusters=np.arange(len(ref)), n_resamples=3000, rng=2)
    assert plain.method == "bootstrap-multinomial" and clus.method == "bootstrap-cluster"
    assert clus.estimate == plain.estimate and clus.n == plain.n
    w = _width(plain)
    # two independent B = 3000 bootstraps of the same distribution: endpoints agree within MC error
    assert clus.ci_low == pytest.approx(plain.ci_low, abs=0.08 * w)
    assert clus.ci_high == pytest.approx(plain.ci_high, abs=0.08 * w)


@pytest.mark.parametrize("name", ["cohen_kappa", "cohen_kappa_quadratic", "scott_pi", "gwet_ac1", "mcc",
                                  "krippendorff_alpha_ordinal", "percent_agreement"])
def test_repeated_rows_cluster_interval_wider_than_row_bootstrap(name):
    # each item judged 3 times with the same verdict: rows are not independent
    ref, cand, levels = sample(name, n=400, seed=20)
    r3, c3 = np.repeat(ref, 3), np.repeat(cand, 3)
    items = np.repeat(np.arange(len(ref)), 3)
    naive = one(name, r3, c3, levels=levels, n_resamples=3000, rng=1)
    clus = one(name, r3, c3, levels=levels, clusters=items, n_resamples=3000, rng=1)
    single = one(name, ref, cand, levels=levels, n_resamples=3000, rng=1)
    assert clus.method == "bootstrap-cluster"
    assert clus.n == len(ref) and naive.n == 3 * len(ref)
    # same table shape (every cell × 3): the point estimate is that of the items, except α's (N−1) factor
    tol = 2e-3 if name.startswith("krippendorff") else 1e-12
    assert clus.estimate == pytest.approx(single.estimate, abs=tol)
    ratio = _width(clus) / _width(naive)
    assert 1.5 < ratio < 2.0, f"width ratio {ratio:.3f}, expected about sqrt(3) = 1.732"
    assert _width(clus) == pytest.approx(_width(single), rel=0.12)


@pytest.mark.parametrize("kind,variant", [("spearman", "b"), ("kendall_tau", "b"), ("pearson", "b")])
@pytest.mark.parametrize("continuous", [False, True])
def test_correlation_repeated_rows_cluster_interval(kind, variant, continuous):
    rng = np.random.default_rng(21)
    n = 300
    x = rng.normal(size=n) if continuous else rng.integers(1, 6, n).astype(float)
    y = 0.5 * x + rng.normal(size=n)
    y = y if continuous else np.round(np.clip(y, 1, 5))
    x3, y3, items = np.repeat(x, 3), np.repeat(y, 3), np.repeat(np.arange(n), 3)
    naive = corr(kind, variant, x3, y3, n_resamples=1000, rng=1)
    clus = corr(kind, variant, x3, y3, clusters=items, n_resamples=1000, rng=1)
    assert clus.n == n and clus.method == "bootstrap-cluster"
    ratio = _width(clus) / _width(naive)
    assert 1.45 < ratio < 2.05, f"width ratio {ratio:.3f}, expected about sqrt(3)"


# ============================================================================================ Estimate fields
@pytest.mark.parametrize("name", ALL_TABLE)
def test_estimate_carries_level_method_and_n(name):
    ref, cand, levels = sample(name, seed=22)
    e = one(name, ref, cand, levels=levels, confidence_level=0.9)
    assert e.metric == name
    assert e.confidence_level == 0.9
    assert e.method in {"bootstrap-multinomial", "wilson"}
    assert e.n == len(ref)
    assert e.ci_low <= e.estimate <= e.ci_high
    e99 = one(name, ref, cand, levels=levels, confidence_level=0.99)
    assert _width(e99) > _width(e)
