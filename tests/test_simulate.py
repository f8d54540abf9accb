"""Tests of the simulator (metajudge.simulate): determinism, shapes, speed, and that
``Simulation.true_effects`` gives the population values of the metrics it documents.

The population values are checked three ways: closed forms where the model gives one (first-position rate
``(1 + position) / 2`` without ties; zero effects by symmetry), and direct large-sample estimates computed
here from the raw frames with plain pandas (no metajudge code), which must agree within sampling error.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from metajudge.simulate import (DEFAULT_SYSTEMS, JudgeSpec, Simulation, SystemSpec, simulate_pairwise,
                                simulate_pointwise)

SYMMETRIC = [SystemSpec(f"s{i}", 0.0, None, 250.0) for i in range(1, 5)]
JUDGES = [
    JudgeSpec("fair", family="cirrus"),
    JudgeSpec("primacy", family="basalt", position=0.3),
    JudgeSpec("longer", length=2.0),
    JudgeSpec("selfish", family="dune", self_preference=1.5),
]


# --- determinism and shapes ---------------------------------------------------------------------------


def test_pairwise_same_seed_identical_and_seed_matters() -> None:
    a = simulate_pairwise(200, JUDGES, seed=5)
    b = simulate_pairwise(200, JUDGES, seed=5)
    c = simulate_pairwise(200, JUDGES, seed=6)
    pd.testing.assert_frame_equal(a.gold, b.gold)
    for name in a.judges:
        pd.testing.assert_frame_equal(a.judges[name], b.judges[name])
    assert not a.gold["label"].equals(c.gold["label"])
    assert not a.judges["fair"]["label"].equals(c.judges["fair"]["label"])


def test_judge_streams_independent_of_other_judges() -> None:
    """Adding or removing a judge does not change the others' verdicts or the gold labels."""
    full = simulate_pairwise(150, JUDGES, seed=2)
    one = simulate_pairwise(150, [JUDGES[3]], seed=2)
    pd.testing.assert_frame_equal(full.gold, one.gold)
    pd.testing.assert_frame_equal(full.judges["selfish"], one.judges["selfish"])


def test_pairwise_shapes() -> None:
    sim = simulate_pairwise(120, JUDGES, n_humans=4, repeats=2, seed=0)
    assert isinstance(sim, Simulation) and sim.task == "pairwise"
    g = sim.gold
    assert list(g.columns) == ["item_id", "rater", "label", "generator_a", "generator_b", "length_a", "length_b"]
    assert len(g) == 120 * 4 and g["item_id"].nunique() == 120
    assert set(g["rater"]) == {"h1", "h2", "h3", "h4"}
    assert set(g["label"]) <= {"A", "B", "tie"}
    assert (g["generator_a"] != g["generator_b"]).all()
    assert set(g["generator_a"]) | set(g["generator_b"]) == {s.name for s in DEFAULT_SYSTEMS}
    assert (g[["length_a", "length_b"]] >= 5).all().all()
    assert (g.groupby("item_id")[["generator_a", "length_a"]].nunique() == 1).all().all()
    for name, f in sim.judges.items():
        assert list(f.columns) == ["item_id", "label", "order", "repeat"]
        assert len(f) == 120 * 2 * 2
        assert not f.duplicated(["item_id", "order", "repeat"]).any()
        assert set(f["order"]) == {"AB", "BA"} and set(f["repeat"]) == {"0", "1"}
        assert set(f["label"]) <= {"A", "B", "tie"}
    assert sim.families == {"fair": "cirrus", "primacy": "basalt", "selfish": "dune"}
    assert sim.generator_families == {s.name: s.family for s in DEFAULT_SYSTEMS}
    assert sim.order_frame == {j.name: "shown" for j in JUDGES}
    assert sim.scale.kind == "pairwise" and sim.scale.levels == ("A", "tie", "B")
    assert sim.probe_options() == {"self_preference": {"families": sim.families,
                                                       "generator_families": sim.generator_families}}


