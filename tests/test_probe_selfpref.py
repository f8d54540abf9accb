"""Tests of the self-preference probe (metajudge.probes.selfpref).

Hand-computed tables pin the definitions (tie handling, vote weighting, excluded pairs, peers); simulations
from :mod:`metajudge.simulate` check that planted self-preference is found and that the intervals and tests
are calibrated: the 95% interval covers the population value (``Simulation.true_effects``) in at least 90% of
seeded simulations, and on simulations where the population value is 0 the 5%-level test rejects in at most
7.5% of them.
"""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from metajudge.align import align
from metajudge.probes import run_probes
from metajudge.probes.base import ProbeUnavailable
from metajudge.probes.selfpref import NO_GENERATOR, self_preference_probe, self_rank_bias
from metajudge.scales import Scale
from metajudge.simulate import JudgeSpec, SystemSpec, simulate_pairwise, simulate_pointwise

SYMMETRIC = [SystemSpec(f"s{i}", 0.0, None, 250.0) for i in range(1, 5)]


def _rows(res) -> pd.DataFrame:
    return pd.DataFrame(res.rows).set_index(["judge", "metric"])


# --- hand-computed pairwise table -------------------------------------------------------------------------

# item: (generator_a, generator_b, human votes, J runs (item frame), K runs (item frame))
HAND = {
    "i1": ("gpt4", "llama", ["A", "A", "B"], ["A", "A"], ["B", "B"]),
    "i2": ("llama", "GPT4", ["A", "tie", "A"], ["B", "tie"], ["A", "A"]),
    "i3": ("mistral", "gpt4", ["B", "B", "B"], ["A", "A"], ["B", "B"]),
    "i4": ("gpt4", "gpt4", ["A", "B", "B"], ["A", "B"], ["A", "A"]),     # both own: left out
    "i5": ("llama", "mistral", ["A", "A", "A"], ["A", "A"], ["B", "A"]),  # neither own: left out
}
SWAP = {"A": "B", "B": "A", "tie": "tie"}


def _hand_table(frame: str = "item", generators: bool = True):
    gold = pd.DataFrame([{"item_id": i, "rater": f"h{k}", "label": v, "generator_a": ga, "generator_b": gb}
                         for i, (ga, gb, votes, _, _) in HAND.items() for k, v in enumerate(votes)])
    if not generators:
        gold = gold.drop(columns=["generator_a", "generator_b"])
    judges = {}
    for name, col in (("J", 3), ("K", 4)):
        rows = []
        for i, rec in HAND.items():
            for order, v in zip(("AB", "BA"), rec[col]):
                label = SWAP[v] if (frame == "shown" and order == "BA") else v
                rows.append({"item_id": i, "label": label, "order": order})
        judges[name] = pd.DataFrame(rows)
    return align(gold, judges, Scale("pairwise"), order_frame={"J": frame, "K": frame})


