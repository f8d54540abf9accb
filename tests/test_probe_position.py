"""Position probe (METRICS.md §5 "Position") on hand-built aligned tables with known counts: Shi et al. (2024)
classes, PC and PF, the two published counting conventions, the JudgeBench both-order rule, shown vs
item-frame storage, planted biased and unbiased judges, repeats, the one-order case and determinism."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from metajudge.align import align
from metajudge.errors import ConfigError
from metajudge.probes import PROBE_METRICS, ProbeUnavailable, run_probes
from metajudge.probes.position import position_probe
from metajudge.scales import Scale

SWAP = {"A": "B", "B": "A", "tie": "tie", None: None}
EXTRA_METRICS = {"tie_rate", "first_position_excess"}


def _gold(labels: dict[str, str | None], rater: str = "h") -> pd.DataFrame:
    return pd.DataFrame({"item_id": list(labels), "rater": rater, "label": list(labels.values())})


def _judge(rows: list[tuple], *, frame: str = "shown") -> pd.DataFrame:
    """rows: (item, order, shown verdict or None for unparseable[, repeat]). ``frame`` 'item' maps the BA
    verdicts back to the item frame, as a loader of already-mapped data would store them."""
    out = []
    for r in rows:
        item, order, v = r[:3]
        lab = SWAP[v] if (frame == "item" and order == "BA") else v
        rec = {"item_id": item, "order": order, "label": lab, "parse_ok": v is not None}
        if len(r) > 3:
            rec["repeat"] = r[3]
        out.append(rec)
    return pd.DataFrame(out)


def _table(gold: pd.DataFrame, judges: dict[str, list[tuple]], *, frame: str = "shown", ties: bool = True):
    frames = {name: _judge(rows, frame=frame) for name, rows in judges.items()}
    return align(gold, frames, Scale("pairwise", ties=ties), order_frame={n: frame for n in frames})


def _rows(res) -> pd.DataFrame:
    return pd.DataFrame(res.rows)


def _est(res, metric: str, judge: str = "j") -> pd.Series:
    d = _rows(res)
    hit = d[(d["metric"] == metric) & (d["judge"] == judge)]
    assert len(hit) == 1, f"{metric} for {judge}: {len(hit)} rows"
    return hit.iloc[0]


def _probe(t, options=None, n_resamples=200, rng=0):
    return position_probe(t, options=options or {}, confidence_level=0.95, n_resamples=n_resamples, rng=rng)


# shown-frame pairs (first run AB, swapped run BA): A = first slot, B = second slot, C = tie
KNOWN = {
    "c1": ("A", "B"), "c2": ("B", "A"), "c3": ("tie", "tie"), "c4": ("A", "B"),      # consistent
    "p1": ("A", "A"), "p2": ("A", "tie"), "p3": ("tie", "A"),                         # primacy
    "r1": ("B", "B"),                                                                   # recency
}
GOLD = {"c1": "A", "c2": "A", "c3": "A", "c4": "B", "p1": "A", "p2": "A", "p3": "B", "r1": "B",
        "m1": "A", "u1": "A", "u2": "B"}


def _known_rows() -> list[tuple]:
    rows = []
    for item, (a, b) in KNOWN.items():
        rows += [(item, "AB", a), (item, "BA", b)]
    rows += [("m1", "AB", "A")]                              # mirror never recorded
    rows += [("u1", "AB", "A"), ("u1", "BA", None)]          # one verdict unparseable
    rows += [("u2", "AB", None), ("u2", "BA", None)]         # both unparseable
    return rows


@pytest.fixture()
def known():
    return _table(_gold(GOLD), {"j": _known_rows()})


# ------------------------------------------------------------------------------------------------ counts
def test_known_counts_pc_pf(known):
    res = _probe(known)
    c = res.counts["j"]
    assert (c["consistent"], c["primacy"], c["recency"], c["classified"]) == (4, 3, 1, 8)
    assert (c["missing_mirror"], c["unparseable_pairs"], c["one_unparseable"], c["both_unparseable"]) == (1, 2, 1, 1)
    assert c["consistent_by_convention"] == 0 and c["usable_pairs"] == 8
    assert _est(res, "position_consistency")["estimate"] == pytest.approx(4 / 8)
    # Shi et al.: PF = (rec·irr − pri·ipr)/n with ipr = pri/(pri+rec)
    ipr = 3 / 4
    pf = (1 * (1 - ipr) - 3 * ipr) / 8
    assert pf == pytest.approx(-0.25)
    assert _est(res, "preference_fairness")["estimate"] == pytest.approx(pf)
    # sign test over items: 3 primacy items vs 1 recency item
    assert _est(res, "preference_fairness")["p_value"] == pytest.approx(binomtest(1, 4, 0.5).pvalue)
    cls = res.frames["classes"].set_index("cls")["count"].to_dict()
    assert cls == {"consistent": 4, "primacy": 3, "recency": 1}
    assert list(res.frames["classes"].columns) == ["judge", "cls", "count"]


def test_known_first_position_flip_tie(known):
    res = _probe(known)
    c = res.counts["j"]
    # decisive verdicts in the 8 usable pairs: first slot 7, second slot 5; 4 ties of 16 verdicts
    assert (c["first_slot_verdicts"], c["second_slot_verdicts"], c["tie_verdicts"]) == (7, 5, 4)
    fp = _est(res, "first_position_rate")
    assert fp["estimate"] == pytest.approx(7 / 12)
    # pair-level sign test: items with more first-slot picks (p1, p2, p3) vs more second-slot picks (r1)
    assert fp["p_value"] == pytest.approx(binomtest(3, 4, 0.5).pvalue)
    assert fp["n"] == 8                                             # items (pairs), not 16 verdicts
    assert _est(res, "flip_rate")["estimate"] == pytest.approx(4 / 8)
    assert _est(res, "tie_rate")["estimate"] == pytest.approx(4 / 16)
    assert c["decisive_flips"] == 2                                 # (A,A) and (B,B)
    vd = res.frames["verdicts"].set_index("slot")["count"].to_dict()
    assert vd == {"first": 7, "second": 5, "tie": 4}


def test_known_both_order_accuracy_judgebench_rule(known):
    res = _probe(known)
    c = res.counts["j"]
    # c1 A+A gold A: correct; c2 B+B gold A: wrong; c3 tie+tie gold A: net 0, wrong; c4 A+A gold B: wrong;
    # p1 A+B (contradictory) gold A: wrong; p2 A+tie gold A: correct; p3 tie+B gold B: correct; r1 B+A: wrong
    assert (c["both_order_correct"], c["both_order_n"]) == (3, 8)
    assert (c["inconsistent"], c["contradictory"]) == (4, 2)
    e = _est(res, "both_order_accuracy")
    assert e["estimate"] == pytest.approx(3 / 8)
    assert e["reference"] == "h" and "4 of 8 pairs inconsistent" in e["note"]


def test_both_order_accuracy_tie_gold_reading():
    # JudgeBench's flip() leaves a tie unchanged: for a tie gold label a tie vote is +1, a decisive vote 0
    gold = _gold({"t1": "tie", "t2": "tie", "t3": "tie", "t4": "tie"})
    rows = [("t1", "AB", "tie"), ("t1", "BA", "tie"),   # tie+tie: correct
            ("t2", "AB", "tie"), ("t2", "BA", "A"),     # tie + item-frame B: correct (+1)
            ("t3", "AB", "A"), ("t3", "BA", "B"),       # A+A: wrong
            ("t4", "AB", "A"), ("t4", "BA", "A")]       # A+B: wrong
    res = _probe(_table(gold, {"j": rows}))
    assert (res.counts["j"]["both_order_correct"], res.counts["j"]["both_order_n"]) == (2, 4)


# ------------------------------------------------------------------------------------------- conventions
@pytest.mark.parametrize("options, consistent, classified", [
    ({}, 4, 8),
    ({"missing_mirror": "consistent"}, 5, 9),
    ({"both_unparseable": "agree"}, 5, 9),
    ({"missing_mirror": "consistent", "both_unparseable": "agree"}, 6, 10),
    ({"missing_mirror": "exclude", "both_unparseable": "exclude"}, 4, 8),
])
def test_conventions_change_counts_as_documented(known, options, consistent, classified):
    res = _probe(known, options)
    c = res.counts["j"]
    assert (c["consistent"], c["classified"]) == (consistent, classified)
    assert c["consistent_by_convention"] == classified - 8
    assert (c["primacy"], c["recency"]) == (3, 1)
    assert _est(res, "position_consistency")["estimate"] == pytest.approx(consistent / classified)
    assert _est(res, "preference_fairness")["estimate"] == pytest.approx((1 - 3) / classified)
    # the other estimates use only the pairs with two usable verdicts
    assert _est(res, "flip_rate")["estimate"] == pytest.approx(0.5)
    assert _est(res, "first_position_rate")["estimate"] == pytest.approx(7 / 12)
    assert _est(res, "both_order_accuracy")["estimate"] == pytest.approx(3 / 8)
    # the missing mirror and the unparseable pairs are always counted
    assert (c["missing_mirror"], c["unparseable_pairs"]) == (1, 2)
    if classified > 8:
        assert "by convention" in _est(res, "position_consistency")["note"]


def test_missing_mirror_convention_needs_a_usable_verdict():
    # a lone run that is itself unparseable is never counted consistent
    gold = _gold({"x": "A", "y": "A"})
    rows = [("x", "AB", "A"), ("x", "BA", "B"), ("y", "AB", None)]
    res = _probe(_table(gold, {"j": rows}), {"missing_mirror": "consistent"})
    c = res.counts["j"]
    assert (c["missing_mirror"], c["missing_mirror_usable"], c["classified"], c["consistent"]) == (1, 0, 1, 1)


def test_out_of_scale_verdict_counts_as_unusable():
    gold = _gold({"x": "A", "y": "A"})
    judge = pd.DataFrame({"item_id": ["x", "x", "y", "y"], "order": ["AB", "BA", "AB", "BA"],
                          "label": ["A", "B", "A", "maybe"]})
    t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "shown"})
    c = _probe(t).counts["j"]
    assert (c["classified"], c["unparseable_pairs"], c["one_unparseable"]) == (1, 1, 1)


def test_bad_option_is_a_config_error(known):
    with pytest.raises(ConfigError, match="missing_mirror"):
        _probe(known, {"missing_mirror": "yes"})
    with pytest.raises(ConfigError, match="unknown option"):
        _probe(known, {"mirror": "consistent"})


# ---------------------------------------------------------------------------------------- storage frames
def _random_rows(n: int, seed: int, *, p_first: float = 0.5, levels=("A", "tie", "B")) -> list[tuple]:
    """Random shown verdicts, some unparseable and a few missing mirrors."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        item = f"i{i:03d}"
        for order in ("AB", "BA"):
            if i % 37 == 5 and order == "BA":
                continue                                   # missing mirror
            if i % 23 == 7 and order == "AB":
                rows.append((item, order, None))           # unparseable
                continue
            if len(levels) == 3 and rng.random() < 0.15:
                v = "tie"
            else:
                v = "A" if rng.random() < p_first else "B"
            rows.append((item, order, v))
    return rows


