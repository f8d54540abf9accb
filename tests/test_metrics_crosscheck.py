"""Cross-checks of metajudge's fast (table / pattern) paths against the reference libraries on the raw rows.

scikit-learn, statsmodels, scipy and the ``krippendorff`` package are the slow, obvious computations; agreement
is required to 1e-12 on random data over several seeds (PERFORMANCE.md, "Correctness under speed").
"""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn import metrics as skm
from statsmodels.stats import inter_rater as smir

import metajudge as mj

SEEDS = [0, 1, 2, 3, 4]
TOL = 1e-12


def correlated_codes(rng, n, k, noise=0.35, used=None):
    """Two correlated ordinal code arrays on 0..k-1 (optionally only the levels in ``used``)."""
    levels = np.arange(k) if used is None else np.asarray(used)
    truth = rng.integers(0, len(levels), n)
    flip1 = rng.random(n) < noise
    flip2 = rng.random(n) < noise
    a = np.where(flip1, np.clip(truth + rng.integers(-1, 2, n), 0, len(levels) - 1), truth)
    b = np.where(flip2, np.clip(truth + rng.integers(-2, 3, n), 0, len(levels) - 1), truth)
    return levels[a], levels[b]


# ============================================================================================ Cohen's κ
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_vs_sklearn(seed, weights):
    rng = np.random.default_rng(seed)
    ref, cand = correlated_codes(rng, 300, 5)
    e = mj.cohen_kappa(ref, cand, weights=weights, levels=[0, 1, 2, 3, 4], n_resamples=0)
    sk = skm.cohen_kappa_score(ref, cand, weights=weights, labels=[0, 1, 2, 3, 4])
    assert e.estimate == pytest.approx(sk, abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_cohen_kappa_unused_levels_counted_like_sklearn_with_labels(seed, weights):
    # 7-point scale, data only use 0, 2, 3, 5 (trap 9: sklearn without labels= drops unused scale points,
    # which shrinks the distances across the gaps; unused points at the ends alone would not matter)
    rng = np.random.default_rng(seed)
    ref, cand = correlated_codes(rng, 250, 7, used=[0, 2, 3, 5])
    scale = list(range(7))
    e = mj.cohen_kappa(ref, cand, weights=weights, levels=scale, n_resamples=0)
    sk_full = skm.cohen_kappa_score(ref, cand, weights=weights, labels=scale)
    sk_used = skm.cohen_kappa_score(ref, cand, weights=weights)
    assert e.estimate == pytest.approx(sk_full, abs=TOL)
    assert abs(e.estimate - sk_used) > 1e-6  # the trap is real on this data (not float noise)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_string_scale_trap1(seed, weights):
    """Trap 1: string labels whose alphabetical order is not the scale order."""
    scale = ["poor", "fair", "good", "excellent"]  # alphabetical: excellent < fair < good < poor
    rng = np.random.default_rng(seed)
    rc, cc = correlated_codes(rng, 300, 4)
    ref = np.array(scale, dtype=object)[rc]
    cand = np.array(scale, dtype=object)[cc]
    e = mj.cohen_kappa(list(ref), list(cand), weights=weights, levels=scale, n_resamples=0)
    sk_codes = skm.cohen_kappa_score(rc, cc, weights=weights, labels=[0, 1, 2, 3])
    assert e.estimate == pytest.approx(sk_codes, abs=TOL)
    sk_alpha = skm.cohen_kappa_score(ref, cand, weights=weights)  # sklearn sorts the strings
    if weights is None:
        assert sk_alpha == pytest.approx(sk_codes, abs=TOL)  # order is irrelevant unweighted
    else:
        assert abs(sk_alpha - e.estimate) > 1e-3


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("wt", ["linear", "quadratic"])
def test_weighted_kappa_vs_statsmodels_cohens_kappa(seed, wt):
    rng = np.random.default_rng(seed)
    ref, cand = correlated_codes(rng, 200, 4)
    table = np.zeros((4, 4))
    np.add.at(table, (ref, cand), 1)
    sm = smir.cohens_kappa(table, wt=wt).kappa
    e = mj.cohen_kappa(ref, cand, weights=wt, levels=[0, 1, 2, 3], n_resamples=0)
    assert e.estimate == pytest.approx(sm, abs=TOL)


# ============================================================================================ Scott's π
@pytest.mark.parametrize("seed", SEEDS)
def test_scott_pi_equals_two_rater_fleiss_kappa(seed):
    # With m = 2 raters per item Fleiss' P_u is 1 on agreement and 0 otherwise, so P̄ = p_o, and his p_k is
    # the pooled share (r_k + c_k)/2: Fleiss' κ is exactly Scott's π (no small-sample factor; that is α).
    rng = np.random.default_rng(seed)
    ref, cand = correlated_codes(rng, 300, 5)
    counts, _ = smir.aggregate_raters(np.column_stack([ref, cand]))
    sm = smir.fleiss_kappa(counts, method="fleiss")
    e = mj.scott_pi(ref, cand, n_resamples=0)
    assert e.estimate == pytest.approx(sm, abs=TOL)
    # and the hand formula on the table
    t = np.zeros((5, 5))
    np.add.at(t, (ref, cand), 1)
    p = t / t.sum()
    pi = (p.sum(1) + p.sum(0)) / 2
    pe = (pi**2).sum()
    assert e.estimate == pytest.approx((np.trace(p) - pe) / (1 - pe), abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_gwet_ac1_and_pabak_hand_formula(seed):
    rng = np.random.default_rng(seed)
    ref, cand = correlated_codes(rng, 300, 5, used=[0, 1, 2, 3])
    t = np.zeros((5, 5))
    np.add.at(t, (ref, cand), 1)
    p = t / t.sum()
    po = np.trace(p)
    pi = (p.sum(1) + p.sum(0)) / 2
    pe = (pi * (1 - pi)).sum() / (5 - 1)
    lv = [0, 1, 2, 3, 4]
    assert mj.gwet_ac1(ref, cand, levels=lv, n_resamples=0).estimate == pytest.approx((po - pe) / (1 - pe), abs=TOL)
    assert mj.pabak(ref, cand, levels=lv, n_resamples=0).estimate == pytest.approx((5 * po - 1) / 4, abs=TOL)


# ============================================================================================ Fleiss' κ
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m", [3, 6])
def test_fleiss_kappa_vs_statsmodels(seed, m):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, 150)
    ratings = np.where(rng.random((150, m)) < 0.6, truth[:, None], rng.integers(0, 4, (150, m)))
    sm = smir.fleiss_kappa(smir.aggregate_raters(ratings)[0], method="fleiss")
    e = mj.fleiss_kappa(ratings, n_resamples=0)
    assert e.estimate == pytest.approx(sm, abs=TOL)
    assert e.n == 150
    # string labels give the same value
    lab = np.array(["w", "x", "y", "z"], dtype=object)
    assert mj.fleiss_kappa(lab[ratings], n_resamples=0).estimate == pytest.approx(sm, abs=TOL)


# ============================================================================================ Krippendorff's α
def kripp_data(seed, n=120, raters=4, missing=0.2, lo=1, hi=5):
    rng = np.random.default_rng(seed)
    truth = rng.integers(lo, hi + 1, n)
    noise = rng.integers(-1, 2, (n, raters)) * (rng.random((n, raters)) < 0.5)
    r = np.clip(truth[:, None] + noise, lo, hi).astype(float)
    r[rng.random((n, raters)) < missing] = np.nan
    return r


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_krippendorff_alpha_vs_package(seed, level):
    ratings = kripp_data(seed)  # items × raters, ~20% missing
    domain = [1, 2, 3, 4, 5]
    ref = krippendorff.alpha(reliability_data=ratings.T, level_of_measurement=level, value_domain=domain)
    e = mj.krippendorff_alpha(ratings, level=level, levels=domain, n_resamples=0)
    assert e.estimate == pytest.approx(ref, abs=TOL)
    e2 = mj.krippendorff_alpha(ratings, level=level, n_resamples=0)  # domain inferred from numeric data
    assert e2.estimate == pytest.approx(ref, abs=TOL)
    m = (~np.isnan(ratings)).sum(axis=1)
    assert e.n == int((m >= 2).sum())
    if (m < 2).any():
        assert f"{int((m < 2).sum())} unit" in e.note


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("level", ["ordinal", "interval", "ratio"])
def test_krippendorff_alpha_unused_domain_values(seed, level):
    # data use 2..5 on a declared domain 0..7
    ratings = kripp_data(seed, lo=2, hi=5)
    domain = list(range(8))
    ref = krippendorff.alpha(reliability_data=ratings.T, level_of_measurement=level, value_domain=domain)
    e = mj.krippendorff_alpha(ratings, level=level, levels=domain, n_resamples=0)
    assert e.estimate == pytest.approx(ref, abs=TOL)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_krippendorff_alpha_ordinal_string_scale(seed):
    ratings = kripp_data(seed)
    scale = ["awful", "poor", "fair", "good", "excellent"]  # values 1..5
    lab = np.full(ratings.shape, None, dtype=object)
    ok = ~np.isnan(ratings)
    lab[ok] = np.array(scale, dtype=object)[ratings[ok].astype(int) - 1]
    ref = krippendorff.alpha(reliability_data=ratings.T, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4, 5])
    e = mj.krippendorff_alpha(lab, level="ordinal", levels=scale, n_resamples=0)
    assert e.estimate == pytest.approx(ref, abs=TOL)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_krippendorff_alpha_interval_continuous_vs_package(seed):
    # > 256 distinct values: the moment-sum path
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=130)  # ~310 distinct values (> 256): krippendorff's cost grows with V²
    r = truth[:, None] + rng.normal(scale=0.7, size=(130, 3))
    r[rng.random(r.shape) < 0.2] = np.nan
    ref = krippendorff.alpha(reliability_data=r.T, level_of_measurement="interval")
    e = mj.krippendorff_alpha(r, level="interval", n_resamples=0)
    assert e.estimate == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_table_alpha_equals_multirater_alpha_two_raters(seed):
    rng = np.random.default_rng(seed)
    ref, cand = correlated_codes(rng, 200, 5)
    names = ["krippendorff_alpha_nominal", "krippendorff_alpha_ordinal", "krippendorff_alpha_interval"]
    t = mj.table_estimates(ref, cand, names, levels=[0, 1, 2, 3, 4], n_resamples=0)
    for name in names:
        level = name.rsplit("_", 1)[1]
        pkg = krippendorff.alpha(reliability_data=np.vstack([ref, cand]).astype(float),
                                 level_of_measurement=level, value_domain=[0, 1, 2, 3, 4])
        assert t[name].estimate == pytest.approx(pkg, abs=TOL), name