@pytest.mark.parametrize("frame", ["item", "shown"])
def test_hand_pairwise(frame: str) -> None:
    """J (family gpt4): EO = P(own|own) − P(other|other) = (2/3)/(5/3) − 0/1 = 0.4; win rates 7/12 vs 11/18."""
    table = _hand_table(frame)
    res = self_preference_probe(table, options={"families": {"J": "GPT4", "K": "claude"}}, n_resamples=200, rng=0)
    r = _rows(res)
    assert r.loc[("J", "self_preference_eo"), "estimate"] == pytest.approx(0.4, abs=1e-12)
    assert r.loc[("J", "self_preference_inflation"), "estimate"] == pytest.approx(7 / 12 - 11 / 18, abs=1e-12)
    # K (family claude) has no self-vs-other pair but is J's peer: EO_K = 0.6 − 1 = −0.4, win rate 1/3
    assert r.loc[("J", "self_preference_eo_peer_adjusted"), "estimate"] == pytest.approx(0.8, abs=1e-12)
    assert r.loc[("J", "self_preference_inflation_peer_adjusted"), "estimate"] == pytest.approx(
        (7 / 12 - 11 / 18) - (1 / 3 - 11 / 18), abs=1e-12)
    assert r.loc[("J", "self_preference_eo"), "n"] == 3
    assert r.loc[("J", "self_preference_eo"), "probe"] == "self_preference"
    assert r.loc[("J", "self_preference_eo"), "method"] == "bootstrap-cluster"
    assert res.counts["J"] == {
        "self_vs_other_pairs": 3, "both_own_pairs": 1, "neither_own_pairs": 1, "pairs_without_judge_verdict": 0,
        "pairs_without_human_vote": 0, "judge_runs_own": 3, "judge_runs_other": 2, "judge_runs_tie": 1,
        "human_votes_own": 5, "human_votes_other": 3, "human_votes_tie": 1, "peers": 1, "clusters": 3}
    assert "K" not in res.counts
    assert any("judge 'K' (family 'claude'): no pair" in s for s in res.skipped)
    bars = res.frames["bars"].set_index(["metric", "group"])
    assert list(res.frames["bars"].columns) == ["judge", "metric", "group", "value", "ci_low", "ci_high"]
    assert bars.loc[("self_preference_eo", "own"), "value"] == pytest.approx(0.4)
    assert bars.loc[("self_preference_eo", "other"), "value"] == pytest.approx(0.0)
    assert bars.loc[("self_preference_inflation", "judge"), "value"] == pytest.approx(7 / 12)
    assert bars.loc[("self_preference_inflation", "human"), "value"] == pytest.approx(11 / 18)
    ok = r["ci_low"].notna()
    assert (r.loc[ok, "ci_low"] <= r.loc[ok, "estimate"] + 1e-12).all()
    assert (r.loc[ok, "estimate"] <= r.loc[ok, "ci_high"] + 1e-12).all()


def test_hand_pairwise_generator_families_and_case() -> None:
    """Generators map to families (case-insensitive); with llama -> gpt4 no pair is self-vs-other except i3
    (mistral vs gpt4) and i5 (llama≡gpt4 vs mistral)."""
    table = _hand_table()
    res = self_preference_probe(table, options={"families": {"J": "gpt4"}, "generator_families": {"LLAMA": "gpt4"}},
                                n_resamples=0)
    c = res.counts["J"]
    assert (c["self_vs_other_pairs"], c["both_own_pairs"], c["neither_own_pairs"]) == (2, 3, 0)
    # i3: own = B, humans B B B, J says A A -> own recall 0; i5: own = A (llama), humans A A A, J A A -> 1
    r = _rows(res)
    assert r.loc[("J", "self_preference_eo"), "estimate"] != r.loc[("J", "self_preference_eo"), "estimate"]  # NaN
    assert "no human vote prefers" in r.loc[("J", "self_preference_eo"), "note"]
    assert res.frames["bars"].set_index("group").loc["own", "value"] == pytest.approx(0.5)
    assert np.isnan(r.loc[("J", "self_preference_eo"), "ci_low"])  # n_resamples = 0


def test_deterministic_and_rng() -> None:
    table = _hand_table()
    opts = {"families": {"J": "gpt4", "K": "claude"}}
    a = pd.DataFrame(self_preference_probe(table, options=opts, n_resamples=300, rng=5).rows)
    b = pd.DataFrame(self_preference_probe(table, options=opts, n_resamples=300, rng=5).rows)
    pd.testing.assert_frame_equal(a, b)


# --- unavailable and skipped ----------------------------------------------------------------------------


def test_unavailable_messages() -> None:
    with pytest.raises(ProbeUnavailable) as e:
        self_preference_probe(_hand_table(generators=False), options={"families": {"J": "gpt4"}})
    assert str(e.value) == NO_GENERATOR
    assert "gold.columns.generator_a/generator_b (pairwise) or gold.columns.system (pointwise)" in NO_GENERATOR
    with pytest.raises(ProbeUnavailable, match=r"no family for judge 'J', 'K': set probes.self_preference.families"):
        self_preference_probe(_hand_table(), options={})
    with pytest.raises(ProbeUnavailable, match="unknown self_preference option"):
        self_preference_probe(_hand_table(), options={"family": {"J": "gpt4"}})
    with pytest.raises(ProbeUnavailable, match="no pair with exactly one response"):
        self_preference_probe(_hand_table(), options={"families": {"J": "claude"}})
    sim = simulate_pointwise(50, [JudgeSpec("a", family="dune")], seed=0)
    gold = sim.gold.drop(columns=["system"])
    with pytest.raises(ProbeUnavailable, match="no generator column"):
        self_preference_probe(align(gold, sim.judges, sim.scale), options={"families": {"a": "dune"}})