@pytest.mark.parametrize("ties", [True, False])
def test_shown_and_item_frame_storage_give_identical_results(ties):
    levels = ("A", "tie", "B") if ties else ("A", "B")
    rows = _random_rows(120, 3, p_first=0.6, levels=levels)
    gold = _gold({f"i{i:03d}": ("A" if i % 3 else "B") for i in range(120)})
    shown = _table(gold, {"j": rows}, frame="shown", ties=ties)
    item = _table(gold, {"j": rows}, frame="item", ties=ties)
    # the two tables really store different labels for the swapped runs, with the same shown codes
    a = shown.rows("j").sort_values(["item_id", "order"])
    b = item.rows("j").sort_values(["item_id", "order"])
    assert (a["label"].to_numpy() != b["label"].to_numpy()).any()
    assert np.array_equal(a["shown"].to_numpy(dtype=float), b["shown"].to_numpy(dtype=float))
    r1, r2 = _probe(shown, rng=11), _probe(item, rng=11)
    pd.testing.assert_frame_equal(_rows(r1), _rows(r2))
    assert r1.counts == r2.counts
    pd.testing.assert_frame_equal(r1.frames["classes"], r2.frames["classes"])


# ---------------------------------------------------------------------------------------- planted judges
@pytest.mark.parametrize("frame, ties", [("shown", True), ("item", True), ("shown", False)])
def test_always_first_judge_is_caught(frame, ties):
    n = 60
    gold = _gold({f"i{i}": ("A" if i % 2 else "B") for i in range(n)})
    rows = [(f"i{i}", o, "A") for i in range(n) for o in ("AB", "BA")]
    res = _probe(_table(gold, {"j": rows}, frame=frame, ties=ties))
    c = res.counts["j"]
    assert (c["consistent"], c["primacy"], c["recency"]) == (0, n, 0)
    assert _est(res, "position_consistency")["estimate"] == 0.0
    assert _est(res, "preference_fairness")["estimate"] == pytest.approx(-1.0)
    assert _est(res, "preference_fairness")["p_value"] < 0.01
    fp = _est(res, "first_position_rate")
    assert fp["estimate"] == 1.0 and fp["p_value"] < 0.01
    # the pair-level test uses n pairs, not 2n verdicts
    assert fp["p_value"] == pytest.approx(binomtest(n, n, 0.5).pvalue)
    assert _est(res, "flip_rate")["estimate"] == 1.0
    assert _est(res, "both_order_accuracy")["estimate"] == 0.0      # every pair is A+B: wrong
    assert c["contradictory"] == n


