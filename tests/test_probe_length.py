"""Length probe (METRICS.md §5 "Length"): hand-computed rates, statsmodels cross-checks, planted effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from scipy.special import expit

from metajudge.align import align
from metajudge.probes import ProbeUnavailable, get_probe, run_probes
from metajudge.probes.length import _newton_boot, length_probe
from metajudge.scales import Scale


def _rows(res, metric, judge=None):
    df = pd.DataFrame(res.rows)
    df = df[df["metric"] == metric]
    if judge is not None:
        df = df[df["judge"] == judge]
    assert len(df) == 1, df
    return df.iloc[0]


def _run(table, n_resamples=200, seed=0, **options):
    return length_probe(table, options=options, confidence_level=0.95, n_resamples=n_resamples,
                        rng=np.random.default_rng(seed))


# ---------------------------------------------------------------------------------------------- hand-computed
def _tiny():
    #        item  len_a len_b human  judge (AB, BA)
    spec = [("p1", 10, 20, "B", ["B", "B"]),      # B longer: judge 2/2 longer, human 1/1
            ("p2", 30, 10, "B", ["A", "tie"]),    # A longer: judge 1/1 (tie not decisive), human 0/1
            ("p3", 5, 50, "A", ["A", "A"]),       # B longer: judge 0/2, human 0/1
            ("p4", 40, 40, "A", ["A", "A"]),      # equal lengths: left out of the rates
            ("p5", 100, 10, "tie", ["A", "B"]),   # human tie: stays in (0/0 for humans), judge 1/2 longer
            ("p6", None, None, "A", ["A", "A"])]  # no length
    gold = pd.DataFrame([{"item_id": i, "rater": "h", "label": h, "length_a": a, "length_b": b}
                         for i, a, b, h, _ in spec])
    judge = pd.DataFrame([{"item_id": i, "order": o, "label": v} for i, _, _, _, js in spec
                          for o, v in zip(["AB", "BA"], js)])
    return align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "item"})


def test_prefer_longer_rates_by_hand():
    res = _run(_tiny())
    # items p1, p2, p3, p5 (the item set does not depend on the verdicts):
    # judge (2 + 1 + 0 + 1) / (2 + 1 + 2 + 2) = 4/7; humans (1 + 0 + 0 + 0) / (1 + 1 + 1 + 0) = 1/3
    j, h, ex = _rows(res, "prefer_longer_rate", "j"), _rows(res, "prefer_longer_rate", "humans"), \
        _rows(res, "prefer_longer_excess", "j")
    assert j["estimate"] == pytest.approx(4 / 7)
    assert h["estimate"] == pytest.approx(1 / 3)
    assert h["rater_kind"] == "human" and h["reference"] == "j"
    assert ex["estimate"] == pytest.approx(4 / 7 - 1 / 3)
    assert j["n"] == h["n"] == ex["n"] == 4
    assert j["confidence_level"] == 0.95 and j["method"] == "bootstrap-cluster"
    # Wald p of the judge rate against 0.5 with the item-clustered (linearised) SE, written out
    a, m = np.array([2.0, 1, 0, 1]), np.array([2.0, 1, 2, 2])
    u = (a - 4 / 7 * m) / m.mean()
    se = math.sqrt(4 / 3 * np.sum(u ** 2)) / 4
    assert j["p_value"] == pytest.approx(2 * sps.norm.sf((4 / 7 - 0.5) / se))
    c = res.counts["j"]
    assert c["paired_items"] == 4 and c["equal_length_items"] == 1 and c["missing_length_items"] == 1
    assert c["items_without_decisive_human"] == 1 and c["tie_rows"] == 1 and c["decisive_rows"] == 7
    assert c["items_without_decisive_judge"] == 0
    # plot frame: humans first, judge rows counted on every item with differing lengths (p1, p2, p3, p5)
    fr = res.frames["prefer_longer"]
    assert list(fr.columns) == ["rater", "bin", "rate", "n"]
    assert fr.loc[fr["rater"] == "j", "n"].sum() == 7 and fr.loc[fr["rater"] == "humans", "n"].sum() == 3
    assert res.description.startswith("Length probe")


def test_excess_ci_is_a_paired_item_bootstrap():
    res = _run(_tiny(), n_resamples=2000)
    ex = _rows(res, "prefer_longer_excess", "j")
    # with 3 paired items the replicate differences are ratios of resampled sums; the CI brackets the estimate
    assert ex["ci_low"] <= ex["estimate"] <= ex["ci_high"]
    assert ex["ci_low"] >= -1 and ex["ci_high"] <= 1


def test_lengths_from_text_tokens_and_chars():
    items = ["p1", "p2", "p3", "p4"]
    text_a = ["one two three", "a", "xxxxxxxxxxxxxxxxxxxx", "w w w w"]   # tokens 3,1,1,4; chars 13,1,20,7
    text_b = ["one", "b c d e", "y y", "z"]                               # tokens 1,4,2,1; chars 3,7,3,1
    gold = pd.DataFrame({"item_id": items, "rater": "h", "label": ["A", "B", "A", "B"], "text_a": text_a,
                         "text_b": text_b})
    judge = pd.DataFrame({"item_id": items, "label": ["A", "B", "A", "A"]})
    t = align(gold, {"j": judge}, Scale("pairwise"))
    tok = _run(t, feature="tokens")
    chars = _run(t, feature="chars")
    # tokens: A longer in p1, p4; B longer in p2, p3.  judge picks A, B, A, A -> longer in p1, p2, p4 = 3/4
    assert _rows(tok, "prefer_longer_rate", "j")["estimate"] == pytest.approx(3 / 4)
    # chars: A longer in p1, p3, p4; B in p2 -> judge longer in all four
    assert _rows(chars, "prefer_longer_rate", "j")["estimate"] == pytest.approx(1.0)
    assert "whitespace tokens of text_a, text_b" in tok.description
    # humans A, B, A, B: tokens longer in p1, p2 = 2/4; chars longer in p1, p2, p3 = 3/4
    assert _rows(tok, "prefer_longer_rate", "humans")["estimate"] == pytest.approx(0.5)
    assert _rows(chars, "prefer_longer_rate", "humans")["estimate"] == pytest.approx(0.75)


def test_other_feature_columns_use_log1p_and_a_slice():
    items = [f"p{i}" for i in range(6)]
    gold = pd.DataFrame({"item_id": items, "rater": "h", "label": ["A", "B", "A", "B", "A", "B"],
                         "md_a": [0, 3, 1, 0, 2, 5], "md_b": [2, 0, 0, 1, 2, 1]})
    judge = pd.DataFrame({"item_id": items, "label": ["B", "A", "A", "B", "A", "A"]})
    t = align(gold, {"j": judge}, Scale("pairwise"), slices=["md_a", "md_b"])
    res = _run(t, columns=["md_a", "md_b"], name="markdown")
    r = _rows(res, "prefer_longer_rate", "j")
    # more markdown: B, A, A, B, (equal), A; judge B, A, A, B, -, A -> 5/5
    assert r["estimate"] == 1.0 and r["slice"] == "feature=markdown"
    assert "columns md_a, md_b" in res.description
    with pytest.raises(ProbeUnavailable, match="slice columns"):
        _run(t, columns=["nope_a", "nope_b"])


def test_unavailable_without_lengths_names_the_config_keys():
    gold = pd.DataFrame({"item_id": ["a", "b"], "rater": "h", "label": ["A", "B"]})
    t = align(gold, {"j": pd.DataFrame({"item_id": ["a", "b"], "label": ["A", "A"]})}, Scale("pairwise"))
    with pytest.raises(ProbeUnavailable, match="length_a/length_b or text_a/text_b"):
        _run(t)
    # through the runner: a skipped sentence, not a failure
    (res,) = run_probes(t, probes=["length"], n_resamples=10)
    assert res.rows == [] and "no response lengths" in res.skipped[0]
    assert get_probe("length") is length_probe


# ---------------------------------------------------------------------------------------------- simulations
def _simulate(n=400, beta=1.0, c=1.5, seed=0, both_orders=True):
    """Judge: logit P(prefers A) = c·h + beta·Δlog length, h = ±1 the (random) human label."""
    r = np.random.default_rng(seed)
    la = np.round(np.exp(r.normal(5, 0.8, n))) + 1
    lb = np.round(np.exp(r.normal(5, 0.8, n))) + 1
    h = r.choice([1.0, -1.0], n)
    gold = pd.DataFrame({"item_id": [f"i{i:04d}" for i in range(n)], "rater": "h",
                         "label": np.where(h > 0, "A", "B"), "length_a": la, "length_b": lb})
    rows = []
    truth = []
    for i in range(n):
        eta = c * h[i] + beta * (np.log(la[i]) - np.log(lb[i]))
        for o in (["AB", "BA"] if both_orders else ["AB"]):
            rows.append({"item_id": f"i{i:04d}", "order": o, "label": "A" if r.random() < expit(eta) else "B"})
            truth.append(expit(c * h[i]))
    t = align(gold, {"j": pd.DataFrame(rows)}, Scale("pairwise"), order_frame={"j": "item"})
    return t, float(np.mean(truth))


def test_planted_length_preference_is_detected_and_covered():
    t, lc_true = _simulate(beta=1.0, seed=3)
    res = _run(t, n_resamples=400)
    coef = _rows(res, "length_coef", "j")
    assert coef["p_value"] < 0.01 and coef["ci_low"] < 1.0 < coef["ci_high"]
    orr = _rows(res, "length_odds_ratio", "j")
    assert orr["estimate"] == pytest.approx(math.exp(coef["estimate"]))
    assert orr["ci_low"] == pytest.approx(math.exp(coef["ci_low"]))
    ex = _rows(res, "prefer_longer_excess", "j")
    assert ex["estimate"] > 0 and ex["p_value"] < 0.01 and ex["ci_low"] > 0
    lc = _rows(res, "length_controlled_win_rate", "j")
    assert lc["ci_low"] < lc_true < lc["ci_high"]


def test_unbiased_judge_is_not_flagged():
    t, lc_true = _simulate(beta=0.0, seed=4)
    res = _run(t, n_resamples=400)
    coef = _rows(res, "length_coef", "j")
    assert coef["p_value"] > 0.01 and coef["ci_low"] < 0 < coef["ci_high"]
    ex = _rows(res, "prefer_longer_excess", "j")
    assert ex["p_value"] > 0.01 and ex["ci_low"] < 0 < ex["ci_high"]
    lc = _rows(res, "length_controlled_win_rate", "j")
    assert lc["ci_low"] < lc_true < lc["ci_high"]


def test_glm_matches_statsmodels_with_item_clustered_se():
    t, _ = _simulate(n=150, beta=0.6, seed=7)
    res = _run(t, n_resamples=50)
    d = t.rows("j")[["item_id", "value"]].copy()
    g = t.item_attrs
    delta = np.log(g["length_a"].astype(float)) - np.log(g["length_b"].astype(float))
    x = pd.DataFrame({"delta": delta.reindex(d["item_id"]).to_numpy(),
                      "h": np.where(t.reference.reindex(d["item_id"]).to_numpy() == 0, 1.0, -1.0)})
    y = (d["value"].to_numpy() == 0).astype(float)
    X = sm.add_constant(x.to_numpy())
    fit = sm.GLM(y, X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["item_id"])[0]})
    coef = _rows(res, "length_coef", "j")
    assert coef["estimate"] == pytest.approx(fit.params[1], rel=1e-8)
    lo, hi = fit.conf_int(0.05)[1]
    assert (coef["ci_low"], coef["ci_high"]) == pytest.approx((lo, hi), rel=1e-8)
    assert coef["p_value"] == pytest.approx(fit.pvalues[1], rel=1e-6)
    assert coef["n"] == 150
    # LC win rate: Δ set to 0, averaged over the fitted rows; at the MLE the raw rate equals the mean fit
    X0 = X.copy()
    X0[:, 1] = 0
    assert _rows(res, "length_controlled_win_rate", "j")["estimate"] == pytest.approx(
        np.mean(fit.predict(X0)), rel=1e-8)
    assert _rows(res, "win_rate_a", "j")["estimate"] == pytest.approx(y.mean())
    assert np.mean(fit.predict(X)) == pytest.approx(y.mean(), abs=1e-8)


def test_vectorised_bootstrap_newton_matches_statsmodels_freq_weights():
    r = np.random.default_rng(0)
    n = 200
    X = np.column_stack([np.ones(n), r.normal(size=n), r.choice([-1.0, 1.0], n)])
    y = (r.random(n) < expit(X @ np.array([0.2, 0.8, 1.0]))).astype(float)
    w = r.multinomial(n, np.full(n, 1 / n), size=3).astype(float)
    start = sm.GLM(y, X, family=sm.families.Binomial()).fit().params
    got = _newton_boot(X, y, w, start)
    for b in range(3):
        exp = sm.GLM(y, X, family=sm.families.Binomial(), freq_weights=w[b]).fit().params
        np.testing.assert_allclose(got[b], exp, rtol=1e-7, atol=1e-9)


def test_separation_gives_nan_with_a_reason():
    # the judge always agrees with the human label: the label separates the judge's choices
    n = 30
    r = np.random.default_rng(1)
    lab = r.choice(["A", "B"], n)
    gold = pd.DataFrame({"item_id": [f"i{i}" for i in range(n)], "rater": "h", "label": lab,
                         "length_a": r.integers(10, 100, n), "length_b": r.integers(10, 100, n)})
    t = align(gold, {"j": pd.DataFrame({"item_id": gold["item_id"], "label": lab})}, Scale("pairwise"))
    res = _run(t, n_resamples=20)
    coef = _rows(res, "length_coef", "j")
    assert math.isnan(coef["estimate"]) and "separate" in coef["note"]
    assert any("separate" in s for s in res.skipped)
    # the judge's and humans' prefer-longer rates are then identical: excess 0
    assert _rows(res, "prefer_longer_excess", "j")["estimate"] == 0


def test_determinism():
    t, _ = _simulate(n=120, beta=0.5, seed=2)
    a = pd.DataFrame(_run(t, n_resamples=100, seed=5).rows)
    b = pd.DataFrame(_run(t, n_resamples=100, seed=5).rows)
    pd.testing.assert_frame_equal(a, b)
    c = pd.DataFrame(_run(t, n_resamples=100, seed=6).rows)
    assert not a["ci_low"].equals(c["ci_low"])


# ---------------------------------------------------------------------------------------------- pointwise
def _pointwise(n=300, beta=0.5, seed=0):
    r = np.random.default_rng(seed)
    q = r.normal(3, 1, n)
    L = np.round(np.exp(r.normal(5, 0.7, n)))
    gold = pd.DataFrame({"item_id": [f"i{i}" for i in range(n)], "rater": "h", "label": q, "length_a": L})
    judge = pd.DataFrame({"item_id": gold["item_id"], "label": q + beta * np.log(L) + r.normal(0, 0.3, n)})
    return align(gold, {"j": judge}, Scale("interval")), q, L


def test_pointwise_planted_length_slope_matches_statsmodels():
    t, q, L = _pointwise(beta=0.5, seed=1)
    res = _run(t, n_resamples=0)
    coef = _rows(res, "length_coef", "j")
    assert coef["p_value"] < 0.01 and coef["ci_low"] < 0.5 < coef["ci_high"]
    jr = t.rows("j")
    y = jr["value"].to_numpy(float)
    X = sm.add_constant(np.column_stack([np.log(L), q]))
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": np.arange(len(y))})
    assert coef["estimate"] == pytest.approx(fit.params[1], rel=1e-9)
    assert (coef["ci_low"], coef["ci_high"]) == pytest.approx(tuple(fit.conf_int(0.05)[1]), rel=1e-9)
    hum = _rows(res, "length_coef", "humans")
    assert hum["rater_kind"] == "human" and hum["ci_low"] < 0 < hum["ci_high"]
    fr = res.frames["length_score"]
    assert set(fr["rater"]) == {"humans", "j"} and fr.loc[fr["rater"] == "j", "n"].sum() == 300


def test_pointwise_unbiased_judge_not_flagged():
    t, _, _ = _pointwise(beta=0.0, seed=2)
    coef = _rows(_run(t, n_resamples=0), "length_coef", "j")
    assert coef["p_value"] > 0.01 and coef["ci_low"] < 0 < coef["ci_high"]


def test_pointwise_without_length_is_unavailable():
    gold = pd.DataFrame({"item_id": ["a", "b", "c"], "rater": "h", "label": [1, 2, 3]})
    t = align(gold, {"j": pd.DataFrame({"item_id": ["a", "b", "c"], "label": [1, 2, 3]})}, Scale("interval"))
    with pytest.raises(ProbeUnavailable, match="length_a or text_a"):
        _run(t)