def test_skipped_lines_and_run_probes() -> None:
    table = _hand_table()
    res = self_preference_probe(table, options={"families": {"J": "gpt4", "ghost": "x"}}, n_resamples=0)
    assert "no family for judge 'K': set probes.self_preference.families" in res.skipped
    assert any("names no judge of this run: ['ghost']" in s for s in res.skipped)
    out = run_probes(table, probes=["self_preference"], n_resamples=0)
    assert out[0].rows == [] and "no family for judge" in out[0].skipped[0]
    out = run_probes(table, probes=["self_preference"], options={"self_preference": {"families": {"J": "gpt4"}}},
                     n_resamples=50, rng=np.random.default_rng(0))
    assert {r["metric"] for r in out[0].rows} == {"self_preference_eo", "self_preference_inflation"}


# --- pointwise -------------------------------------------------------------------------------------------


def _pointwise_table(levels=("1", "2", "3", "4", "5"), labels=None):
    # item: (system, human scores, judge scores (repeats))
    spec = {"p1": ("gpt4", [3, 4], [5]), "p2": ("gpt4", [2, 2], [3, 4]), "p3": ("llama", [4, 4], [4]),
            "p4": ("llama", [1, 3], [1])}
    lab = (lambda v: v) if labels is None else (lambda v: labels[v - 1])
    gold = pd.DataFrame([{"item_id": i, "rater": f"h{k}", "label": lab(v), "system": s}
                         for i, (s, hs, _) in spec.items() for k, v in enumerate(hs)])
    judge = pd.DataFrame([{"item_id": i, "label": lab(v), "repeat": str(r)}
                          for i, (_, _, js) in spec.items() for r, v in enumerate(js)])
    return align(gold, {"J": judge}, Scale("ordinal", levels=levels))


def test_hand_pointwise_did() -> None:
    """d = judge mean − human mean: 1.5, 1.5 (gpt4) and 0, −1 (llama): DiD = 1.5 − (−0.5) = 2."""
    res = self_preference_probe(_pointwise_table(), options={"families": {"J": "gpt4"}}, n_resamples=100, rng=0)
    r = _rows(res)
    assert list(r.index) == [("J", "self_preference_did")]
    assert r.loc[("J", "self_preference_did"), "estimate"] == pytest.approx(2.0)
    assert res.counts["J"] == {"own_items": 2, "other_items": 2, "items_without_judge_score": 0, "peers": 0,
                               "clusters": 4}
    bars = res.frames["bars"].set_index("group")["value"]
    assert bars["own"] == pytest.approx(1.5) and bars["other"] == pytest.approx(-0.5)
    # with word levels the values are ranks 0..4, which here gives the same differences
    words = ("awful", "poor", "fair", "good", "great")
    res2 = self_preference_probe(_pointwise_table(levels=words, labels=words), options={"families": {"J": "gpt4"}},
                                 n_resamples=0)
    assert res2.rows[0]["estimate"] == pytest.approx(2.0)
    # numeric levels count at their values: 1, 2, 3, 4, 10 -> the 5 in p1 counts 10
    res3 = self_preference_probe(_pointwise_table(levels=("1", "2", "3", "4", "10"), labels=[1, 2, 3, 4, 10]),
                                 options={"families": {"J": "gpt4"}}, n_resamples=0)
    assert res3.rows[0]["estimate"] == pytest.approx(((10 - 3.5) + 1.5) / 2 + 0.5)


def test_nominal_scale_unavailable() -> None:
    gold = pd.DataFrame({"item_id": ["a", "b"], "rater": "h", "label": ["x", "y"], "system": ["s", "t"]})
    table = align(gold, {"J": pd.DataFrame({"item_id": ["a", "b"], "label": ["x", "x"]})}, Scale("nominal"))
    with pytest.raises(ProbeUnavailable, match="ordered scale"):
        self_preference_probe(table, options={"families": {"J": "s"}})