def test_unbiased_random_judge_is_not_flagged():
    rows = _random_rows(300, 7, p_first=0.5)
    gold = _gold({f"i{i:03d}": "A" for i in range(300)})
    res = _probe(_table(gold, {"j": rows}), n_resamples=500)
    fp, pf = _est(res, "first_position_rate"), _est(res, "preference_fairness")
    assert fp["p_value"] > 0.05 and pf["p_value"] > 0.05
    assert fp["ci_low"] < 0.5 < fp["ci_high"]
    assert pf["ci_low"] < 0 < pf["ci_high"]
    # random verdicts: consistency near the chance level of 3-level uniform-ish verdicts
    assert 0.3 < _est(res, "position_consistency")["estimate"] < 0.6


def test_biased_random_judge_rejects_and_ci_excludes_half():
    rows = _random_rows(300, 8, p_first=0.75)
    gold = _gold({f"i{i:03d}": "A" for i in range(300)})
    res = _probe(_table(gold, {"j": rows}), n_resamples=500)
    fp = _est(res, "first_position_rate")
    assert fp["p_value"] < 0.01 and fp["ci_low"] > 0.5
    assert _est(res, "preference_fairness")["estimate"] < 0


# ---------------------------------------------------------------------------------------------- repeats
def test_repeats_pair_by_repeat_index_and_repetition_stability():
    gold = _gold({"x": "A", "y": "B", "z": "A"})
    rows = [
        ("x", "AB", "A", 1), ("x", "AB", "A", 2), ("x", "AB", "B", 3),    # modal share 2/3
        ("x", "BA", "B", 1), ("x", "BA", "B", 2), ("x", "BA", "B", 3),    # 1
        ("y", "AB", "A", 1), ("y", "AB", "A", 2), ("y", "AB", "A", 3),    # 1
        ("y", "BA", "B", 1), ("y", "BA", "B", 2), ("y", "BA", "A", 3),    # 2/3
        ("z", "AB", "A", 1), ("z", "BA", "B", 2),                         # repeats do not match: two lone runs
    ]
    res = _probe(_table(gold, {"j": rows}))
    c = res.counts["j"]
    # pairs: x1 (A,B) x2 (A,B) x3 (B,B) rec; y1 (A,B) y2 (A,B) y3 (A,A) pri
    assert (c["classified"], c["consistent"], c["primacy"], c["recency"]) == (6, 4, 1, 1)
    assert c["missing_mirror"] == 2 and c["repeated_units"] == 4
    pc = _est(res, "position_consistency")
    assert pc["estimate"] == pytest.approx(4 / 6)
    assert pc["method"] == "bootstrap-cluster" and pc["n"] == 2 and "6 pairs in 2 items" in pc["note"]
    rs = _est(res, "repetition_stability")
    assert rs["estimate"] == pytest.approx((2 / 3 + 1 + 1 + 2 / 3) / 4)
    assert rs["n"] == 2