def test_pairwise_one_order_no_ties_human_order() -> None:
    sim = simulate_pairwise(300, [JudgeSpec("j")], both_orders=False, ties=False, human_order=True, seed=1)
    f = sim.judges["j"]
    assert len(f) == 300 and f["item_id"].is_unique
    assert 0.4 < (f["order"] == "AB").mean() < 0.6
    assert set(f["label"]) == {"A", "B"} and set(sim.gold["label"]) == {"A", "B"}
    assert sim.scale.levels == ("A", "B")
    assert set(sim.gold["order"]) == {"AB", "BA"}
    assert (sim.gold.groupby("item_id")["order"].nunique() == 1).all()
    table = sim.align()
    assert table.scale.levels == ("A", "B")


def test_pointwise_shapes() -> None:
    sim = simulate_pointwise(200, [JudgeSpec("a", family="dune"), JudgeSpec("b")], repeats=3, seed=0)
    g = sim.gold
    assert list(g.columns) == ["item_id", "rater", "label", "system", "length_a"]
    assert len(g) == 600 and set(g["label"]) <= {1, 2, 3, 4, 5}
    assert sim.scale.kind == "ordinal" and sim.scale.levels == ("1", "2", "3", "4", "5")
    f = sim.judges["a"]
    assert list(f.columns) == ["item_id", "label", "repeat"] and len(f) == 600
    assert sim.order_frame == {}
    interval = simulate_pointwise(50, [JudgeSpec("a")], levels=None, seed=0)
    assert interval.scale.kind == "interval"
    assert interval.gold["label"].dtype == float and not np.allclose(interval.gold["label"] % 1, 0)


def test_pointwise_prompts_have_distinct_systems() -> None:
    sim = simulate_pointwise(60, [JudgeSpec("a", family="dune")], responses_per_prompt=3, seed=0)
    g = sim.gold.drop_duplicates("item_id")
    assert len(g) == 180 and g["group"].nunique() == 60
    assert (g.groupby("group")["system"].nunique() == 3).all()
    table = sim.align()
    assert "group" in table.data.columns


def test_align_round_trip() -> None:
    """The aligned table holds every judgment; shown-frame verdicts are mapped back to the item frame."""
    sim = simulate_pairwise(100, JUDGES[:2], seed=4)
    table = sim.align()
    assert sorted(table.judges) == ["fair", "primacy"] and table.humans == ["h1", "h2", "h3"]
    d = table.data[table.data["rater"] == "primacy"]
    assert len(d) == 200
    swapped = d["order"] == "BA"
    assert (d.loc[~swapped, "value"] == d.loc[~swapped, "shown"]).all()
    assert (d.loc[swapped, "value"] == 2 - d.loc[swapped, "shown"]).all()
    assert table.coverage["excluded_rows"].sum() == 0


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="position"):
        JudgeSpec("x", position=1.5)
    with pytest.raises(ValueError, match="distinct"):
        simulate_pairwise(10, [JudgeSpec("x"), JudgeSpec("x")])
    with pytest.raises(ValueError, match="two systems"):
        simulate_pairwise(10, [JudgeSpec("x")], systems=[SystemSpec("only")])
    with pytest.raises(ValueError, match="responses_per_prompt"):
        simulate_pointwise(10, [JudgeSpec("x")], responses_per_prompt=9)


def test_systems_as_mapping() -> None:
    sim = simulate_pairwise(50, [JudgeSpec("j", family="x")], systems={"x": 0.5, "y": -0.5}, seed=0)
    assert sim.generator_families == {"x": "x", "y": "y"}


def test_speed_1000_items() -> None:
    """n_items = 1000 in well under 0.1 s (best of 5, four judges)."""
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        simulate_pairwise(1000, JUDGES, seed=0)
        simulate_pointwise(1000, JUDGES, seed=0)
        best = min(best, time.perf_counter() - t0)
    assert best < 0.1, best


# --- true effects ---------------------------------------------------------------------------------------