# --- rankings ---------------------------------------------------------------------------------------------


def _ranking_frame() -> pd.DataFrame:
    """3 prompts × systems a, b, c, d; two annotators rank a > b > c > d (scores 3..0); judge `c` scores its own
    system c first on prompts 0 and 1, and ties everything on prompt 2 (uninformative)."""
    rows = []
    for p in range(3):
        for h in ("h1", "h2"):
            rows += [(p, s, h, sc) for s, sc in zip("abcd", (3, 2, 1, 0))]
        judge = {0: (2, 1, 3, 0), 1: (3, 1, 2, 0), 2: (1, 1, 1, 1)}[p]
        rows += [(p, s, "c", sc) for s, sc in zip("abcd", judge)]
        rows += [(p, s, "a", sc) for s, sc in zip("abcd", (3, 2, 1, 0))]
    return pd.DataFrame(rows, columns=["prompt", "system", "rater", "score"])


def test_self_rank_hand() -> None:
    """Consensus ranks (4 = best): a 4, b 3, c 2, d 1. Judge c ranks c 4 then 3: differences 2 and 1 -> 1.5.
    Peer a (family a) ranks exactly like the humans: without system a, the peer ranks c 2nd of 3 like the
    consensus (difference 0) while judge c ranks it 3rd of 3 on prompts 0 and 1 (difference 1): adjusted 1."""
    res = self_rank_bias(_ranking_frame(), humans=["h1", "h2"], families={"c": "c", "a": "a"}, n_resamples=100, rng=0)
    r = _rows(res)
    assert r.loc[("c", "self_rank_difference"), "estimate"] == pytest.approx(1.5)
    assert r.loc[("c", "self_rank_difference"), "n"] == 2
    assert r.loc[("c", "self_rank_difference_peer_adjusted"), "estimate"] == pytest.approx(1.0)
    assert r.loc[("a", "self_rank_difference"), "estimate"] == pytest.approx(0.0)
    assert res.counts["c"] == {"ranked_prompts": 2, "prompts_uninformative": 1, "rank_peers": 1}
    bars = res.frames["bars"].set_index(["judge", "group"])["value"]
    assert bars[("c", "judge")] == pytest.approx(3.5) and bars[("c", "human")] == pytest.approx(2.0)
    # lower-is-better scores give the mirror image
    flipped = _ranking_frame().assign(score=lambda d: -d["score"])
    res2 = self_rank_bias(flipped, humans=["h1", "h2"], families={"c": "c"}, higher_is_better=False, n_resamples=0)
    assert res2.rows[0]["estimate"] == pytest.approx(1.5)
    with pytest.raises(ProbeUnavailable, match="no family"):
        self_rank_bias(_ranking_frame(), humans=["h1", "h2"], families={})
    with pytest.raises(ProbeUnavailable, match="no annotator"):
        self_rank_bias(_ranking_frame(), humans=["x"], families={"c": "c"})


def test_self_rank_from_pointwise_groups_matches_function() -> None:
    """A pointwise table with several systems per prompt (group) gets the rank metric, equal to
    self_rank_bias on the same scores."""
    sim = simulate_pointwise(80, [JudgeSpec("selfish", family="dune", self_preference=0.8),
                                  JudgeSpec("plain", family="aurora")], responses_per_prompt=4, seed=2)
    table = sim.align()
    res = self_preference_probe(table, options=sim.probe_options()["self_preference"], n_resamples=0)
    r = _rows(res)
    assert r.loc[("selfish", "self_preference_did"), "method"] == "bootstrap-cluster (group)"
    d = table.data
    scores = pd.DataFrame({"prompt": d["group"], "system": d["system"], "rater": d["rater"],
                           "score": d["value"] + 1})
    res2 = self_rank_bias(scores, humans=table.humans, families=sim.families,
                          generator_families=sim.generator_families, n_resamples=0)
    r2 = _rows(res2)
    for key in r2.index:
        assert r.loc[key, "estimate"] == pytest.approx(r2.loc[key, "estimate"], abs=1e-12)
    assert r.loc[("selfish", "self_rank_difference"), "estimate"] > 0.2