# ============================================================================================ classification
@pytest.mark.parametrize("seed", SEEDS)
def test_binary_classification_metrics_vs_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(400) < 0.3).astype(int)
    p = np.where(rng.random(400) < 0.75, y, 1 - y)
    m = mj.classification_metrics(y, p, positive=1, n_resamples=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {
            "accuracy": skm.accuracy_score(y, p),
            "balanced_accuracy": skm.balanced_accuracy_score(y, p),
            "precision": skm.precision_score(y, p, pos_label=1),
            "recall": skm.recall_score(y, p, pos_label=1),
            "tpr": skm.recall_score(y, p, pos_label=1),
            "tnr": skm.recall_score(y, p, pos_label=0),
            "f1": skm.f1_score(y, p, pos_label=1),
            "mcc": skm.matthews_corrcoef(y, p),
        }
    expected["youden_j"] = expected["tpr"] + expected["tnr"] - 1
    for k, v in expected.items():
        assert m[k].estimate == pytest.approx(v, abs=TOL), k
    # positive = 0 with string labels
    lab = np.array(["no", "yes"], dtype=object)
    m0 = mj.classification_metrics(lab[y], lab[p], positive="no", n_resamples=0)
    assert m0["precision"].estimate == pytest.approx(skm.precision_score(y, p, pos_label=0), abs=TOL)
    assert m0["f1"].estimate == pytest.approx(skm.f1_score(y, p, pos_label=0), abs=TOL)
    assert m0["mcc"].estimate == pytest.approx(skm.matthews_corrcoef(y, p), abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_mcc_balanced_accuracy_vs_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.choice(["A", "B", "tie"], size=300, p=[0.45, 0.4, 0.15])
    pred = np.where(rng.random(300) < 0.6, y, rng.choice(["A", "B", "tie"], size=300))
    t = mj.table_estimates(y, pred, ["mcc", "balanced_accuracy", "accuracy"], n_resamples=0)
    assert t["mcc"].estimate == pytest.approx(skm.matthews_corrcoef(y, pred), abs=TOL)
    assert t["balanced_accuracy"].estimate == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=TOL)
    assert t["accuracy"].estimate == pytest.approx(skm.accuracy_score(y, pred), abs=TOL)


def test_multiclass_balanced_accuracy_class_only_predicted():
    # a class the candidate uses but the reference never does: sklearn averages recall over true classes only
    rng = np.random.default_rng(7)
    y = rng.choice([0, 1, 2], size=200)
    pred = np.where(rng.random(200) < 0.7, y, 3)
    t = mj.table_estimates(y, pred, ["balanced_accuracy", "mcc"], levels=[0, 1, 2, 3], n_resamples=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert t["balanced_accuracy"].estimate == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=TOL)
    assert t["mcc"].estimate == pytest.approx(skm.matthews_corrcoef(y, pred), abs=TOL)


# ============================================================================================ correlations
def scipy_corr(kind, x, y, variant="b"):
    if kind == "pearson":
        return sps.pearsonr(x, y).statistic
    if kind == "spearman":
        return sps.spearmanr(x, y).statistic
    return sps.kendalltau(x, y, variant=variant).statistic


CORR_CASES = [("pearson", "b"), ("spearman", "b"), ("kendall_tau", "b"), ("kendall_tau", "c")]


def mj_corr(kind, variant, x, y, **kw):
    if kind == "pearson":
        return mj.pearson(x, y, **kw)
    if kind == "spearman":
        return mj.spearman(x, y, **kw)
    return mj.kendall_tau(x, y, variant=variant, **kw)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind,variant", CORR_CASES)
def test_correlation_likert_table_path_vs_scipy(seed, kind, variant):
    rng = np.random.default_rng(seed)
    x, y = correlated_codes(rng, 500, 5)
    x = x + 1  # 1..5
    y = np.where(y == 4, 7, y)  # unequal spacing on the candidate side (matters for Pearson only)
    e = mj_corr(kind, variant, x, y, n_resamples=0)
    assert e.estimate == pytest.approx(scipy_corr(kind, x, y, variant), abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind,variant", CORR_CASES)
def test_correlation_continuous_vs_scipy(seed, kind, variant):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=400)
    y = 0.5 * x + rng.normal(size=400)
    y[:40] = np.round(y[:40], 0)  # some ties too
    e = mj_corr(kind, variant, x, y, n_resamples=0)
    assert e.estimate == pytest.approx(scipy_corr(kind, x, y, variant), abs=TOL)


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("kind,variant", CORR_CASES)
def test_correlation_string_levels_vs_scipy_on_codes(seed, kind, variant):
    scale = ["poor", "fair", "good", "excellent"]
    rng = np.random.default_rng(seed)
    rc, cc = correlated_codes(rng, 300, 4)
    lab = np.array(scale, dtype=object)
    e = mj_corr(kind, variant, list(lab[rc]), list(lab[cc]), levels=scale, n_resamples=0)
    assert e.estimate == pytest.approx(scipy_corr(kind, rc, cc, variant), abs=TOL)


# ============================================================================================ correlation levels
def levels_data(seed, n_groups=30, n_systems=8):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), n_systems)
    s = np.tile([f"sys{j}" for j in range(n_systems)], n_groups)
    quality = rng.normal(size=n_systems)[np.tile(np.arange(n_systems), n_groups)] + rng.normal(size=len(g))
    ref = np.clip(np.round(3 + quality), 1, 5)
    cand = np.clip(np.round(3 + quality + rng.normal(scale=0.8, size=len(g))), 1, 5)
    # two groups where the reference is constant: must be skipped and counted
    ref[g == 3] = 4.0
    cand[g == 5] = 2.0
    return pd.DataFrame({"g": [f"doc{v}" for v in g], "s": s, "ref": ref, "cand": cand})


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("kind,variant", CORR_CASES)
def test_correlation_levels_vs_pandas_groupby(seed, kind, variant):
    df = levels_data(seed)
    out = mj.correlation_levels(df["ref"], df["cand"], kind=kind, variant=variant, groups=df["g"],
                                systems=df["s"], n_resamples=0)
    assert set(out) == {"dataset", "group", "system"}
    assert out["dataset"].estimate == pytest.approx(scipy_corr(kind, df.ref, df.cand, variant), abs=TOL)
    per_group = []
    skipped = 0
    for _, d in df.groupby("g"):
        if d.ref.nunique() < 2 or d.cand.nunique() < 2:
            skipped += 1
            continue
        per_group.append(scipy_corr(kind, d.ref.to_numpy(), d.cand.to_numpy(), variant))
    assert skipped == 2
    assert out["group"].estimate == pytest.approx(np.mean(per_group), abs=TOL)
    assert out["group"].n == len(per_group)
    assert "2 of 30 groups skipped" in out["group"].note
    means = df.groupby("s")[["ref", "cand"]].mean()
    assert out["system"].estimate == pytest.approx(scipy_corr(kind, means.ref, means.cand, variant), abs=TOL)
    assert out["system"].n == 8