def test_true_effects_closed_forms() -> None:
    """Without ties, a judge forced to the first slot with probability p answers first in (1 + p) / 2 of runs;
    on symmetric systems an unbiased judge has zero self-preference and a fair judge a 0.5 first rate."""
    judges = [JudgeSpec("p0", family="s1"), JudgeSpec("p3", family="s2", position=0.3),
              JudgeSpec("p6", position=0.6)]
    sim = simulate_pairwise(10, judges, systems=SYMMETRIC, ties=False, seed=0)
    t = sim.true_effects(n_items=20_000)
    get = lambda j, m: float(t[(t.judge == j) & (t.metric == m)]["value"].iloc[0])  # noqa: E731
    for name, p in (("p0", 0.0), ("p3", 0.3), ("p6", 0.6)):
        assert get(name, "first_position_rate") == pytest.approx((1 + p) / 2, abs=1e-12)
        assert get(name, "tie_rate") == 0.0
    for name in ("p0", "p3"):
        assert get(name, "self_preference_eo") == pytest.approx(0.0, abs=0.01)
        assert get(name, "self_preference_inflation") == pytest.approx(0.0, abs=0.005)
    # position consistency of a forced-first judge is lower
    assert get("p6", "position_consistency") < get("p3", "position_consistency") < get("p0", "position_consistency")


def test_true_effects_human_like_judge_has_no_inflation() -> None:
    """A judge with the annotators' own voting model (no item noise) has exactly the human win rates."""
    judges = [JudgeSpec("humanlike", family="dune", accuracy=2.0, noise=0.0, tie=0.5, length=0.4)]
    sim = simulate_pairwise(10, judges, human_accuracy=2.0, human_tie=0.5, human_length_preference=0.4, seed=0)
    assert sim.true_effect("humanlike", "self_preference_inflation") == pytest.approx(0.0, abs=1e-12)
    assert sim.true_effect("humanlike", "prefer_longer_excess") == pytest.approx(0.0, abs=1e-12)
    # ... but its equal-opportunity bias is not 0: dune writes the best answers (see the probe's docstring)
    assert sim.true_effect("humanlike", "self_preference_eo") > 0.05


def test_true_effects_monotone_in_planted_strength() -> None:
    judges = [JudgeSpec(f"sp{v}", family="dune", self_preference=v) for v in (0.0, 0.5, 1.0, 2.0)]
    sim = simulate_pairwise(10, judges, seed=0)
    eo = [sim.true_effect(j.name, "self_preference_eo") for j in judges]
    infl = [sim.true_effect(j.name, "self_preference_inflation") for j in judges]
    assert eo == sorted(eo) and infl == sorted(infl)
    assert infl[0] == pytest.approx(0.0, abs=0.01)
    lj = [JudgeSpec(f"l{v}", length=v) for v in (0.0, 1.0, 2.0)]
    sim = simulate_pairwise(10, lj, seed=0)
    ex = [sim.true_effect(j.name, "prefer_longer_excess") for j in lj]
    assert ex == sorted(ex) and ex[0] == pytest.approx(0.0, abs=0.01)
    # same-family judges are not each other's peers; different families are
    sim = simulate_pairwise(10, [JudgeSpec("a", family="dune", self_preference=1.0), JudgeSpec("b", family="dune"),
                                 JudgeSpec("c", family="aurora")], seed=0)
    t = sim.true_effects(n_items=50_000)
    adj = t[t.metric == "self_preference_eo_peer_adjusted"].set_index("judge")["value"]
    assert adj["b"] == pytest.approx(0.0, abs=0.02) and adj["a"] > 0.2


def test_true_effects_cached_and_documented_columns() -> None:
    sim = simulate_pairwise(10, JUDGES, seed=0)
    t1 = sim.true_effects(n_items=5000)
    t2 = sim.true_effects(n_items=5000)
    pd.testing.assert_frame_equal(t1, t2)
    assert list(t1.columns) == ["judge", "metric", "value"]
    assert math.isnan(sim.true_effect("longer", "self_preference_eo", n_items=5000))  # no family


