"""JudgeBench gold set (metajudge.goldsets.judgebench) and its study script (analyses/judgebench.py) on
../shared/realdata.

Every pinned number is recomputed here from the raw jsonl files with a plain re-implementation of JudgeBench's
``utils/metrics.py`` ``compute_final_metrics`` (reverse_order=True): the game-2 decision is flipped back, each
decision votes +1 (names the correct response), -1 (names the other) or 0 (tie or null), a pair is correct
when the votes net positive, and ``n_inconsistent`` counts pairs whose two (flipped) decisions differ.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import metajudge.goldsets.judgebench as judgebench
from metajudge.goldsets import GoldSetError, card_text, get_spec, load_gold_set
from metajudge.probes.position import position_probe

ROOT = Path(__file__).resolve().parents[1]
CATS = ["Knowledge", "Reasoning", "Math", "Coding", "Overall"]

# both-order accuracy (%) K / R / M / C / Overall, JudgeBench's convention; the GPT-4o rows are the values we know
# from the paper's main table (Tan et al. 2025), recomputed and cross-checked below
PINS = {
    "o1-mini-2024-09-12": (58.44, 62.24, 82.14, 78.57, 65.71),
    "internlm_internlm2-7b-reward": (56.49, 61.22, 71.43, 50.00, 59.43),
    "internlm_internlm2-20b-reward": (62.34, 69.39, 66.07, 50.00, 63.43),
    "Ray2333_GRM-Gemma-2B-rewardmodel-ft": (62.99, 53.06, 64.29, 54.76, 59.43),
    "Skywork_Skywork-Reward-Gemma-2-27B": (59.74, 66.33, 83.93, 50.00, 64.29),
    "Skywork_Skywork-Reward-Llama-3.1-8B": (59.09, 64.29, 76.79, 50.00, 62.29),
    "claude-3-haiku-20240307": (37.66, 29.41, 32.35, 9.68, 32.22),
}


def _analysis():
    spec = importlib.util.spec_from_file_location("analysis_judgebench", ROOT / "analyses" / "judgebench.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["analysis_judgebench"] = mod
    spec.loader.exec_module(mod)
    return mod


def _flip(d):
    return {"A>B": "B>A", "B>A": "A>B"}.get(d, d)


@pytest.fixture(scope="module")
def raw(realdata):
    d = pd.read_json(realdata / "judgebench" / "judgments.jsonl", lines=True)
    # a null decision stays None (as json.loads gives it), so that None == None as in JudgeBench's Python
    d["d1"] = pd.Series([g[0]["decision"] if isinstance(g[0]["decision"], str) else None for g in d["games"]],
                        index=d.index, dtype=object)
    d["d2"] = pd.Series([g[1]["decision"] if isinstance(g[1]["decision"], str) else None for g in d["games"]],
                        index=d.index, dtype=object)
    d["s1"] = d["games"].map(lambda g: g[0]["scores"])
    d["s2"] = d["games"].map(lambda g: g[1]["scores"])
    d["cat"] = np.select([d["source"].str.startswith("mmlu-pro"), d["source"] == "livebench-reasoning",
                          d["source"] == "livebench-math", d["source"] == "livecodebench"],
                         ["Knowledge", "Reasoning", "Math", "Coding"], "??")
    assert (d["cat"] != "??").all()
    return d


def judgebench_rule(d: pd.DataFrame, *, drop_null: bool = False, ties_from_scores: bool = False) -> pd.DataFrame:
    """compute_final_metrics per (response model, judge, category), written from the paper's description."""
    rows = []
    for _, r in d.iterrows():
        d1, d2 = r["d1"], r["d2"]
        if ties_from_scores and r["s1"] is not None:
            d1 = "A=B" if r["s1"][0] == r["s1"][1] else d1
            d2 = "A=B" if r["s2"][0] == r["s2"][1] else d2
        d2 = _flip(d2)
        if drop_null and (d1 is None or d2 is None):
            continue
        net = sum(1 if x == r["label"] else (-1 if x == _flip(r["label"]) else 0) for x in (d1, d2))
        base = {"response_model": r["response_model"], "judge": r["judge_model"], "correct": net > 0,
                "inconsistent": d1 != d2}
        rows += [{**base, "category": r["cat"]}, {**base, "category": "Overall"}]
    df = pd.DataFrame(rows)
    g = df.groupby(["response_model", "judge", "category"])
    return pd.DataFrame({"accuracy": (100 * g["correct"].mean()).round(2), "n": g.size(),
                         "inconsistent": g["inconsistent"].sum()})


