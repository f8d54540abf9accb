"""Metrics against published values and values worked out by hand (METRICS.md §2).

Every expected number here comes from the cited paper or from the arithmetic in the comments, never from
metajudge's own output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import metajudge as mj

nan = float("nan")


# --------------------------------------------------------------------------------------------------
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", worked example (METRICS.md §2)
# --------------------------------------------------------------------------------------------------
#   A: 1 2 3 3 2 1 4 1 2 . . .
#   B: 1 2 3 3 2 2 4 1 2 5 . 3
#   C: . 3 3 3 2 3 4 2 2 5 1 .
#   D: 1 2 3 3 2 4 4 1 2 5 1 .
KRIPP_OBSERVERS = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
])
KRIPP_ITEMS = KRIPP_OBSERVERS.T  # metajudge takes items × raters (12 × 4)
KRIPP_PUBLISHED = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}


@pytest.mark.parametrize("level", list(KRIPP_PUBLISHED))
def test_krippendorff_2011_worked_example(level):
    e = mj.krippendorff_alpha(KRIPP_ITEMS, level=level, n_resamples=0)
    assert e.metric == f"krippendorff_alpha_{level}"
    assert round(e.estimate, 3) == KRIPP_PUBLISHED[level]
    # unit 12 has a single value (B: 3): not pairable, left out and counted
    assert e.n == 11
    assert "1 unit" in e.note


@pytest.mark.parametrize("level", list(KRIPP_PUBLISHED))
def test_krippendorff_2011_with_declared_value_domain(level):
    # declaring the value domain 1..5 (all used) must not change anything
    e = mj.krippendorff_alpha(KRIPP_ITEMS, level=level, levels=[1, 2, 3, 4, 5], n_resamples=0)
    assert round(e.estimate, 3) == KRIPP_PUBLISHED[level]


def test_krippendorff_2011_interval_has_ci_around_estimate():
    e = mj.krippendorff_alpha(KRIPP_ITEMS, level="interval", n_resamples=500, rng=1)
    assert e.confidence_level == 0.95
    assert e.method.startswith("bootstrap")
    assert e.ci_low <= e.estimate <= e.ci_high


# --------------------------------------------------------------------------------------------------
# Fleiss (1971): 30 patients × 6 psychiatrists, 5 diagnoses; κ = 0.430
# --------------------------------------------------------------------------------------------------
def test_fleiss_1971_diagnoses():
    from statsmodels.stats.tests.test_inter_rater import diagnoses

    assert diagnoses.shape == (30, 6)
    e = mj.fleiss_kappa(diagnoses, n_resamples=0)
    assert round(e.estimate, 3) == 0.430
    assert e.n == 30


# --------------------------------------------------------------------------------------------------
# 3×3 table [[0,4,1],[0,8,0],[0,1,5]] (reference on rows), n = 19
# --------------------------------------------------------------------------------------------------
TABLE3 = np.array([[0, 4, 1], [0, 8, 0], [0, 1, 5]])


def rows_from_table(t):
    ref, cand = [], []
    for i in range(t.shape[0]):
        for j in range(t.shape[1]):
            ref += [i] * int(t[i, j])
            cand += [j] * int(t[i, j])
    return np.array(ref), np.array(cand)


def test_table3_cohen_kappa_unweighted():
    # r = (5, 8, 6), c = (0, 13, 6); p_o = 13/19; p_e = (0 + 104 + 36)/361 = 140/361
    # κ = (247 − 140)/(361 − 140) = 107/221 = 0.48416...
    ref, cand = rows_from_table(TABLE3)
    e = mj.cohen_kappa(ref, cand, levels=[0, 1, 2], n_resamples=0)
    assert e.estimate == pytest.approx(107 / 221, abs=1e-12)
    assert round(e.estimate, 4) == 0.4842


def test_table3_cohen_kappa_linear():
    # w = |i−j|/2; observed Σ w o = (4·½ + 1·1 + 1·½)/19 = 3.5/19
    # expected Σ w r_i c_j = (½·5·13 + 1·5·6 + ½·8·6 + ½·6·13)/361 = 125.5/361
    # κ_w = 1 − (3.5·19)/125.5 = 59/125.5 = 0.47012
    ref, cand = rows_from_table(TABLE3)
    e = mj.cohen_kappa(ref, cand, weights="linear", levels=[0, 1, 2], n_resamples=0)
    assert e.metric == "cohen_kappa_linear"
    assert e.estimate == pytest.approx(59 / 125.5, abs=1e-12)
    assert round(e.estimate, 4) == 0.4701


def test_table3_cohen_kappa_quadratic():
    # w = ((i−j)/2)²; observed (4·¼ + 1·1 + 1·¼)/19 = 2.25/19
    # expected (¼·5·13 + 1·5·6 + ¼·8·6 + ¼·6·13)/361 = 77.75/361
    # κ_q = 1 − 2.25·19/77.75 = 35/77.75 = 0.45016
    ref, cand = rows_from_table(TABLE3)
    e = mj.cohen_kappa(ref, cand, weights="quadratic", levels=[0, 1, 2], n_resamples=0)
    assert e.estimate == pytest.approx(35 / 77.75, abs=1e-12)


def test_table3_gwet_ac1_and_ac2_quadratic():
    # π_k = (r_k + c_k)/2 = (2.5, 10.5, 6)/19;  Σ π(1−π) = (2.5·16.5 + 10.5·8.5 + 6·13)/361 = 208.5/361
    # AC1: p_e = Σπ(1−π)/(K−1) = 104.25/361;  AC1 = (247 − 104.25)/(361 − 104.25) = 142.75/256.75
    ref, cand = rows_from_table(TABLE3)
    e1 = mj.gwet_ac1(ref, cand, levels=[0, 1, 2], n_resamples=0)
    assert e1.estimate == pytest.approx(142.75 / 256.75, abs=1e-12)
    # AC2 (Gwet 2014), quadratic agreement weights a = 1 − ((i−j)/2)² = [[1,.75,0],[.75,1,.75],[0,.75,1]],
    # T_w = Σ a = 6; p_a = (4·.75 + 8 + 1·.75 + 5)/19 = 16.75/19; p_e = T_w/(K(K−1)) Σπ(1−π) = 208.5/361
    # AC2 = (16.75·19 − 208.5)/(361 − 208.5) = 109.75/152.5
    e2 = mj.gwet_ac1(ref, cand, weights="quadratic", levels=[0, 1, 2], n_resamples=0)
    assert e2.metric == "gwet_ac2_quadratic"
    assert e2.estimate == pytest.approx(109.75 / 152.5, abs=1e-12)


def test_table3_unused_level_counts_in_k():
    # PABAK uses K = 3 declared levels even though the candidate never says 0: (3·13/19 − 1)/2 = 10/19
    ref, cand = rows_from_table(TABLE3)
    assert mj.pabak(ref, cand, levels=[0, 1, 2], n_resamples=0).estimate == pytest.approx(10 / 19, abs=1e-12)


# --------------------------------------------------------------------------------------------------
# A 2×2 table with skewed prevalence (the "kappa paradox"): reference on rows, levels 0/1
#     cand 0  cand 1
# 0     80      5      r = (.85, .15)
# 1     10      5      c = (.90, .10),  n = 100,  p_o = .85
# --------------------------------------------------------------------------------------------------
TABLE2 = np.array([[80, 5], [10, 5]])


def test_2x2_percent_agreement():
    ref, cand = rows_from_table(TABLE2)
    e = mj.percent_agreement(ref, cand)
    assert e.estimate == pytest.approx(0.85, abs=1e-12)
    assert e.method == "wilson"
    assert e.ci_low < 0.85 < e.ci_high


def test_2x2_cohen_kappa():
    # p_e = .85·.90 + .15·.10 = .78;  κ = (.85 − .78)/(1 − .78) = 7/22
    ref, cand = rows_from_table(TABLE2)
    assert mj.cohen_kappa(ref, cand, n_resamples=0).estimate == pytest.approx(7 / 22, abs=1e-12)


def test_2x2_scott_pi():
    # pooled π = ((.85+.90)/2, (.15+.10)/2) = (.875, .125);  p_e = .875² + .125² = .78125
    # π = (.85 − .78125)/(1 − .78125) = .06875/.21875 = 11/35
    ref, cand = rows_from_table(TABLE2)
    assert mj.scott_pi(ref, cand, n_resamples=0).estimate == pytest.approx(11 / 35, abs=1e-12)


def test_2x2_gwet_ac1():
    # p_e = (1/(K−1)) Σ π_k(1 − π_k) = 2·.875·.125 = .21875
    # AC1 = (.85 − .21875)/(1 − .21875) = .63125/.78125 = 101/125 = .808  (high, while κ ≈ .32: the paradox)
    ref, cand = rows_from_table(TABLE2)
    assert mj.gwet_ac1(ref, cand, n_resamples=0).estimate == pytest.approx(101 / 125, abs=1e-12)


def test_2x2_pabak():
    # (K·p_o − 1)/(K − 1) = (2·.85 − 1)/1 = .70
    ref, cand = rows_from_table(TABLE2)
    assert mj.pabak(ref, cand, n_resamples=0).estimate == pytest.approx(0.70, abs=1e-12)


def test_2x2_krippendorff_alpha_two_raters():
    # For two raters and no missing values α_nominal = π + (1 − π)/(2n)   [α = 1 − (N−1)/N · D_o/D_e, N = 2n]
    ref, cand = rows_from_table(TABLE2)
    e = mj.krippendorff_alpha(np.column_stack([ref, cand]), level="nominal", n_resamples=0)
    assert e.estimate == pytest.approx(11 / 35 + (24 / 35) / 200, abs=1e-12)


def test_2x2_classification_metrics_positive_1():
    # positive = 1: tp = 5, fn = 10, fp = 5, tn = 80
    ref, cand = rows_from_table(TABLE2)
    m = mj.classification_metrics(ref, cand, positive=1, n_resamples=0)
    expected = {
        "accuracy": 0.85,
        "precision": 5 / 10,
        "recall": 5 / 15,
        "tpr": 5 / 15,
        "tnr": 80 / 85,
        "f1": 2 * 5 / (2 * 5 + 5 + 10),
        "balanced_accuracy": (5 / 15 + 80 / 85) / 2,
        "youden_j": 5 / 15 + 80 / 85 - 1,
        "mcc": (5 * 80 - 5 * 10) / math.sqrt(10 * 15 * 90 * 85),
    }
    assert set(m) == set(expected)
    for k, v in expected.items():
        assert m[k].metric == k
        assert m[k].estimate == pytest.approx(v, abs=1e-12), k


def test_2x2_classification_metrics_positive_0_swaps_roles():
    # positive = 0: tp = 80, fn = 5, fp = 10, tn = 5
    ref, cand = rows_from_table(TABLE2)
    m = mj.classification_metrics(ref, cand, positive=0, n_resamples=0)
    assert m["precision"].estimate == pytest.approx(80 / 90, abs=1e-12)
    assert m["recall"].estimate == pytest.approx(80 / 85, abs=1e-12)
    assert m["tnr"].estimate == pytest.approx(5 / 15, abs=1e-12)
    assert m["f1"].estimate == pytest.approx(160 / 175, abs=1e-12)


def test_2x2_string_labels_positive_named():
    ref, cand = rows_from_table(TABLE2)
    lab = np.array(["fail", "pass"])
    m = mj.classification_metrics(lab[ref], lab[cand], positive="pass", n_resamples=0)
    assert m["precision"].estimate == pytest.approx(0.5, abs=1e-12)
    assert m["recall"].estimate == pytest.approx(1 / 3, abs=1e-12)


# --------------------------------------------------------------------------------------------------
# Correlations worked by hand
# --------------------------------------------------------------------------------------------------
def test_kendall_tau_b_and_c_by_hand():
    # x = 1 2 3 4 5, y = 5 6 7 8 7.  Pairs (10): concordant P = 8, discordant Q = 1 ((4,8)-(5,7)),
    # tied on y: 1 ((3,7)-(5,7)).  τ-b = 7/sqrt(10·9);  τ-c = 2m(P−Q)/(n²(m−1)), m = min(5, 4) = 4: 56/75
    x, y = [1, 2, 3, 4, 5], [5, 6, 7, 8, 7]
    assert mj.kendall_tau(x, y, n_resamples=0).estimate == pytest.approx(7 / math.sqrt(90), abs=1e-12)
    assert mj.kendall_tau(x, y, variant="c", n_resamples=0).estimate == pytest.approx(56 / 75, abs=1e-12)


def test_spearman_and_pearson_by_hand():
    # y ranks with midranks: 5→1, 6→2, 7→3.5, 8→5, 7→3.5; x ranks 1..5
    # Σdx·dy with mean 3: (−2)(−2)+(−1)(−1)+0(.5)+1·2+2(.5) = 8;  Σdx² = 10;  Σdy² = 4+1+.25+4+.25 = 9.5
    x, y = [1, 2, 3, 4, 5], [5, 6, 7, 8, 7]
    assert mj.spearman(x, y, n_resamples=0).estimate == pytest.approx(8 / math.sqrt(10 * 9.5), abs=1e-12)
    # Pearson of x and y: ȳ = 6.6; Σdx·dy = (−2)(−1.6)+(−1)(−.6)+0+1(1.4)+2(.4) = 6; Σdy² = 2.56+.36+.16+1.96+.16
    assert mj.pearson(x, y, n_resamples=0).estimate == pytest.approx(6 / math.sqrt(10 * 5.2), abs=1e-12)