# --- planted effects --------------------------------------------------------------------------------------


def test_planted_pairwise_detected_and_unbiased_not_flagged() -> None:
    sim = simulate_pairwise(600, [JudgeSpec("selfish", family="s1", self_preference=1.5),
                                  JudgeSpec("honest", family="s2")], systems=SYMMETRIC, seed=21)
    res = self_preference_probe(sim.align(), options=sim.probe_options()["self_preference"], n_resamples=1000,
                                rng=0)
    r = _rows(res)
    truth = sim.true_effects().set_index(["judge", "metric"])["value"]
    for metric in ("self_preference_eo", "self_preference_inflation", "self_preference_eo_peer_adjusted"):
        row = r.loc[("selfish", metric)]
        assert row["p_value"] < 0.01, metric
        if not metric.endswith("adjusted"):  # one seed; coverage rates are in the calibration tests below
            assert row["ci_low"] <= truth[("selfish", metric)] <= row["ci_high"], metric
        assert r.loc[("honest", metric), "p_value"] > 0.05, metric
        assert r.loc[("honest", metric), "ci_low"] <= 0 <= r.loc[("honest", metric), "ci_high"]


def test_planted_pointwise_detected_and_unbiased_not_flagged() -> None:
    sim = simulate_pointwise(600, [JudgeSpec("selfish", family="s1", self_preference=0.5),
                                   JudgeSpec("honest", family="s2"), JudgeSpec("lenient", leniency=0.7)],
                             systems=SYMMETRIC, seed=4)
    res = self_preference_probe(sim.align(), options=sim.probe_options()["self_preference"], n_resamples=1000,
                                rng=0)
    r = _rows(res)
    truth = sim.true_effects().set_index(["judge", "metric"])["value"]
    row = r.loc[("selfish", "self_preference_did")]
    assert row["p_value"] < 0.01 and row["ci_low"] <= truth[("selfish", "self_preference_did")] <= row["ci_high"]
    assert r.loc[("honest", "self_preference_did"), "p_value"] > 0.05
    assert "lenient" not in res.counts  # no family: skipped, with the reason
    assert "no family for judge 'lenient': set probes.self_preference.families" in res.skipped


def test_wald_se_close_to_bootstrap_se() -> None:
    """The delta-method test and the bootstrap interval measure the same spread."""
    sim = simulate_pairwise(800, [JudgeSpec("selfish", family="dune", self_preference=1.0)], seed=8)
    res = self_preference_probe(sim.align(), options=sim.probe_options()["self_preference"], n_resamples=4000,
                                rng=1)
    from scipy.stats import norm

    for row in res.rows:
        se_boot = (row["ci_high"] - row["ci_low"]) / (2 * norm.ppf(0.975))
        se_wald = abs(row["estimate"]) / norm.isf(row["p_value"] / 2)
        assert se_wald == pytest.approx(se_boot, rel=0.15), row["metric"]


# --- calibration ------------------------------------------------------------------------------------------

N_RESAMPLES = 200


@lru_cache(maxsize=None)
def _calibration(design: str, n_sims: int) -> pd.DataFrame:
    """Run the probe on ``n_sims`` seeded simulations; rows with the truth, coverage and rejection."""
    if design == "pairwise-symmetric":
        judges = [JudgeSpec("selfish", family="s1", self_preference=1.0), JudgeSpec("honest", family="s2")]
        make = lambda s: simulate_pairwise(300, judges, systems=SYMMETRIC, seed=s)  # noqa: E731
    elif design == "pairwise-confounded":   # default systems: dune best, aurora worst
        judges = [JudgeSpec("selfish", family="dune", self_preference=1.0), JudgeSpec("honest", family="aurora")]
        make = lambda s: simulate_pairwise(300, judges, seed=s)  # noqa: E731
    else:
        judges = [JudgeSpec("selfish", family="s1", self_preference=0.3), JudgeSpec("honest", family="s2")]
        make = lambda s: simulate_pointwise(300, judges, systems=SYMMETRIC, seed=s)  # noqa: E731
    truth = make(0).true_effects().set_index(["judge", "metric"])["value"]
    out = []
    for seed in range(n_sims):
        sim = make(1000 + seed)
        res = self_preference_probe(sim.table(), options=sim.probe_options()["self_preference"],
                                    n_resamples=N_RESAMPLES, rng=seed)
        out += [dict(r, seed=seed) for r in res.rows]
    df = pd.DataFrame(out)
    df["truth"] = [truth.get((j, m), np.nan) for j, m in zip(df["judge"], df["metric"])]
    df["covered"] = (df["ci_low"] <= df["truth"]) & (df["truth"] <= df["ci_high"])
    df["rejected"] = df["p_value"] < 0.05
    return df