# ============================================================================================ bootstrap vs loop
def test_kappa_bootstrap_interval_matches_item_resampling_loop():
    rng = np.random.default_rng(11)
    ref, cand = correlated_codes(rng, 300, 4)
    e = mj.cohen_kappa(ref, cand, weights="quadratic", levels=[0, 1, 2, 3], n_resamples=2000, rng=5)
    loop_rng = np.random.default_rng(99)
    reps = []
    for _ in range(2000):
        idx = loop_rng.integers(0, len(ref), len(ref))
        reps.append(skm.cohen_kappa_score(ref[idx], cand[idx], weights="quadratic", labels=[0, 1, 2, 3]))
    lo, hi = np.quantile(reps, [0.025, 0.975])
    width = hi - lo
    # Monte Carlo SD of a 2.5% quantile with B = 2000 is ~ 0.015·width (0.022·width for the difference of two
    # independent bootstraps); allow 0.1·width
    assert e.ci_low == pytest.approx(lo, abs=0.1 * width)
    assert e.ci_high == pytest.approx(hi, abs=0.1 * width)


def test_spearman_continuous_bootstrap_matches_resampling_loop():
    rng = np.random.default_rng(12)
    x = rng.normal(size=300)
    y = 0.5 * x + rng.normal(size=300)
    e = mj.spearman(x, y, n_resamples=2000, rng=3)
    assert e.method == "bootstrap"
    loop_rng = np.random.default_rng(98)
    reps = []
    for _ in range(2000):
        idx = loop_rng.integers(0, 300, 300)
        reps.append(sps.spearmanr(x[idx], y[idx]).statistic)
    lo, hi = np.quantile(reps, [0.025, 0.975])
    width = hi - lo
    assert e.ci_low == pytest.approx(lo, abs=0.1 * width)
    assert e.ci_high == pytest.approx(hi, abs=0.1 * width)