@pytest.fixture(scope="module")
def outputs(realdata, tmp_path_factory):
    mod = _analysis()
    out = tmp_path_factory.mktemp("judgebench")
    assert mod.main(["--data-dir", str(realdata), "-o", str(out / "judgebench")]) == 0
    # the other convention through the same code path without re-drawing the figure (keeps the test fast)
    table, _ = mod.run_table(realdata / "judgebench", convention="metajudge")
    (out / "metajudge").mkdir()
    table.to_csv(out / "metajudge" / "table.csv", index=False)
    return out


# ------------------------------------------------------------------------------------------------ adapter
def test_registry_and_card():
    spec = get_spec("judgebench")
    assert spec.folder == "judgebench" and spec.files == ("judgments.jsonl", "data")
    assert set(spec.options) == {"response_model", "judge", "category", "unparseable", "score_ties"}
    assert "2410.12784" in spec.paper and "no LICENSE" in spec.license
    card = card_text("judgebench")
    assert "metajudge report --gold judgebench --data-dir" in card and "python analyses/judgebench.py" in card


def test_default_load(realdata, raw):
    gs = load_gold_set("judgebench", realdata)
    t = gs.table
    assert t.humans == ["correctness"] and t.reference.notna().sum() == 620
    assert sorted(t.judges) == sorted(raw["judge_model"].unique()) and len(t.judges) == 7
    data = pd.concat([pd.read_json(f, lines=True) for f in sorted((realdata / "judgebench" / "data").glob("*.jsonl"))])
    cats = raw.drop_duplicates("pair_id").set_index("pair_id")["cat"]
    assert (t.item_attrs["category"].value_counts().to_dict()
            == cats.value_counts().to_dict() == {"Knowledge": 308, "Reasoning": 149, "Math": 90, "Coding": 73})
    ref = t.reference.reindex(data["pair_id"]).to_numpy()
    assert (ref == np.where(data["label"] == "A>B", 0, 2)).all()              # A = 0, B = 2 on (A, tie, B)
    la = data.set_index("pair_id")["response_A"].str.split().str.len()
    assert (t.item_attrs["length_a"].reindex(la.index) == la).all()
    cov = t.coverage.set_index("source")
    assert cov.loc["claude-3-haiku-20240307", ["unparseable", "excluded_rows", "missing_in_judge"]].tolist() == [
        13, 13, 350]
    assert (raw.loc[raw["judge_model"] == "claude-3-haiku-20240307", ["d1", "d2"]].isna().sum().sum()) == 13
    # shown frame: game 2's decision refers to B shown first, so it is swapped back to the item frame
    o1 = raw[raw["judge_model"] == "o1-mini-2024-09-12"].iloc[0]
    rows = t.data[(t.data["rater"] == "o1-mini-2024-09-12") & (t.data["item_id"] == o1["pair_id"])].set_index("order")
    code = {"A>B": 0, "A=B": 1, "B>A": 2}
    assert rows.loc["AB", "value"] == code[o1["d1"]] and rows.loc["BA", "shown"] == code[o1["d2"]]
    assert rows.loc["BA", "value"] == 2 - code[o1["d2"]]
    # equal reward-model scores become ties (score_ties=tie): 8 games
    ties = t.data[(t.data["rater_kind"] == "judge") & (t.data["value"] == 1) & t.data["rater"].str.contains("Reward")]
    n_eq = sum(r[k] is not None and r[k][0] == r[k][1] for _, r in raw.iterrows() for k in ("s1", "s2"))
    assert len(ties) == n_eq == 8
    assert any("8 reward-model verdict(s) with equal scores" in n for n in gs.notes)


