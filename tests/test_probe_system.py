"""System-level validity probe (METRICS.md §6): hand-computed rankings, scipy cross-checks, a reversed judge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from metajudge.align import align
from metajudge.probes import ProbeUnavailable, run_probes
from metajudge.probes.system import _kendall_b, _replicate_correlations, _spearman, system_probe
from metajudge.scales import Scale


def _row(res, metric, judge="j", slice_="all"):
    df = pd.DataFrame(res.rows)
    df = df[(df["metric"] == metric) & (df["judge"] == judge) & (df["slice"] == slice_)]
    assert len(df) == 1, df
    return df.iloc[0]


def _run(table, n_resamples=300, seed=0):
    return system_probe(table, options={}, confidence_level=0.95, n_resamples=n_resamples,
                        rng=np.random.default_rng(seed))


def test_pointwise_rankings_by_hand():
    spec = {"A": ([4, 4], [3, 3]), "B": ([2, 4], [4, 4]), "C": ([1, 3], [2, 2]), "D": ([1, 1], [1, 2])}
    gold, judge = [], []
    for s, (hum, jud) in spec.items():
        for k, (h, j) in enumerate(zip(hum, jud)):
            gold.append({"item_id": f"{s}{k}", "rater": "h", "label": h, "system": s})
            judge.append({"item_id": f"{s}{k}", "label": j})
    t = align(pd.DataFrame(gold), {"j": pd.DataFrame(judge)}, Scale("interval"))
    res = _run(t)
    # human means A 4, B 3, C 2, D 1; judge A 3, B 4, C 2, D 1.5: one swapped pair of six
    rho, tau = _row(res, "system_rank_spearman"), _row(res, "system_rank_kendall")
    assert rho["estimate"] == pytest.approx(0.8) and tau["estimate"] == pytest.approx(2 / 3)
    hs, js = [4, 3, 2, 1], [3, 4, 2, 1.5]
    # 4 systems: the exact permutation p (scipy enumerates all 24 pairings), not the t approximation
    exact = sps.permutation_test((js, hs), lambda a, b: sps.spearmanr(a, b).statistic,
                                 permutation_type="pairings", n_resamples=np.inf).pvalue
    assert rho["p_value"] == pytest.approx(exact) and "exact permutation" in rho["note"]
    assert tau["p_value"] == pytest.approx(sps.kendalltau(js, hs).pvalue)
    assert rho["level"] == "system" and rho["n"] == 8
    for s, dev in {"A": 1.0, "B": 1.0, "C": 0.0, "D": 0.5}.items():
        r = _row(res, "system_deviation", slice_=f"system={s}")
        assert r["estimate"] == pytest.approx(dev) and r["n"] == 2
    fr = res.frames["ranking"].set_index("system")
    assert fr["human_rank"].tolist() == [1, 2, 3, 4] and fr["judge_rank"].tolist() == [2, 1, 3, 4]
    assert fr["judge_score"].tolist() == js and fr["deviation"].tolist() == [-1, 1, 0, 0.5]
    assert res.counts["j"]["systems"] == 4


def test_pairwise_win_rates_by_hand():
    items = [("i1", "X", "Y", "A", ["A", "A"]), ("i2", "Y", "Z", "A", ["A", "tie"]),
             ("i3", "Z", "X", "B", ["B", "B"]), ("i4", "X", "Y", "tie", ["B", "B"]),
             ("i5", "X", "X", "A", ["A", "A"])]
    gold = pd.DataFrame([{"item_id": i, "rater": "h", "label": h, "generator_a": a, "generator_b": b}
                         for i, a, b, h, _ in items])
    judge = pd.DataFrame([{"item_id": i, "order": o, "label": v} for i, *_, js in items
                          for o, v in zip(["AB", "BA"], js)])
    t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "item"})
    res = _run(t)
    fr = res.frames["ranking"].set_index("system")
    assert fr.loc[["X", "Y", "Z"], "judge_score"].tolist() == pytest.approx([2 / 3, 1.75 / 3, 0.125])
    assert fr.loc[["X", "Y", "Z"], "human_score"].tolist() == pytest.approx([2.5 / 3, 0.5, 0.0])
    assert _row(res, "system_rank_kendall")["estimate"] == pytest.approx(1.0)
    assert _row(res, "system_deviation", slice_="system=Y")["estimate"] == pytest.approx(1 / 12)
    assert res.counts["j"]["items_same_generator"] == 1 and res.counts["j"]["items_used"] == 4


def _systems(reverse: bool, n_sys=8, per=30, seed=0):
    r = np.random.default_rng(seed)
    gold, judge = [], []
    for s in range(n_sys):
        for i in range(per):
            q = s + r.normal(0, 1)
            it = f"s{s}_{i}"
            for h in range(2):
                gold.append({"item_id": it, "rater": f"h{h}", "label": q + r.normal(0, 0.5), "system": f"sys{s}"})
            judge.append({"item_id": it, "label": (-q if reverse else q) + r.normal(0, 0.5)})
    return align(pd.DataFrame(gold), {"j": pd.DataFrame(judge)}, Scale("interval"))


def test_reversed_judge_is_detected():
    res = _run(_systems(reverse=True, seed=1), n_resamples=400)
    tau, rho = _row(res, "system_rank_kendall"), _row(res, "system_rank_spearman")
    assert tau["estimate"] == pytest.approx(-1) and rho["estimate"] == pytest.approx(-1)
    assert tau["p_value"] < 0.01 and rho["p_value"] < 0.01
    assert tau["ci_low"] == pytest.approx(-1) and tau["ci_high"] < 0
    assert rho["ci_low"] == pytest.approx(-1) and rho["ci_high"] < 0


def test_faithful_judge_ranks_like_humans():
    res = _run(_systems(reverse=False, seed=2), n_resamples=400)
    tau = _row(res, "system_rank_kendall")
    assert tau["estimate"] > 0.7 and tau["p_value"] < 0.01 and tau["ci_low"] > 0.4
    assert tau["ci_high"] == pytest.approx(1.0)


def test_spearman_p_exact_small_and_t_approximation_large():
    from metajudge.probes.system import spearman_p

    # a perfect ranking of 4 systems: 2 of 24 pairings reach |ρ| = 1 -> p = 1/12 (scipy's t approximation: 0)
    p, how = spearman_p(np.arange(4.0), np.arange(4.0))
    assert p == pytest.approx(1 / 12) and how == "exact permutation"
    assert sps.spearmanr(np.arange(4.0), np.arange(4.0)).pvalue == 0
    r = np.random.default_rng(3)
    x, y = r.normal(size=4), r.normal(size=4)
    y[1] = y[3]   # a tie
    exact = sps.permutation_test((x, y), lambda a, b: sps.spearmanr(a, b).statistic, permutation_type="pairings",
                                 n_resamples=np.inf).pvalue     # scipy enumerates the (4!)² pairings
    assert spearman_p(x, y)[0] == pytest.approx(exact)
    x, y = r.normal(size=12), r.normal(size=12)
    assert spearman_p(x, y) == (pytest.approx(sps.spearmanr(x, y).pvalue), "t approximation")


def test_vectorised_rank_correlations_match_scipy():
    r = np.random.default_rng(0)
    x = r.integers(0, 4, (30, 7)).astype(float)   # ties on purpose
    y = r.integers(0, 4, (30, 7)).astype(float)
    rho, tau = _spearman(x, y), _kendall_b(x, y)
    for b in range(30):
        exp_r = sps.spearmanr(x[b], y[b]).statistic
        exp_t = sps.kendalltau(x[b], y[b]).statistic
        assert rho[b] == pytest.approx(exp_r, nan_ok=True)
        assert tau[b] == pytest.approx(exp_t, nan_ok=True)
    # a replicate that misses a system: both correlations over the systems present
    x[0, 2] = np.nan
    rr, tt = _replicate_correlations(x[:1], y[:1])
    keep = [0, 1, 3, 4, 5, 6]
    assert rr[0] == pytest.approx(sps.spearmanr(x[0, keep], y[0, keep]).statistic)
    assert tt[0] == pytest.approx(sps.kendalltau(x[0, keep], y[0, keep]).statistic)


def test_unavailable_and_too_few_systems():
    gold = pd.DataFrame({"item_id": ["a", "b", "c"], "rater": "h", "label": [1, 2, 3]})
    judge = pd.DataFrame({"item_id": ["a", "b", "c"], "label": [1, 2, 3]})
    t = align(gold, {"j": judge}, Scale("interval"))
    with pytest.raises(ProbeUnavailable, match="gold.columns.system"):
        _run(t)
    (res,) = run_probes(t, probes=["system"], n_resamples=10)
    assert "no systems to rank" in res.skipped[0]
    t2 = align(gold.assign(system=["s1", "s1", "s2"]), {"j": judge}, Scale("interval"))
    res2 = _run(t2)
    assert res2.rows == [] and "at least 3" in res2.skipped[0]
    tp = align(pd.DataFrame({"item_id": ["a"], "rater": "h", "label": ["A"]}),
               {"j": pd.DataFrame({"item_id": ["a"], "label": ["A"]})}, Scale("pairwise"))
    with pytest.raises(ProbeUnavailable, match="generator_a and generator_b"):
        _run(tp)


def test_determinism():
    t = _systems(reverse=False, n_sys=5, per=10, seed=3)
    a = pd.DataFrame(_run(t, seed=4).rows)
    pd.testing.assert_frame_equal(a, pd.DataFrame(_run(t, seed=4).rows))