def test_repeat_values_compare_by_value():
    # 1, 1.0 and "1" are the same repeat (a float column after concatenation must not break the pairing)
    gold = _gold({"x": "A"})
    judge = pd.DataFrame({"item_id": ["x", "x"], "order": ["AB", "BA"], "label": ["A", "B"],
                          "repeat": pd.Series([1.0, 1.0])})
    t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "shown"})
    t.data["repeat"] = t.data["repeat"].astype(object)
    t.data.loc[t.data["order"] == "BA", "repeat"] = "1"
    assert _probe(t).counts["j"]["consistent"] == 1


def test_one_pair_per_item_uses_wilson():
    res = _probe(_table(_gold(GOLD), {"j": _known_rows()}))
    for m in ("position_consistency", "flip_rate", "both_order_accuracy"):
        assert _est(res, m)["method"] == "wilson"
    assert _est(res, "preference_fairness")["method"] == "bootstrap-cluster"
    assert _est(res, "first_position_rate")["method"] == "bootstrap-cluster"


# ------------------------------------------------------------------------------------------- one order
def _one_order_table(n: int = 200, p_judge: float = 0.8, p_human: float = 0.5, seed: int = 0):
    rng = np.random.default_rng(seed)
    items = [f"q{i:03d}" for i in range(n)]
    orders = np.where(rng.random(n) < 0.5, "AB", "BA")
    human_first = rng.random(n) < p_human
    judge_first = rng.random(n) < p_judge
    to_item = lambda first, o: ("A" if first else "B") if o == "AB" else ("B" if first else "A")  # noqa: E731
    gold = pd.DataFrame({"item_id": items, "rater": "h", "order": orders,
                         "label": [to_item(f, o) for f, o in zip(human_first, orders)]})
    judge = pd.DataFrame({"item_id": items, "order": orders,
                          "label": [to_item(f, o) for f, o in zip(judge_first, orders)]})
    t = align(gold, {"j": judge}, Scale("pairwise", ties=False), order_frame={"j": "item"})
    return t, judge_first, human_first