def test_options(realdata, raw):
    gs = judgebench.load(realdata / "judgebench", response_model="gpt-4o")
    assert gs.table.reference.notna().sum() == 350 and len(gs.table.judges) == 6
    gs = judgebench.load(realdata / "judgebench", category="Coding", judge="o1-mini,internlm2-20b")
    assert gs.table.reference.notna().sum() == 42
    assert gs.table.judges == ["o1-mini-2024-09-12", "internlm_internlm2-20b-reward"]
    gs = judgebench.load(realdata / "judgebench", response_model="claude-3.5-sonnet", unparseable="tie")
    assert gs.table.judges == ["claude-3-haiku-20240307"]
    cov = gs.table.coverage.set_index("source").loc["claude-3-haiku-20240307"]
    assert (cov["fallback_rows"], cov["excluded_rows"]) == (13, 0)
    # JudgeBench's reading of a null (a zero vote, the pair kept): 87 of 270 against 83 of 257 without it
    res = position_probe(gs.table, n_resamples=0, rng=0)
    c = res.counts["claude-3-haiku-20240307"]
    jb = judgebench_rule(raw[raw["judge_model"] == "claude-3-haiku-20240307"])
    ov = jb.loc[("claude-3-5-sonnet-20240620", "claude-3-haiku-20240307", "Overall")]
    assert (c["both_order_correct"], c["both_order_n"], c["inconsistent"]) == (87, 270, 129)
    assert (round(100 * 87 / 270, 2), 270, 135) == (ov["accuracy"], ov["n"], ov["inconsistent"])
    # the 6 missing inconsistencies: a null against a real tie is two ties for the probe, `!=` for JudgeBench
    h = raw[raw["judge_model"] == "claude-3-haiku-20240307"]
    null_tie = ((h["d1"].isna() & (h["d2"] == "A=B")) | (h["d2"].isna() & (h["d1"] == "A=B"))).sum()
    assert null_tie == 6
    stored = judgebench.load(realdata / "judgebench", judge="Gemma-2-27B,Llama-3.1-8B", score_ties="stored")
    res = position_probe(stored.table, n_resamples=0, rng=0)
    assert {j: res.counts[j]["inconsistent"] for j in stored.table.judges} == {
        "Skywork_Skywork-Reward-Gemma-2-27B": 3, "Skywork_Skywork-Reward-Llama-3.1-8B": 1}


@pytest.mark.parametrize("options, match", [
    ({"response_model": "gpt-5"}, "response_model"),
    ({"category": "History"}, "category"),
    ({"judge": "internlm"}, "judge"),                        # matches two judges
    ({"unparseable": "zero"}, "unparseable"),
    ({"score_ties": "second"}, "score_ties"),
    ({"response_model": "claude", "judge": "o1-mini"}, "judge"),
])
def test_bad_options(realdata, options, match):
    with pytest.raises(GoldSetError, match=match):
        judgebench.load(realdata / "judgebench", **options)


def test_missing_folder_and_unknown_option(realdata, tmp_path):
    with pytest.raises(GoldSetError, match="data"):
        judgebench.load(tmp_path)
    with pytest.raises(GoldSetError, match="lacks"):
        load_gold_set("judgebench", tmp_path)
    with pytest.raises(GoldSetError, match="no option"):
        load_gold_set("judgebench", realdata, subset="x")