def _rate(df: pd.DataFrame, judge: str, metric: str, col: str, first: int | None = None) -> float:
    d = df[(df["judge"] == judge) & (df["metric"] == metric)].sort_values("seed")
    if first is not None:
        d = d[d["seed"] < first]
    return float(d[col].mean())


def test_calibration_self_preference_eo() -> None:
    """The issue's criterion for self_preference_eo: the CI covers the planted effect in ≥ 90% of 200 seeded
    simulations, and on unbiased simulations the 5% test rejects in ≤ 7.5% of 400. Symmetric systems (equal
    quality and length), so the unbiased judge's population EO is exactly 0; 300 pairs each (about 150
    self-vs-other pairs per judge), 200 bootstrap resamples."""
    t0 = time.perf_counter()
    df = _calibration("pairwise-symmetric", 400)
    elapsed = time.perf_counter() - t0
    truth = df[(df.judge == "selfish") & (df.metric == "self_preference_eo")]["truth"].iloc[0]
    assert truth > 0.2
    assert df[(df.judge == "honest") & (df.metric == "self_preference_eo")]["truth"].abs().max() < 0.005
    assert _rate(df, "selfish", "self_preference_eo", "covered", first=200) >= 0.90
    assert _rate(df, "selfish", "self_preference_eo", "covered") >= 0.90
    assert _rate(df, "honest", "self_preference_eo", "rejected") <= 0.075
    # the other pairwise metrics, same simulations
    assert _rate(df, "selfish", "self_preference_inflation", "covered") >= 0.90
    assert _rate(df, "honest", "self_preference_inflation", "rejected") <= 0.075
    assert _rate(df, "honest", "self_preference_eo_peer_adjusted", "rejected") <= 0.075
    assert _rate(df, "honest", "self_preference_inflation_peer_adjusted", "rejected") <= 0.075
    assert _rate(df, "selfish", "self_preference_eo_peer_adjusted", "covered") >= 0.88
    assert _rate(df, "selfish", "self_preference_inflation_peer_adjusted", "covered") >= 0.88
    print(f"\n400 pairwise simulations in {elapsed:.1f} s")


def test_calibration_confounded_truth() -> None:
    """Where the judge's family writes the best (dune) or worst (aurora) answers, the population EO of an
    unbiased judge is not 0; the interval still covers the population value, and the peer-adjusted value of the
    unbiased judge is not flagged."""
    df = _calibration("pairwise-confounded", 200)
    honest_truth = df[(df.judge == "honest") & (df.metric == "self_preference_eo")]["truth"].iloc[0]
    assert honest_truth < -0.05
    for judge in ("selfish", "honest"):
        for metric in ("self_preference_eo", "self_preference_inflation"):
            assert _rate(df, judge, metric, "covered") >= 0.90, (judge, metric)
    assert _rate(df, "honest", "self_preference_eo", "rejected") > 0.5        # the confound is detectable...
    assert _rate(df, "honest", "self_preference_eo_peer_adjusted", "rejected") <= 0.075  # ...and removed


def test_calibration_self_preference_did() -> None:
    df = _calibration("pointwise-symmetric", 200)
    assert _rate(df, "selfish", "self_preference_did", "covered") >= 0.90
    assert _rate(df, "selfish", "self_preference_did", "rejected") >= 0.8
    assert _rate(df, "honest", "self_preference_did", "rejected") <= 0.075
    assert _rate(df, "honest", "self_preference_did_peer_adjusted", "rejected") <= 0.075