def test_one_order_first_position_excess_over_humans():
    t, jf, hf = _one_order_table()
    res = _probe(t, n_resamples=400)
    assert res.counts["j"]["mode"] == "one-order"
    ex = _est(res, "first_position_excess")
    assert ex["estimate"] == pytest.approx(jf.mean() - hf.mean())
    assert ex["ci_low"] > 0 and ex["p_value"] < 0.01 and ex["n"] == len(jf)
    assert ex["reference"] == "humans (shown order)"
    # with one verdict a side per item the sign test is McNemar's exact test
    b, c = int((jf & ~hf).sum()), int((~jf & hf).sum())
    assert ex["p_value"] == pytest.approx(binomtest(b, b + c, 0.5).pvalue)
    fp = _est(res, "first_position_rate")
    assert fp["estimate"] == pytest.approx(jf.mean()) and fp["method"] == "wilson"
    assert fp["p_value"] == pytest.approx(binomtest(int(jf.sum()), len(jf), 0.5).pvalue)
    h = _est(res, "first_position_rate", judge="humans")
    assert h["rater_kind"] == "human" and h["estimate"] == pytest.approx(hf.mean())
    assert "position_consistency" not in set(_rows(res)["metric"])


def test_one_order_judge_matching_humans_is_not_flagged():
    t, _, _ = _one_order_table(p_judge=0.5, p_human=0.5, seed=4)
    ex = _est(_probe(t, n_resamples=400), "first_position_excess")
    assert ex["p_value"] > 0.05 and ex["ci_low"] < 0 < ex["ci_high"]


# ------------------------------------------------------------------------------------------ availability
def test_unavailable_without_pairwise_scale():
    gold = pd.DataFrame({"item_id": ["1", "2"], "rater": "h", "label": [1, 2]})
    judge = pd.DataFrame({"item_id": ["1", "2"], "label": [1, 2]})
    t = align(gold, {"j": judge}, Scale("ordinal", levels=[1, 2, 3]))
    with pytest.raises(ProbeUnavailable, match="pairwise"):
        _probe(t)


def test_unavailable_without_any_order():
    gold = _gold({"1": "A", "2": "B"})
    judge = pd.DataFrame({"item_id": ["1", "2"], "label": ["A", "B"]})
    t = align(gold, {"j": judge}, Scale("pairwise"))
    with pytest.raises(ProbeUnavailable, match=r"columns\.order"):
        _probe(t)
    # through the runner: a skip line, unless the probe was asked for by name
    res = run_probes(t, probes=["position"], n_resamples=10)
    assert res[0].skipped and "columns.order" in res[0].skipped[0] and not res[0].rows
    with pytest.raises(ProbeUnavailable):
        run_probes(t, probes=["position"], n_resamples=10, strict=True)


def test_unavailable_with_one_order_and_no_human_order():
    gold = _gold({"1": "A", "2": "B"})
    judge = pd.DataFrame({"item_id": ["1", "2"], "label": ["A", "B"], "order": ["AB", "BA"]})
    t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "item"})
    with pytest.raises(ProbeUnavailable, match="gold.columns.order"):
        _probe(t)


