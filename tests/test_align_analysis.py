"""Alignment (coverage, pairwise order mapping, aggregation) and the analysis layer (ceiling, baselines,
comparisons, determinism), checked against the public metric functions and statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

import metajudge as mj
from metajudge.align import aggregate_values, align
from metajudge.analysis import analyze
from metajudge.errors import AlignmentError, ScaleError
from metajudge.scales import Scale


def _gold_long(labels: dict[str, list], items: list[str]) -> pd.DataFrame:
    rows = []
    for rater, labs in labels.items():
        for it, lab in zip(items, labs):
            if lab is not None:
                rows.append({"item_id": it, "rater": rater, "label": lab})
    return pd.DataFrame(rows)


def _judge(items, labels, **extra) -> pd.DataFrame:
    df = pd.DataFrame({"item_id": items, "label": labels})
    for k, v in extra.items():
        df[k] = v
    return df


# ------------------------------------------------------------------------------------------- alignment
def test_pairwise_shown_order_is_mapped_back_to_item_frame():
    items = ["p1", "p2", "p3"]
    gold = _gold_long({"h": ["A", "B", "tie"]}, items)
    # the judge saw p1 as (A, B) and as (B, A); verdicts are about the SHOWN slots
    judge = _judge(["p1", "p1", "p2", "p2", "p3", "p3"], ["A", "B", "A", "A", "tie", "tie"],
                   order=["AB", "BA", "AB", "BA", "AB", "BA"])
    t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "shown"})
    rows = t.rows("j").sort_values(["item_id", "order"])
    # p1: shown-first both times = A then B -> item frame A, A (consistent); p2: A, then first slot = B
    assert t.scale.decode(rows["value"].to_numpy()) == ["A", "A", "A", "B", "tie", "tie"]
    assert t.scale.decode(rows["shown"].to_numpy()) == ["A", "B", "A", "A", "tie", "tie"]


def test_pairwise_item_frame_keeps_verdicts_and_derives_shown():
    items = ["p1", "p2"]
    gold = _gold_long({"h": ["A", "B"]}, items)
    judge = _judge(["p1", "p1", "p2"], ["A", "A", "B"], order=["AB", "BA", "BA"])
    t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "item"})
    rows = t.rows("j")
    assert t.scale.decode(rows["value"].to_numpy()) == ["A", "A", "B"]
    assert t.scale.decode(rows["shown"].to_numpy()) == ["A", "B", "A"]


def test_coverage_counts_every_problem_and_keeps_raw_text():
    items = ["1", "2", "3", "4", "5"]
    gold = _gold_long({"h1": [1, 2, 3, 9, 2], "h2": [1, 2, 3, 4, None]}, items)
    gold = pd.concat([gold, gold.iloc[[0]]], ignore_index=True)  # one duplicate row
    judge = pd.DataFrame({
        "item_id": ["1", "2", "3", "3", "4", "99", "5"],
        "label": [1, None, 7, 3, 4, 2, 2],
        "raw": ["Rating: 1", "<b>no idea</b>", "Rating: 7", "Rating: 3", "Rating: 4", "Rating: 2", "Rating: 2"],
        "parse_ok": [True, False, True, True, True, True, True],
    })
    scale = Scale("ordinal", levels=[1, 2, 3, 4])
    t = align(gold, {"j": judge}, scale)
    cov = t.coverage.set_index("source")
    assert cov.loc["gold", "duplicate_rows"] == 1
    assert cov.loc["gold", "out_of_scale"] == 1          # the 9
    assert cov.loc["j", "unparseable"] == 1
    assert cov.loc["j", "out_of_scale"] == 1              # the 7
    assert cov.loc["j", "missing_in_gold"] == 1           # item 99
    assert cov.loc["j", "duplicate_rows"] == 1            # second row of item 3
    assert cov.loc["j", "excluded_rows"] == 4             # unparseable, 7, duplicate, item 99
    probs = t.problems
    assert "<b>no idea</b>" in probs.loc[probs["problem"] == "unparseable output", "raw"].tolist()
    assert set(probs["problem"]) >= {"unparseable output", "label outside the scale", "item not in the gold set",
                                     "duplicate row (first kept)"}


def test_fallback_is_counted_and_used():
    gold = _gold_long({"h": ["pass", "fail", "pass"]}, ["a", "b", "c"])
    judge = pd.DataFrame({"item_id": ["a", "b", "c"], "label": ["pass", None, "pass"],
                          "raw": ["ok", "???", "ok"], "parse_ok": [True, False, True]})
    t = align(gold, {"j": judge}, Scale("binary", levels=["fail", "pass"]), fallback={"j": "fail"})
    assert t.coverage.set_index("source").loc["j", "fallback_rows"] == 1
    assert len(t.rows("j")) == 3
    assert any("fallback" in n for n in t.notes)


def test_judge_without_overlap_is_an_error_that_says_why():
    gold = _gold_long({"h": [1, 2]}, ["a", "b"])
    with pytest.raises(AlignmentError, match="no usable judgment"):
        align(gold, {"j": _judge(["x", "y"], [1, 2])}, Scale("ordinal", levels=[1, 2]))


def test_ordinal_without_order_is_an_error():
    with pytest.raises(ScaleError, match="declare"):
        Scale("ordinal")


def test_majority_tie_is_undefined_and_median_is_low():
    items = pd.Series(["a", "a", "b", "b", "b"])
    vals = pd.Series([0.0, 1.0, 2.0, 2.0, 1.0])
    maj, undef = aggregate_values(vals, items, "majority", Scale("nominal", levels=["x", "y", "z"]))
    assert np.isnan(maj["a"]) and maj["b"] == 2.0 and undef == 1
    med, _ = aggregate_values(vals, items, "median", Scale("ordinal", levels=["x", "y", "z"]))
    assert med["a"] == 0.0 and med["b"] == 2.0


# ------------------------------------------------------------------------------------------- analysis
def _simulated(seed=0, n=120, k=4, humans=3, judges=("good", "bad")):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    items = [f"i{i:03d}" for i in range(n)]
    labels = {f"h{h}": np.clip(truth + rng.integers(-1, 2, n) * (rng.random(n) < 0.4), 0, k - 1).tolist()
              for h in range(humans)}
    gold = _gold_long(labels, items)
    js = {}
    for name, noise in zip(judges, (0.3, 0.8)):
        j = np.clip(truth + rng.integers(-2, 3, n) * (rng.random(n) < noise), 0, k - 1)
        js[name] = _judge(items, j.tolist())
    return gold, js, Scale("ordinal", levels=list(range(k)))


def test_agreement_equals_public_functions_on_the_same_reference():
    gold, js, scale = _simulated()
    t = align(gold, js, scale)
    a = analyze(t, n_resamples=0)
    ref = t.reference
    for name, jdf in js.items():
        r = ref.reindex(jdf["item_id"]).to_numpy()
        for w, metric in [(None, "cohen_kappa"), ("quadratic", "cohen_kappa_quadratic")]:
            expected = mj.cohen_kappa(r, jdf["label"].to_numpy(), weights=w, levels=range(4), n_resamples=0)
            got = a.agreement.query("judge == @name and metric == @metric and slice == 'all'")["estimate"].item()
            assert got == pytest.approx(expected.estimate, abs=1e-12)


def test_ceiling_scores_judge_against_the_same_leave_one_out_references():
    gold, js, scale = _simulated(seed=3)
    t = align(gold, js, scale)
    a = analyze(t, n_resamples=0)
    humans = t.humans
    hum, jud = [], []
    for h in humans:
        others = gold[gold["rater"] != h]
        agg = others.groupby("item_id")["label"].agg(lambda s: np.sort(s.to_numpy())[(len(s) - 1) // 2])
        mine = gold[gold["rater"] == h].set_index("item_id")["label"]
        agg = agg.reindex(mine.index)
        hum.append(mj.cohen_kappa(agg.to_numpy(), mine.to_numpy(), levels=range(4), n_resamples=0).estimate)
        jl = js["good"].set_index("item_id")["label"].reindex(mine.index)
        jud.append(mj.cohen_kappa(agg.to_numpy(), jl.to_numpy(), levels=range(4), n_resamples=0).estimate)
    c = a.ceiling.query("metric == 'cohen_kappa'").set_index("judge")["estimate"]
    assert c["human_ceiling"] == pytest.approx(np.mean(hum), abs=1e-12)
    assert c["good"] == pytest.approx(np.mean(jud), abs=1e-12)


def test_inter_annotator_alpha_matches_krippendorff_package():
    krippendorff = pytest.importorskip("krippendorff")
    gold, js, scale = _simulated(seed=5)
    t = align(gold, js, scale)
    a = analyze(t, n_resamples=0)
    wide = gold.pivot(index="item_id", columns="rater", values="label").to_numpy(dtype=float)
    expected = krippendorff.alpha(reliability_data=wide.T, level_of_measurement="ordinal",
                                  value_domain=[0, 1, 2, 3])
    got = a.ceiling.query("judge == 'humans' and metric == 'krippendorff_alpha_ordinal'")["estimate"].item()
    assert got == pytest.approx(expected, abs=1e-12)


def test_baselines_majority_class_and_always_first():
    items = [f"p{i}" for i in range(40)]
    rng = np.random.default_rng(1)
    gold = _gold_long({"h": rng.choice(["A", "B"], 40, p=[0.7, 0.3]).tolist()}, items)
    judge = _judge(items * 2, rng.choice(["A", "B"], 80).tolist(), order=["AB"] * 40 + ["BA"] * 40)
    t = align(gold, {"j": judge}, Scale("pairwise", ties=False), order_frame={"j": "shown"})
    b = analyze(t, n_resamples=0).baselines.set_index(["judge", "metric"])["estimate"]
    assert b[("majority_class", "cohen_kappa")] == pytest.approx(0.0, abs=1e-12)
    # always-first gives A on the AB run and B on the BA run: half its verdicts agree with any label
    assert b[("always_first", "percent_agreement")] == pytest.approx(0.5)
    assert ("random_uniform", "cohen_kappa") in b.index and ("random_prior", "cohen_kappa") in b.index


def test_comparisons_mcnemar_and_holm():
    gold, js, scale = _simulated(seed=2, judges=("j1", "j2"))
    js["j3"] = js["j1"].assign(label=np.roll(js["j1"]["label"].to_numpy(), 7))
    t = align(gold, js, scale)
    a = analyze(t, n_resamples=200, seed=1)
    comp = a.comparisons
    ref = t.reference
    c1 = js["j1"].set_index("item_id")["label"].reindex(ref.index).to_numpy() == ref.to_numpy()
    c2 = js["j2"].set_index("item_id")["label"].reindex(ref.index).to_numpy() == ref.to_numpy()
    tab = np.array([[np.sum(c1 & c2), np.sum(c1 & ~c2)], [np.sum(~c1 & c2), np.sum(~c1 & ~c2)]])
    row = comp.query("judge == 'j1 vs j2' and metric == 'accuracy_difference'")
    assert row["p_value"].item() == pytest.approx(mcnemar(tab, exact=True).pvalue, abs=1e-12)
    p = a.results["p_value"].dropna()
    np.testing.assert_allclose(a.results.loc[p.index, "p_adjusted"], multipletests(p, method="holm")[1])
    assert (a.results.loc[p.index, "p_adjusted"] >= p - 1e-15).all()
    d = comp.query("judge == 'j1 vs j2' and metric == 'cohen_kappa_quadratic_difference'")
    k1 = a.agreement.query("judge == 'j1' and metric == 'cohen_kappa_quadratic' and slice == 'all'")["estimate"].item()
    k2 = a.agreement.query("judge == 'j2' and metric == 'cohen_kappa_quadratic' and slice == 'all'")["estimate"].item()
    assert d["estimate"].item() == pytest.approx(k1 - k2, abs=1e-12)
    assert d["ci_low"].item() <= d["estimate"].item() <= d["ci_high"].item()


def test_analysis_is_deterministic_given_the_seed():
    gold, js, scale = _simulated(seed=4)
    t = align(gold, js, scale)
    a1 = analyze(t, n_resamples=100, seed=7)
    a2 = analyze(t, n_resamples=100, seed=7)
    pd.testing.assert_frame_equal(a1.results, a2.results)
    a3 = analyze(t, n_resamples=100, seed=8)
    assert not a1.results["ci_low"].equals(a3.results["ci_low"])
    fixed = ~a1.results["judge"].str.startswith("random")  # random baselines are one seeded draw
    pd.testing.assert_series_equal(a1.results.loc[fixed, "estimate"], a3.results.loc[fixed, "estimate"])


def test_repeated_judge_rows_are_resampled_as_clusters():
    gold, js, scale = _simulated(seed=6, n=200)
    rep = pd.concat([js["good"].assign(repeat=str(r)) for r in range(3)], ignore_index=True)
    t1 = align(gold, {"once": js["good"]}, scale)
    t3 = align(gold, {"thrice": rep}, scale)
    e1 = analyze(t1, n_resamples=400, seed=0).agreement.query("metric == 'cohen_kappa' and slice == 'all'")
    e3 = analyze(t3, n_resamples=400, seed=0).agreement.query("metric == 'cohen_kappa' and slice == 'all'")
    assert e3["estimate"].item() == pytest.approx(e1["estimate"].item(), abs=1e-12)
    w1 = (e1["ci_high"] - e1["ci_low"]).item()
    w3 = (e3["ci_high"] - e3["ci_low"]).item()
    assert 0.8 < w3 / w1 < 1.25  # identical repeats add no information: no narrower interval
    assert e3["n"].item() == 200


def test_slices_and_interval_scale():
    rng = np.random.default_rng(0)
    n = 80
    items = [f"s{i}" for i in range(n)]
    truth = rng.normal(size=n)
    gold = pd.concat([pd.DataFrame({"item_id": items, "rater": f"h{h}", "label": truth + rng.normal(0, .5, n),
                                    "cat": np.where(np.arange(n) % 2, "odd", "even")}) for h in range(3)])
    judge = _judge(items, (truth + rng.normal(0, .7, n)).tolist())
    t = align(gold, {"j": judge}, Scale("interval"), slices=["cat"])
    a = analyze(t, n_resamples=50)
    agr = a.agreement
    assert set(agr["slice"]) == {"all", "cat=even", "cat=odd"}
    assert {"pearson", "spearman", "kendall_tau", "krippendorff_alpha_interval"} <= set(agr["metric"])
    mean_ref = gold.groupby("item_id")["label"].mean().reindex(items)
    from scipy.stats import pearsonr
    got = agr.query("metric == 'pearson' and slice == 'all' and level == 'dataset'")["estimate"].item()
    assert got == pytest.approx(pearsonr(mean_ref, judge["label"]).statistic, abs=1e-12)


def test_interval_ceiling_has_intervals_and_baselines_are_near_zero():
    rng = np.random.default_rng(11)
    n = 150
    items = [f"s{i}" for i in range(n)]
    truth = rng.normal(size=n)
    gold = pd.concat([pd.DataFrame({"item_id": items, "rater": f"h{h}", "label": truth + rng.normal(0, .6, n)})
                      for h in range(3)])
    judge = _judge(items, (truth + rng.normal(0, .5, n)).tolist())
    a = analyze(align(gold, {"j": judge}, Scale("interval")), n_resamples=300)
    for who in ("human_ceiling", "j"):
        for kind in ("pearson", "spearman"):
            r = a.ceiling.query("judge == @who and metric == @kind").iloc[0]
            assert r["ci_low"] < r["estimate"] < r["ci_high"]
    # the judge is less noisy than a single human: its leave-one-out correlation is higher
    c = a.ceiling.query("metric == 'pearson'").set_index("judge")["estimate"]
    assert c["j"] > c["human_ceiling"]
    base = a.baselines.query("metric == 'pearson'").set_index("judge")
    assert set(base.index) == {"random_uniform", "random_prior"}
    assert (base["ci_low"] < 0.2).all() and (base["estimate"].abs() < 0.25).all()


# ------------------------------------------------------------------- regressions from the review of issue 2
def test_swap_uses_the_scale_when_a_judge_never_says_b():
    gold = _gold_long({"h": ["A", "tie"]}, ["p1", "p2"])
    judge = _judge(["p1", "p1", "p2", "p2"], ["A", "tie", "tie", "tie"], order=["AB", "BA", "AB", "BA"])
    t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "shown"})
    rows = t.rows("j").sort_values(["item_id", "order"])
    assert t.scale.decode(rows["value"].to_numpy()) == ["A", "tie", "tie", "tie"]


def test_nominal_label_used_only_by_a_judge_counts_as_disagreement():
    items = [f"i{i}" for i in range(10)]
    gold = _gold_long({"h": ["cat", "dog"] * 5}, items)
    judge = _judge(items, ["other"] * 4 + ["cat", "dog"] * 3)
    t = align(gold, {"j": judge}, Scale("nominal"))
    assert "other" in t.scale.levels
    pa = analyze(t, n_resamples=0).agreement.query("metric == 'percent_agreement'")["estimate"].item()
    assert pa == pytest.approx(0.6)


def test_ceiling_scores_the_human_on_the_judges_items_only():
    items = [f"i{i}" for i in range(8)]
    labels = {"h1": [0, 1, 0, 1, 0, 1, 0, 1], "h2": [0, 1, 0, 1, 1, 0, 1, 0], "h3": [0, 1, 0, 1, 0, 0, 1, 1]}
    gold = _gold_long(labels, items)
    t = align(gold, {"j": _judge(items[:4], [0, 1, 0, 1])}, Scale("nominal", levels=[0, 1]))
    c = analyze(t, n_resamples=0).ceiling.query("metric == 'percent_agreement'").set_index("judge")
    assert c.loc["j", "n"] == 4 and c.loc["human_ceiling@j", "n"] == 4
    assert c.loc["human_ceiling@j", "estimate"] == pytest.approx(1.0)   # easy items: humans agree too
    assert c.loc["human_ceiling", "estimate"] < 1.0


def test_binary_string_labels_need_a_declared_positive_class():
    gold = _gold_long({"h": ["yes", "no", "yes"]}, ["a", "b", "c"])
    with pytest.raises(ScaleError, match="positive"):
        align(gold, {"j": _judge(["a", "b", "c"], ["yes", "yes", "no"])}, Scale("binary"))
    t = align(gold, {"j": _judge(["a", "b", "c"], ["yes", "yes", "no"])}, Scale("binary", positive="yes"))
    assert t.scale.levels[t.scale.positive_index] == "yes"


def test_interval_judges_with_almost_no_common_items_do_not_crash():
    items = [f"i{i}" for i in range(6)]
    gold = _gold_long({"h1": [1.0, 2, 3, 4, 5, 6], "h2": [1.5, 2, 3.5, 4, 5, 6.5]}, items)
    a = analyze(align(gold, {"a": _judge(items[:3], [1.0, 2, 3]), "b": _judge(items[2:], [3.0, 4, 5, 6])},
                      Scale("interval")), n_resamples=20)
    comp = a.comparisons
    assert comp["estimate"].isna().all() and comp["note"].str.contains("undefined").all()


def test_a_judge_without_usable_output_is_reported_not_fatal():
    items = [f"i{i}" for i in range(6)]
    gold = _gold_long({"h": [0, 1, 0, 1, 0, 1]}, items)
    bad = pd.DataFrame({"item_id": items, "label": [None] * 6, "raw": ["??"] * 6, "parse_ok": [False] * 6})
    t = align(gold, {"good": _judge(items, [0, 1, 0, 1, 1, 1]), "bad": bad}, Scale("nominal", levels=[0, 1]))
    a = analyze(t, n_resamples=20)
    rows = a.agreement.query("judge == 'bad'")
    assert rows["estimate"].isna().all() and rows["note"].str.contains("no item").all()
    assert a.coverage.set_index("source").loc["bad", "unparseable"] == 6
    assert any("no usable judgment" in n for n in t.notes)


def test_shown_order_verdicts_without_an_order_are_excluded_and_counted():
    gold = _gold_long({"h": ["A", "B"]}, ["p1", "p2"])
    judge = _judge(["p1", "p1", "p2"], ["A", "B", "A"], order=["AB", "BA", None])
    t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "shown"})
    assert set(t.rows("j")["item_id"]) == {"p1"}
    assert t.coverage.set_index("source").loc["j", "excluded_rows"] == 1
    assert (t.excluded["reason"] == "missing order").sum() == 1


def test_no_items_gives_nan_with_a_no_items_note():
    gold = _gold_long({"h1": ["A", "B"], "h2": ["B", "A"]}, ["p1", "p2"])  # every majority tied
    t = align(gold, {"j": _judge(["p1", "p2"], ["A", "B"])}, Scale("pairwise", ties=False))
    rows = analyze(t, n_resamples=10).agreement
    assert rows["estimate"].isna().all() and rows["note"].str.contains("no item").all()


def test_binary_metrics_with_one_observed_class_are_undefined_not_perfect():
    m = mj.classification_metrics([0, 0, 0], [0, 0, 0], n_resamples=0)
    assert np.isnan(m["precision"].estimate) and np.isnan(m["recall"].estimate)
    m = mj.classification_metrics(["no", "no"], ["no", "no"], positive="yes", n_resamples=0)
    assert np.isnan(m["recall"].estimate)


def test_rowwise_system_correlations_equal_scipy():
    from metajudge.metrics.correlation import _point_scipy, _rowwise_corr

    rng = np.random.default_rng(3)
    ax = rng.integers(0, 4, (50, 7)).astype(float)   # ties on purpose
    ay = ax + rng.integers(-2, 3, (50, 7))
    present = np.ones_like(ax, dtype=bool)
    present[0, 3] = False
    for kind, variant in [("pearson", "b"), ("spearman", "b"), ("kendall_tau", "b"), ("kendall_tau", "c")]:
        got = _rowwise_corr(kind, variant, ax, ay, present)
        exp = [_point_scipy(kind, variant, ax[j][present[j]], ay[j][present[j]]) for j in range(50)]
        np.testing.assert_allclose(got, exp, atol=1e-12)