def _majority_free_pairwise_stats(sim: Simulation, judge: str, family: str | None) -> dict[str, float]:
    """Direct estimates of the documented pairwise population quantities, from the raw frames (pandas only)."""
    g = sim.gold
    items = g.drop_duplicates("item_id").set_index("item_id")
    f = sim.judges[judge].copy()
    swap = (f["order"] == "BA").to_numpy()
    lab = f["label"].to_numpy()
    f["item"] = np.where(lab == "tie", "tie", np.where(swap, np.where(lab == "A", "B", "A"), lab))
    out: dict[str, float] = {}
    dec = f[f["label"] != "tie"]
    out["first_position_rate"] = float((dec["label"] == "A").mean())
    out["tie_rate"] = float((f["label"] == "tie").mean())
    w = f.pivot(index="item_id", columns="order", values="label")
    out["position_consistency"] = float((((w["AB"] == "A") & (w["BA"] == "B")) | ((w["AB"] == "B") & (w["BA"] == "A"))
                                         | ((w["AB"] == "tie") & (w["BA"] == "tie"))).mean())
    la, lb = items["length_a"], items["length_b"]
    longer = pd.Series(np.where(la > lb, "A", "B"), index=items.index)[la != lb]

    def longer_rate(frame: pd.DataFrame, col: str) -> float:
        d = frame[frame[col] != "tie"]
        lon = d["item_id"].map(longer)
        keep = lon.notna().to_numpy()
        return float((d[col].to_numpy()[keep] == lon.to_numpy()[keep]).mean())

    out["prefer_longer_rate"] = longer_rate(f, "item")
    out["human_prefer_longer_rate"] = longer_rate(g, "label")
    if family is not None:
        fam = {s.name: s.family_name for s in sim.systems}
        own_a = items["generator_a"].map(fam) == family
        own_b = items["generator_b"].map(fam) == family
        sel = own_a != own_b
        own_side = pd.Series(np.where(own_a, "A", "B"), index=items.index)
        jv = f[f["item_id"].map(sel).to_numpy(dtype=bool)].assign(own=lambda d: d["item_id"].map(own_side))
        jv = jv.assign(j_own=(jv["item"] == jv["own"]).astype(float),
                       j_oth=((jv["item"] != jv["own"]) & (jv["item"] != "tie")).astype(float),
                       j_tie=(jv["item"] == "tie").astype(float))
        js = jv.groupby("item_id")[["j_own", "j_oth", "j_tie"]].mean()
        hv = g[g["item_id"].map(sel).to_numpy(dtype=bool)].assign(own=lambda d: d["item_id"].map(own_side))
        hv = hv.assign(h_own=(hv["label"] == hv["own"]).astype(float),
                       h_oth=((hv["label"] != hv["own"]) & (hv["label"] != "tie")).astype(float),
                       h_tie=(hv["label"] == "tie").astype(float))
        hs = hv.groupby("item_id")[["h_own", "h_oth", "h_tie"]].mean()
        m = js.join(hs)
        out["self_preference_eo"] = float((m.h_own * m.j_own).sum() / m.h_own.sum()
                                          - (m.h_oth * m.j_oth).sum() / m.h_oth.sum())
        out["self_preference_inflation"] = float((m.j_own + m.j_tie / 2).mean() - (m.h_own + m.h_tie / 2).mean())
    return out


@pytest.fixture(scope="module")
def large_pairwise() -> Simulation:
    return simulate_pairwise(40_000, JUDGES, seed=11)


@pytest.mark.parametrize("judge", ["fair", "primacy", "longer", "selfish"])
def test_true_effects_match_large_sample_pairwise(judge: str, large_pairwise: Simulation) -> None:
    """The documented population quantities agree with direct estimates on 40,000 simulated pairs."""
    sim = large_pairwise
    spec = sim.spec(judge)
    direct = _majority_free_pairwise_stats(sim, judge, spec.family)
    t = sim.true_effects().set_index(["judge", "metric"])["value"]
    tol = {"first_position_rate": 0.01, "tie_rate": 0.01, "position_consistency": 0.015,
           "prefer_longer_rate": 0.015, "self_preference_eo": 0.03, "self_preference_inflation": 0.015}
    for metric, value in direct.items():
        if metric == "human_prefer_longer_rate":
            assert value == pytest.approx(t[("(humans)", "prefer_longer_rate")], abs=0.01)
            continue
        assert value == pytest.approx(t[(judge, metric)], abs=tol[metric]), metric
    assert t[(judge, "prefer_longer_excess")] == pytest.approx(
        t[(judge, "prefer_longer_rate")] - t[("(humans)", "prefer_longer_rate")], abs=1e-12)