# ------------------------------------------------------------------------------------------------ analysis
def test_analysis_outputs(outputs):
    for f in ("table.csv", "table.tex", "figure.pdf", "figure.svg"):
        assert (outputs / "judgebench" / f).stat().st_size > 0, f
    for conv in ("judgebench", "metajudge"):
        table = pd.read_csv(outputs / conv / "table.csv")
        assert list(table.columns) == ["response_model", "judge", "category", "accuracy", "n", "inconsistent"]
        assert len(table) == 7 * 5 and set(table["category"]) == set(CATS)
    tex = (outputs / "judgebench" / "table.tex").read_text()
    assert "internlm\\_internlm2-7b-reward" in tex and "Knowledge & Reasoning & Math & Coding & Overall" in tex


def test_analysis_matches_judgebench_rule(outputs, raw):
    table = pd.read_csv(outputs / "judgebench" / "table.csv").set_index(["response_model", "judge", "category"])
    ind = judgebench_rule(raw)
    assert set(table.index) == set(ind.index)
    assert np.allclose(table["accuracy"], ind.loc[table.index, "accuracy"], atol=1e-9)
    assert (table["n"] == ind.loc[table.index, "n"]).all()
    assert (table["inconsistent"] == ind.loc[table.index, "inconsistent"]).all()
    for judge, vals in PINS.items():
        got = table.xs(judge, level="judge")["accuracy"].droplevel(0).reindex(CATS).to_numpy()
        assert got == pytest.approx(vals, abs=1e-9), judge
    ov = table.xs("Overall", level="category")
    assert ov["n"].to_dict() == {k: (270 if "claude" in k[0] else 350) for k in ov.index}
    assert ov.xs("o1-mini-2024-09-12", level="judge")["inconsistent"].item() == 110
    # the metajudge convention: pairs with a null left out, equal reward scores as ties
    mj = pd.read_csv(outputs / "metajudge" / "table.csv").set_index(["response_model", "judge", "category"])
    ind2 = judgebench_rule(raw, drop_null=True, ties_from_scores=True)
    assert np.allclose(mj["accuracy"], ind2.loc[mj.index, "accuracy"], atol=1e-9)
    assert (mj["n"] == ind2.loc[mj.index, "n"]).all()
    assert (mj["inconsistent"] == ind2.loc[mj.index, "inconsistent"]).all()
    h = mj.xs("claude-3-haiku-20240307", level="judge").droplevel(0)
    assert (h.loc["Overall", "accuracy"], h.loc["Overall", "n"], h.loc["Overall", "inconsistent"]) == (32.30, 257, 122)
    same = mj.index[~mj.index.get_level_values("judge").str.startswith("claude")]
    assert (mj.loc[same, "accuracy"] == table.loc[same, "accuracy"]).all()


def test_length_probe_matches_existing_pins(realdata):
    # tests/test_realdata_length_leniency.py pins these from the response texts (whitespace tokens)
    from metajudge.probes.length import length_probe

    est = {}
    for ties in ("stored", "tie"):
        gs = judgebench.load(realdata / "judgebench", judge="o1-mini,Gemma-2-27B", score_ties=ties)
        res = length_probe(gs.table, options={}, confidence_level=0.95, n_resamples=0, rng=np.random.default_rng(0))
        est[ties] = pd.DataFrame(res.rows).query("metric == 'length_coef'").set_index("judge")["estimate"]
    # that test used the stored decisions (equal scores decided B>A)
    assert est["stored"]["o1-mini-2024-09-12"] == pytest.approx(0.245054, abs=1e-6)
    assert est["stored"]["Skywork_Skywork-Reward-Gemma-2-27B"] == pytest.approx(-0.811381, abs=1e-6)
    # reading equal scores as ties removes 6 forced "second wins" verdicts from the fit
    assert est["tie"]["o1-mini-2024-09-12"] == est["stored"]["o1-mini-2024-09-12"]
    assert est["tie"]["Skywork_Skywork-Reward-Gemma-2-27B"] != pytest.approx(-0.811381, abs=1e-3)
