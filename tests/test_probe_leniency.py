"""Leniency probe (METRICS.md §5 "Leniency", §7 trap 8): hand-computed values, scipy/statsmodels cross-checks,
planted shifts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import SquareTable, mcnemar

from metajudge.align import align
from metajudge.probes import ProbeUnavailable, run_probes
from metajudge.probes.leniency import leniency_probe, stuart_maxwell
from metajudge.scales import Scale


def _row(res, metric, judge="j"):
    df = pd.DataFrame(res.rows)
    df = df[(df["metric"] == metric) & (df["judge"] == judge)]
    assert len(df) == 1, df
    return df.iloc[0]


def _run(table, n_resamples=300, seed=0):
    return leniency_probe(table, options={}, confidence_level=0.95, n_resamples=n_resamples,
                          rng=np.random.default_rng(seed))


def _gold(labels: dict[str, list], items: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{"item_id": it, "rater": r, "label": v} for r, labs in labels.items()
                         for it, v in zip(items, labs) if v is not None])


# ---------------------------------------------------------------------------------------------- interval
def test_interval_shift_and_bland_altman_by_hand():
    items = ["a", "b", "c", "d"]
    gold = _gold({"h1": [1, 2, 3, 4], "h2": [1, 2, 3, 4]}, items)
    judge = pd.DataFrame({"item_id": items, "label": [2, 2, 4, 5]})
    res = _run(align(gold, {"j": judge}, Scale("interval")))
    d = np.array([1.0, 0, 1, 1])           # judge − mean of the humans
    sh = _row(res, "leniency_shift")
    assert sh["estimate"] == pytest.approx(0.75) and sh["n"] == 4
    assert sh["p_value"] == pytest.approx(sps.ttest_1samp(d, 0).pvalue)
    assert sh["ci_low"] <= 0.75 <= sh["ci_high"] and sh["method"] == "bootstrap-cluster"
    # SD(d) = 0.5 -> limits 0.75 ± 0.98
    assert _row(res, "bland_altman_lower")["estimate"] == pytest.approx(0.75 - 0.98)
    assert _row(res, "bland_altman_upper")["estimate"] == pytest.approx(0.75 + 0.98)
    ba = res.frames["bland_altman"]
    assert list(ba.columns) == ["judge", "mean", "diff", "count"] and ba["count"].tolist() == [1, 1, 1, 1]
    assert ba["diff"].tolist() == d.tolist() and ba["mean"].tolist() == [1.5, 2.0, 3.5, 4.5]
    dist = res.frames["distribution"]
    assert set(dist["rater"]) == {"humans", "j"}
    assert dist.groupby("rater")["share"].sum().tolist() == pytest.approx([1.0, 1.0])


def _interval_sim(shift, n=300, seed=0):
    r = np.random.default_rng(seed)
    true = r.normal(3, 1, n)
    items = [f"i{i}" for i in range(n)]
    gold = _gold({f"h{k}": list(true + r.normal(0, 0.5, n)) for k in range(3)}, items)
    judge = pd.DataFrame({"item_id": items, "label": true + shift + r.normal(0, 0.5, n)})
    return align(gold, {"j": judge}, Scale("interval"))


def test_planted_shift_is_detected_and_covered():
    res = _run(_interval_sim(0.7, seed=1), n_resamples=500)
    sh = _row(res, "leniency_shift")
    assert sh["p_value"] < 0.01 and sh["ci_low"] < 0.7 < sh["ci_high"]
    assert _row(res, "bland_altman_lower")["estimate"] < 0.7 < _row(res, "bland_altman_upper")["estimate"]


def test_unbiased_judge_not_flagged():
    res = _run(_interval_sim(0.0, seed=2), n_resamples=500)
    sh = _row(res, "leniency_shift")
    assert sh["p_value"] > 0.01 and sh["ci_low"] < 0 < sh["ci_high"]


# ---------------------------------------------------------------------------------------------- ordinal
def _ordinal_sim(lenient, n=250, seed=0):
    """(human, judge) level pairs drawn from a 4x4 joint distribution: symmetric (marginal homogeneity holds)
    when ``lenient`` is False; with mass moved above the diagonal (the judge one level higher) when True."""
    r = np.random.default_rng(seed)
    p = np.array([[30, 6, 1, 0], [6, 20, 5, 1], [1, 5, 12, 3], [0, 1, 3, 6]], dtype=float)
    if lenient:
        p += np.diag([12, 8, 5], k=1)
    p = p / p.sum()
    cell = r.choice(16, n, p=p.ravel())
    h, j = cell // 4, cell % 4
    items = [f"q{i}" for i in range(n)]
    t = align(_gold({"h": list(h)}, items), {"j": pd.DataFrame({"item_id": items, "label": j})},
              Scale("ordinal", levels=[0, 1, 2, 3]))
    return t, h, j


def test_ordinal_wilcoxon_and_stuart_maxwell_match_scipy_and_statsmodels():
    t, h, j = _ordinal_sim(True, seed=3)
    res = _run(t)
    sh = _row(res, "leniency_shift")
    d = (j - h).astype(float)
    assert sh["estimate"] == pytest.approx(d.mean())
    assert sh["p_value"] == pytest.approx(sps.wilcoxon(d).pvalue) and sh["p_value"] < 0.01
    assert "Wilcoxon" in sh["note"]
    # the planted shift: E[j − h] under the joint distribution of the simulation
    pj = np.array([[30, 6, 1, 0], [6, 20, 5, 1], [1, 5, 12, 3], [0, 1, 3, 6]], float) + np.diag([12, 8, 5], k=1)
    planted = float(np.sum(pj / pj.sum() * (np.arange(4)[None, :] - np.arange(4)[:, None])))
    assert sh["ci_low"] < planted < sh["ci_high"]
    tab = pd.crosstab(h, j).reindex(index=range(4), columns=range(4), fill_value=0).to_numpy(float)
    b = SquareTable(tab.copy(), shift_zeros=False).homogeneity()
    sm_row = _row(res, "stuart_maxwell")
    assert sm_row["estimate"] == pytest.approx(b.statistic, rel=1e-10)
    assert sm_row["p_value"] == pytest.approx(sps.chi2.sf(b.statistic, b.df), rel=1e-10)
    assert sm_row["p_value"] < 0.01
    assert res.counts["j"]["table"] == tab.astype(int).tolist()
    dist = res.frames["distribution"]
    assert dist[dist["rater"] == "humans"]["value"].tolist() == ["0", "1", "2", "3"]
    assert dist[dist["rater"] == "j"]["share"].tolist() == pytest.approx(np.bincount(j, minlength=4) / len(j))


def test_ordinal_unbiased_not_flagged():
    t, _, _ = _ordinal_sim(False, seed=4)
    res = _run(t)
    assert _row(res, "leniency_shift")["p_value"] > 0.01
    assert _row(res, "stuart_maxwell")["p_value"] > 0.01


# ---------------------------------------------------------------------------------------------- Stuart–Maxwell
def test_stuart_maxwell_2x2_is_mcnemar_by_hand():
    tab = np.array([[10.0, 6.0], [2.0, 12.0]])
    stat, df, p, _ = stuart_maxwell(tab)
    assert stat == pytest.approx((6 - 2) ** 2 / (6 + 2)) and df == 1
    assert p == pytest.approx(sps.chi2.sf(2.0, 1))


def test_stuart_maxwell_3x3_formula_and_trap_8():
    tab = np.array([[20.0, 5.0, 0.0], [1.0, 15.0, 7.0], [0.0, 2.0, 9.0]])  # zero cells on purpose
    keep = tab.copy()
    stat, df, p, note = stuart_maxwell(tab)
    np.testing.assert_array_equal(tab, keep)          # the caller's array is untouched
    # the textbook formula, written out: d = col − row margins (first K−1), V as in Stuart (1955)
    row, col = tab.sum(1)[:-1], tab.sum(0)[:-1]
    d = col - row
    v = -(tab[:-1, :-1] + tab[:-1, :-1].T)
    np.fill_diagonal(v, row + col - 2 * np.diag(tab)[:-1])
    assert stat == pytest.approx(d @ np.linalg.solve(v, d), rel=1e-12) and df == 2
    assert stat == pytest.approx(SquareTable(tab.copy(), shift_zeros=False).homogeneity().statistic, rel=1e-12)
    # trap 8: statsmodels' default shifts zero cells by 0.5, changes the statistic and writes into the array
    mutable = tab.copy()
    shifted = SquareTable(mutable).homogeneity().statistic
    assert shifted != pytest.approx(stat) and (mutable == 0.5).any()


def test_stuart_maxwell_tiny_p_uses_survival_function():
    tab = np.array([[50.0, 80.0, 0.0], [0.0, 50.0, 80.0], [5.0, 0.0, 50.0]])   # χ² = 125 on 2 df
    stat, df, p, _ = stuart_maxwell(tab)
    assert 1 - sps.chi2.cdf(stat, df) == 0.0        # what `1 − cdf` would report
    assert stat == pytest.approx(125.0)
    assert p > 0 and p == pytest.approx(sps.chi2.sf(stat, df)) and p == pytest.approx(math.exp(-62.5))


def test_stuart_maxwell_drops_levels_without_discordance():
    tab = np.array([[5.0, 3.0, 0.0], [1.0, 4.0, 0.0], [0.0, 0.0, 7.0]])
    stat, df, p, note = stuart_maxwell(tab)
    assert df == 1 and stat == pytest.approx((3 - 1) ** 2 / 4) and "1 level(s)" in note
    stat, df, p, note = stuart_maxwell(np.diag([3.0, 4.0]))
    assert (stat, df, p) == (0.0, 0, 1.0) and "no discordant" in note


# ---------------------------------------------------------------------------------------------- binary
def test_binary_fpr_fnr_pc_pplus_by_hand():
    items = [f"x{i}" for i in range(10)]
    ref = ["pass"] * 4 + ["fail"] * 6
    jud = ["pass", "pass", "pass", "fail", "pass", "pass", "fail", "fail", "fail", "fail"]
    t = align(_gold({"h": ref}, items), {"j": pd.DataFrame({"item_id": items, "label": jud})},
              Scale("binary", levels=["fail", "pass"], positive="pass"))
    res = _run(t, n_resamples=500)
    fpr, fnr = 2 / 6, 1 / 4
    assert _row(res, "fpr")["estimate"] == pytest.approx(fpr)
    assert _row(res, "fnr")["estimate"] == pytest.approx(fnr)
    assert _row(res, "p_c")["estimate"] == pytest.approx((1 - fnr) + (1 - fpr) - 1)
    assert _row(res, "leniency_p_plus")["estimate"] == pytest.approx(fpr / (fpr + fnr))   # 4/7 > 0.5: lenient
    sh = _row(res, "leniency_shift")
    assert sh["estimate"] == pytest.approx(0.5 - 0.4)
    assert sh["p_value"] == pytest.approx(mcnemar(np.array([[4, 2], [1, 3]]), exact=True).pvalue)
    for m in ("fpr", "fnr", "p_c", "leniency_p_plus"):
        r = _row(res, m)
        assert r["ci_low"] <= r["estimate"] <= r["ci_high"]


def test_binary_positive_class_first_level():
    items = ["a", "b", "c", "d"]
    t = align(_gold({"h": ["correct", "correct", "incorrect", "incorrect"]}, items),
              {"j": pd.DataFrame({"item_id": items, "label": ["correct", "correct", "correct", "incorrect"]})},
              Scale("binary", levels=["correct", "incorrect"], positive="correct"))
    res = _run(t, n_resamples=0)
    assert _row(res, "fpr")["estimate"] == pytest.approx(0.5) and _row(res, "fnr")["estimate"] == 0
    assert _row(res, "leniency_p_plus")["estimate"] == 1.0


def test_binary_perfect_judge_p_plus_is_nan_with_note():
    items = ["a", "b", "c", "d"]
    lab = ["pass", "fail", "pass", "fail"]
    t = align(_gold({"h": lab}, items), {"j": pd.DataFrame({"item_id": items, "label": lab})},
              Scale("binary", levels=["fail", "pass"], positive="pass"))
    r = _row(_run(t, n_resamples=50), "leniency_p_plus")
    assert math.isnan(r["estimate"]) and "FPR = FNR = 0" in r["note"]


# ---------------------------------------------------------------------------------------------- nominal, pairwise
def test_nominal_only_marginal_homogeneity():
    items = [f"n{i}" for i in range(6)]
    t = align(_gold({"h": ["x", "y", "z", "x", "y", "z"]}, items),
              {"j": pd.DataFrame({"item_id": items, "label": ["x", "x", "x", "x", "y", "z"]})},
              Scale("nominal", levels=["x", "y", "z"]))
    res = _run(t)
    assert {r["metric"] for r in res.rows} == {"stuart_maxwell"}
    assert any("nominal" in s for s in res.skipped)


def test_pairwise_tie_rates_by_hand():
    items = ["p1", "p2", "p3", "p4"]
    gold = _gold({"h": ["tie", "A", "B", "tie"]}, items)
    judge = pd.DataFrame({"item_id": [i for i in items for _ in range(2)], "order": ["AB", "BA"] * 4,
                          "label": ["tie", "tie", "tie", "A", "B", "B", "A", "A"]})
    t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "item"})
    res = _run(t)
    assert _row(res, "tie_rate")["estimate"] == pytest.approx(3 / 8)
    hum = _row(res, "tie_rate", "humans")
    assert hum["estimate"] == pytest.approx(2 / 4) and hum["reference"] == "j" and hum["rater_kind"] == "human"
    diff = _row(res, "tie_rate_difference")
    assert diff["estimate"] == pytest.approx(3 / 8 - 1 / 2) and diff["n"] == 4
    assert res.counts["j"]["judge_tie_rows"] == 3 and res.counts["j"]["human_tie_rows"] == 2


def test_pairwise_without_ties_is_unavailable():
    items = ["a", "b"]
    t = align(_gold({"h": ["A", "B"]}, items), {"j": pd.DataFrame({"item_id": items, "label": ["A", "A"]})},
              Scale("pairwise", ties=False))
    with pytest.raises(ProbeUnavailable, match="tie level"):
        _run(t)
    (res,) = run_probes(t, probes=["leniency"], n_resamples=10)
    assert "tie level" in res.skipped[0]


def test_modal_values_match_the_aligned_wide_table():
    from metajudge.probes.leniency import modal_values

    items = ["a", "a", "a", "b", "b", "c", "c", "c", "c"]
    judge = pd.DataFrame({"item_id": items, "label": [2, 1, 2, 0, 3, 3, 1, 1, 3],
                          "repeat": [0, 1, 2, 0, 1, 0, 1, 2, 3]})
    t = align(_gold({"h": [1, 2, 3]}, ["a", "b", "c"]), {"j": judge}, Scale("ordinal", levels=[0, 1, 2, 3]))
    got = modal_values(t.rows("j"))
    assert got.to_dict() == t.wide("judge")["j"].to_dict() == {"a": 2.0, "b": 0.0, "c": 1.0}  # ties: lower level


def test_determinism():
    t = _interval_sim(0.3, n=80, seed=5)
    a = pd.DataFrame(_run(t, seed=9).rows)
    pd.testing.assert_frame_equal(a, pd.DataFrame(_run(t, seed=9).rows))


def test_bland_altman_frame_pools_identical_points_and_grids_dense_clouds(monkeypatch):
    from metajudge.probes import leniency

    mean = np.array([1.5, 2.0, 1.5, 1.5, 3.0])
    diff = np.array([1.0, 0.0, 1.0, 1.0, -2.0])
    f, rounded = leniency.bland_altman_points(mean, diff)
    assert rounded == 0
    assert f.to_dict("list") == {"mean": [1.5, 2.0, 3.0], "diff": [1.0, 0.0, -2.0], "count": [3, 1, 1]}
    r = np.random.default_rng(0)
    m, d = r.normal(3, 1, 20_000), r.normal(0, 0.5, 20_000)
    monkeypatch.setattr(leniency, "BA_MAX_POINTS", 1000)
    f, rounded = leniency.bland_altman_points(m, d)
    assert rounded == 20_000 and f["count"].sum() == 20_000 and len(f) < 20_000
    # every point lies on the grid: lo + k * (hi - lo) / BA_GRID
    step = (m.max() - m.min()) / leniency.BA_GRID
    k = (f["mean"].to_numpy() - m.min()) / step
    assert np.allclose(k, np.round(k))