def test_judge_without_pairs_is_skipped_beside_a_measured_one():
    gold = _gold(GOLD)
    one = pd.DataFrame({"item_id": list(GOLD), "label": "A", "order": "AB"})
    t = align(gold, {"j": _judge(_known_rows()), "k": one}, Scale("pairwise"),
              order_frame={"j": "shown", "k": "shown"})
    res = _probe(t)
    assert set(res.counts) == {"j"}
    assert len(res.skipped) == 1 and "'k'" in res.skipped[0]


# ------------------------------------------------------------------------------------------ row schema
def test_rows_schema_and_runner_options(known):
    res = run_probes(known, probes=["position"], options={"position": {"missing_mirror": "consistent"}},
                     n_resamples=50, rng=np.random.default_rng(0))[0]
    assert res.probe == "position" and res.counts["j"]["consistent"] == 5
    d = _rows(res)
    assert set(d["section"]) == {"probe"} and set(d["probe"]) == {"position"}
    assert set(d["metric"]) <= set(PROBE_METRICS) | EXTRA_METRICS
    assert {"position_consistency", "preference_fairness", "first_position_rate", "flip_rate",
            "both_order_accuracy", "tie_rate"} <= set(d["metric"])
    assert (d["confidence_level"] == 0.95).all()
    defined = d[d["estimate"].notna()]
    assert (defined["ci_low"] <= defined["estimate"] + 1e-12).all()
    assert (defined["estimate"] <= defined["ci_high"] + 1e-12).all()
    assert "9 pair(s) classified" in res.description and "missing_mirror: consistent" in res.description


def test_undefined_estimates_are_nan_with_a_note():
    # one tie+tie pair: no decisive verdict, so the first-position rate is undefined (NaN, with a note)
    gold = _gold({"x": "A"})
    rows = [("x", "AB", "tie"), ("x", "BA", "tie")]
    res = _probe(_table(gold, {"j": rows}))
    fp = _est(res, "first_position_rate")
    assert math.isnan(fp["estimate"]) and "no decisive verdict" in fp["note"] and math.isnan(fp["p_value"])
    assert _est(res, "position_consistency")["estimate"] == 1.0


# ------------------------------------------------------------------------------------------ determinism
def test_same_seed_same_numbers_other_seed_other_intervals():
    rows = _random_rows(150, 5, p_first=0.6)
    rows += [(f"i{i:03d}", o, "A", 2) for i in range(40) for o in ("AB", "BA")]   # a second repeat
    rows = [r if len(r) == 4 else (*r, 1) for r in rows]
    gold = _gold({f"i{i:03d}": "A" for i in range(150)})
    t = _table(gold, {"j": rows})
    a, b = _probe(t, rng=123), _probe(t, rng=np.random.default_rng(123))
    pd.testing.assert_frame_equal(_rows(a), _rows(b))
    c = _probe(t, rng=124)
    da, dc = _rows(a), _rows(c)
    assert np.array_equal(da["estimate"].to_numpy(), dc["estimate"].to_numpy(), equal_nan=True)
    boot = da["method"] == "bootstrap-cluster"
    assert boot.any() and not np.array_equal(da.loc[boot, "ci_low"].to_numpy(), dc.loc[boot, "ci_low"].to_numpy())


def test_rows_without_order_are_counted():
    # shown-frame verdicts without their order cannot be placed: alignment sets them aside, the probe counts them
    gold = _gold({"x": "A", "y": "B"})
    judge = pd.DataFrame({"item_id": ["x", "x", "y"], "order": ["AB", "BA", None], "label": ["A", "B", "A"]})
    t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "shown"})
    c = _probe(t).counts["j"]
    assert (c["classified"], c["consistent"], c["rows_without_order"]) == (1, 1, 1)


def test_analyze_runs_the_probe_with_holm_adjustment(known):
    from metajudge.analysis import analyze

    res = analyze(known, n_resamples=50, seed=0, quiet=True, probes=["position"],
                  probe_options={"position": {"missing_mirror": "exclude", "both_unparseable": "exclude"}})
    p = res.results[res.results["section"] == "probe"]
    assert set(p["probe"]) == {"position"} and "position_consistency" in set(p["metric"])
    tested = p[p["p_value"].notna()]
    assert len(tested) and (tested["p_adjusted"] >= tested["p_value"] - 1e-12).all()