def test_true_effects_match_large_sample_pointwise() -> None:
    judges = [JudgeSpec("lenient", family="aurora", leniency=0.7, slope=0.6),
              JudgeSpec("selfish", family="dune", self_preference=0.5), JudgeSpec("plain", family="cirrus")]
    sim = simulate_pointwise(60_000, judges, seed=3)
    t = sim.true_effects().set_index(["judge", "metric"])["value"]
    g = sim.gold
    human = g.groupby("item_id")["label"].mean()
    system = g.groupby("item_id")["system"].first()
    fam = {s.name: s.family_name for s in sim.systems}
    for spec in judges:
        j = sim.judges[spec.name].groupby("item_id")["label"].mean()
        d = (j - human.reindex(j.index))
        assert d.mean() == pytest.approx(t[(spec.name, "leniency_shift")], abs=0.01)
        own = system.reindex(d.index).map(fam) == spec.family
        assert d[own].mean() - d[~own].mean() == pytest.approx(t[(spec.name, "self_preference_did")], abs=0.025)
    assert t[("lenient", "leniency_shift")] > 0.5
    assert t[("selfish", "self_preference_did")] == pytest.approx(0.44, abs=0.03)  # 0.5 attenuated by rounding


def test_true_effects_ranks() -> None:
    judges = [JudgeSpec("selfish", family="dune", self_preference=0.6), JudgeSpec("plain", family="aurora")]
    sim = simulate_pointwise(10, judges, responses_per_prompt=4, seed=0)
    t = sim.true_effects(n_items=20_000).set_index(["judge", "metric"])["value"]
    assert t[("selfish", "self_rank_difference")] > 0.2
    assert t[("selfish", "self_rank_difference_peer_adjusted")] > 0.2
    assert abs(t[("plain", "self_rank_difference_peer_adjusted")]) < 0.03


# --- the fast table ------------------------------------------------------------------------------------


def _canon(df: pd.DataFrame) -> pd.DataFrame:
    df = df[sorted(df.columns)].copy()
    for c in df.columns:
        if df[c].dtype != float and not pd.api.types.is_integer_dtype(df[c]):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df.sort_values(["rater", "item_id", "order", "repeat"], na_position="first").reset_index(drop=True)


@pytest.mark.parametrize("kind", ["pairwise", "pairwise-2", "pairwise-order", "ordinal", "interval", "prompts"])
def test_fast_table_equals_align(kind: str) -> None:
    judges = [JudgeSpec("a", family="dune", position=0.2), JudgeSpec("b", self_preference=1.0, family="aurora")]
    if kind == "pairwise":
        sim = simulate_pairwise(300, judges, repeats=2, seed=1)
    elif kind == "pairwise-2":
        sim = simulate_pairwise(300, judges, ties=False, both_orders=False, seed=1)
    elif kind == "pairwise-order":
        sim = simulate_pairwise(300, judges, human_order=True, seed=1)
    elif kind == "ordinal":
        sim = simulate_pointwise(300, judges, repeats=2, seed=1)
    elif kind == "interval":
        sim = simulate_pointwise(300, judges, levels=None, seed=1)
    else:
        sim = simulate_pointwise(100, judges, responses_per_prompt=3, seed=1)
    slow, fast = sim.align(), sim.table()
    pd.testing.assert_frame_equal(_canon(fast.data), _canon(slow.data), check_dtype=False)
    pd.testing.assert_series_equal(fast.reference, slow.reference, check_names=False, check_index_type=False)
    pd.testing.assert_frame_equal(fast.coverage, slow.coverage, check_dtype=False)
    pd.testing.assert_frame_equal(fast.item_attrs, slow.item_attrs, check_dtype=False, check_index_type=False)
    assert (fast.humans, fast.judges, fast.scale, fast.aggregate, fast.notes) == (
        slow.humans, slow.judges, slow.scale, slow.aggregate, slow.notes)
