"""Gold set ``topical_chat`` (Chiang & Lee 2023 ChatGPT ratings on Topical-Chat / USR) and
``analyses/topical_chat.py``.

The numbers are cross-checked by an independent re-implementation of the study's own meta-evaluation
(``all_eval.py`` of d223302/A-Closer-Look-To-LLM-Evaluation: ``np.nanmean`` of the stored ``parsed_scores``,
``scipy.stats.pearsonr`` over all items for "Method 1", ``scipy.stats.kendalltau`` per dialogue **source text**
with the ``len(set(...)) <= 1`` skip rule, averaged, for the document level), written here with pandas/scipy on
the raw files. SOURCE.md quotes no published values and the paper's PDF is not available as text here, so the
pins are the study code's own results (rounded to 3 decimals as the study prints them).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import metajudge.goldsets.topical_chat as tc
from metajudge.goldsets import GoldSetError, get_spec, load_gold_set, run_gold_set

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["prompt_variant", "attribute", "pearson_dataset", "kendall_group", "n_items", "n_groups_kept"]


def _script():
    path = ROOT / "analyses" / "topical_chat.py"
    spec = importlib.util.spec_from_file_location("analysis_topical_chat", path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def raw(realdata):
    folder = realdata / "closer_look_topicalchat"
    items = pd.DataFrame([json.loads(x) for x in
                          (folder / "topical_chat_items.jsonl").read_text(encoding="utf-8").splitlines() if x])
    ratings = pd.read_parquet(folder / "chatgpt_ratings.parquet",
                              columns=["attribute", "prompt_variant", "item_id", "human_score", "parsed_scores"])
    ratings = ratings.merge(items[["item_id", "source"]], on="item_id", how="left", validate="many_to_one")
    stored = ratings["parsed_scores"].map(lambda a: np.asarray(a, dtype=float))
    ratings["pred_zero"] = stored.map(np.nanmean)                  # the study: failures are 0, averaged in
    # on the 1-3 attributes a parsed 0 is impossible, so a stored 0 is a failed parse
    ratings["pred_nonzero"] = stored.map(lambda a: np.nanmean(a[a != 0]) if (a != 0).any() else np.nan)
    ratings["zeros"] = stored.map(lambda a: int((a == 0).sum()))
    return items, ratings


def _study(ratings: pd.DataFrame, pred: str) -> pd.DataFrame:
    """all_eval.py meta(): mode A (Pearson over all items) and mode B (Kendall per source text, averaged)."""
    out = []
    for (variant, attr), g in ratings.groupby(["prompt_variant", "attribute"]):
        g = g.dropna(subset=[pred])
        r = stats.pearsonr(g[pred], g["human_score"])[0]
        taus = [stats.kendalltau(d[pred], d["human_score"])[0] for _, d in g.groupby("source")
                if len(set(d["human_score"])) > 1 and len(set(d[pred])) > 1]
        out.append({"prompt_variant": variant, "attribute": attr, "r": r, "tau": float(np.mean(taus)),
                    "n": len(g), "k": len(taus)})
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def outputs(realdata, tmp_path_factory):
    out = tmp_path_factory.mktemp("topical_chat")
    assert _script().main(["--data-dir", str(realdata), "-o", str(out), "--n-resamples", "200"]) == 0
    return out


# ------------------------------------------------------------------------------------------------- adapter
def test_parse_score_authors_rule():
    assert tc.parse_score("Rating: 2\nRationale: the response is fine") == (2.0, True)
    assert tc.parse_score("Analysis: 3 points...\nRating: 1") == (1.0, True)          # after the last "rating:"
    assert tc.parse_score("Naturalness (1-3): 2") == (2.0, True)                       # "1-3" is blanked first
    assert tc.parse_score("- Groundedness: 0") == (0.0, True)                          # a real 0
    assert tc.parse_score("I cannot judge this response.") == (0.0, False)             # the authors' fallback 0
    # the authors' code maps a negative score to NaN, but its regex strips the minus sign first: -1 reads as 1
    assert tc.parse_score("Rating: -1") == (1.0, True)


def test_adapter_counts(realdata, raw):
    items, ratings = raw
    spec = get_spec("topical_chat")
    assert spec.folder == "closer_look_topicalchat" and set(spec.options) == {"attribute", "prompt_variant",
                                                                             "unparseable"}
    gs = load_gold_set("topical_chat", realdata)
    t = gs.table
    assert gs.options == {"attribute": "naturalness", "prompt_variant": "all", "unparseable": "exclude"}
    assert t.scale.kind == "interval" and t.humans == ["usr_mean"]
    assert len(t.reference) == 360 and t.item_attrs["group"].nunique() == 60
    assert t.item_attrs["system"].nunique() == 6 and t.item_attrs.groupby("group").size().eq(6).all()
    assert t.judges == [f"ChatGPT/{v}" for v in tc.VARIANTS]
    # the gold is the items file's rating, identical to the human_score the results files carry
    nat = ratings[ratings["attribute"] == "naturalness"]
    hs = nat.drop_duplicates("item_id").set_index("item_id")["human_score"]
    assert np.allclose(t.reference.loc[hs.index.astype(str)].to_numpy(), hs.to_numpy())
    # items per judge = rows of its results file
    per = nat.groupby("prompt_variant").size()
    wide = t.wide("judge")
    for v, n in per.items():
        assert wide[f"ChatGPT/{v}"].notna().sum() == n, v
    assert per.to_dict() == {"analyze_rate": 360, "analyze_rate_auto_cot": 357, "geval": 358,
                             "geval_no_auto_cot": 353, "llm_eval_no_cot": 359, "rate_explain": 358,
                             "rate_explain_auto_cot": 357}
    # unparseable samples: on a 1-3 scale every stored 0 is a failed parse (253, 200 of them in one variant)
    assert int(nat["zeros"].sum()) == 253
    assert any("253 of 50,040 sampled responses unparseable" in n for n in gs.notes)
    # exclude (default): the mean of the parsed samples only
    ex = nat.set_index(nat["item_id"].astype(str))
    for v in ("analyze_rate_auto_cot", "rate_explain"):
        e = ex[ex["prompt_variant"] == v]
        assert np.allclose(wide.loc[e.index, f"ChatGPT/{v}"], e["pred_nonzero"]), v
    # zero: the authors' mean
    z = load_gold_set("topical_chat", realdata, unparseable="zero", prompt_variant="analyze_rate_auto_cot")
    e = ex[ex["prompt_variant"] == "analyze_rate_auto_cot"]
    assert z.table.judges == ["ChatGPT/analyze_rate_auto_cot"]
    assert np.allclose(z.table.wide("judge").loc[e.index, "ChatGPT/analyze_rate_auto_cot"], e["pred_zero"])
    assert not np.allclose(e["pred_zero"], e["pred_nonzero"])

    # groundedness (0-1): a real 0 is a valid score, so failures are found by re-parsing: fewer than the zeros
    g = load_gold_set("topical_chat", realdata, attribute="groundedness", unparseable="zero")
    gr = ratings[ratings["attribute"] == "groundedness"]
    assert any("63 of 49,920 sampled responses unparseable" in n for n in g.notes) and gr["zeros"].sum() > 25_000
    assert any("15 parsed sample(s) outside the prompt's range 0-1" in n for n in g.notes)
    gw = g.table.wide("judge")
    gi = gr.set_index(gr["item_id"].astype(str))
    for v in tc.VARIANTS:
        e = gi[gi["prompt_variant"] == v]
        assert np.allclose(gw.loc[e.index, f"ChatGPT/{v}"], e["pred_zero"]), v


def test_adapter_errors(realdata, tmp_path):
    with pytest.raises(GoldSetError, match="attribute must be one of"):
        load_gold_set("topical_chat", realdata, attribute="overall")
    with pytest.raises(GoldSetError, match="prompt_variant must be"):
        load_gold_set("topical_chat", realdata, prompt_variant="cot")
    with pytest.raises(GoldSetError, match="unparseable must be"):
        load_gold_set("topical_chat", realdata, unparseable="nan")
    with pytest.raises(GoldSetError, match="lacks"):
        load_gold_set("topical_chat", tmp_path)
    with pytest.raises(GoldSetError, match="not found"):
        tc.load(tmp_path)


def test_run_gold_set_matches_analysis(realdata, outputs):
    """The report pipeline (`metajudge report --gold topical_chat`) gives the same dataset Pearson and group
    Kendall for the same judge and convention."""
    a = run_gold_set("topical_chat", realdata, options={"attribute": "coherence", "prompt_variant": "rate_explain",
                                                        "unparseable": "zero"}, n_resamples=0, probes=[])
    r = a.results.set_index(["judge", "metric", "level"])
    t = pd.read_csv(outputs / "table.csv").set_index(["prompt_variant", "attribute"])
    row = t.loc[("rate_explain", "coherence")]
    assert r.loc[("ChatGPT/rate_explain", "pearson", "dataset"), "estimate"] == pytest.approx(row["pearson_dataset"])
    assert r.loc[("ChatGPT/rate_explain", "kendall_tau", "group"), "estimate"] == pytest.approx(row["kendall_group"])
    assert r.loc[("ChatGPT/rate_explain", "kendall_tau", "group"), "n"] == row["n_groups_kept"]


# ------------------------------------------------------------------------------------------------ analysis
def test_analysis_table_reproduces_study(outputs, raw):
    _, ratings = raw
    t = pd.read_csv(outputs / "table.csv")
    assert list(t.columns) == COLUMNS
    assert len(t) == 28 and set(t["prompt_variant"]) == set(tc.VARIANTS)
    ref = _study(ratings, "pred_zero")
    m = t.merge(ref, on=["prompt_variant", "attribute"], validate="one_to_one")
    assert len(m) == 28
    assert np.allclose(m["pearson_dataset"], m["r"], atol=1e-12)
    assert np.allclose(m["kendall_group"], m["tau"], atol=1e-12)
    assert (m["n_items"] == m["n"]).all() and (m["n_groups_kept"] == m["k"]).all()
    # pinned, 3 decimals as the study prints them (all checked above against the re-implementation)
    idx = t.set_index(["prompt_variant", "attribute"])
    pins = {("geval", "naturalness"): (0.393, 0.358, 358, 60),
            ("rate_explain", "naturalness"): (0.569, 0.512, 358, 60),
            ("analyze_rate_auto_cot", "groundedness"): (0.624, 0.735, 355, 54),
            ("geval", "groundedness"): (0.311, 0.566, 357, 54),
            ("rate_explain", "groundedness"): (0.561, 0.665, 360, 53),
            ("llm_eval_no_cot", "coherence"): (0.522, 0.420, 356, 60),
            ("analyze_rate_auto_cot", "engagingness"): (0.621, 0.599, 355, 60)}
    for key, (r, tau, n, k) in pins.items():
        row = idx.loc[key]
        assert (round(row["pearson_dataset"], 3), round(row["kendall_group"], 3)) == (r, tau), key
        assert (row["n_items"], row["n_groups_kept"]) == (n, k), key
    # dialogues with constant human groundedness are dropped: fewer groups kept than the 60 dialogues
    assert (idx.xs("groundedness", level="attribute")["n_groups_kept"] < 60).all()
    # the paper's finding: asking for an explanation (rate_explain) beats the score-only G-Eval prompt
    for a in tc.ATTRIBUTES:
        assert idx.loc[("rate_explain", a), "pearson_dataset"] > idx.loc[("geval", a), "pearson_dataset"], a

    iv = pd.read_csv(outputs / "intervals.csv")
    assert list(iv[["prompt_variant", "attribute"]].itertuples(index=False, name=None)) == list(
        t[["prompt_variant", "attribute"]].itertuples(index=False, name=None))
    assert (iv["pearson_ci_low"] <= t["pearson_dataset"]).all()
    assert (t["pearson_dataset"] <= iv["pearson_ci_high"]).all()
    assert (iv["kendall_ci_low"] <= t["kendall_group"]).all() and (t["kendall_group"] <= iv["kendall_ci_high"]).all()
    assert set(iv["kendall_method"]) == {"bootstrap-groups"} and (iv["confidence_level"] == 0.95).all()


def test_analysis_unparseable_exclude(realdata, raw, tmp_path):
    """--unparseable exclude (metajudge's rule) on the 1-3 attributes equals the mean of the non-zero samples."""
    _, ratings = raw
    assert _script().main(["--data-dir", str(realdata), "-o", str(tmp_path), "--unparseable", "exclude",
                           "--n-resamples", "0"]) == 0
    t = pd.read_csv(tmp_path / "table.csv")
    ref = _study(ratings[ratings["attribute"] != "groundedness"], "pred_nonzero")
    m = t.merge(ref, on=["prompt_variant", "attribute"], validate="one_to_one")
    assert len(m) == 21
    assert np.allclose(m["pearson_dataset"], m["r"]) and np.allclose(m["kendall_group"], m["tau"])
    # the imputed zeros move the study's document-level value most for analyze_rate / naturalness (51 zeros)
    nat = t.set_index(["prompt_variant", "attribute"]).loc[("analyze_rate", "naturalness")]
    assert (round(nat["pearson_dataset"], 3), round(nat["kendall_group"], 3)) == (0.524, 0.470)   # study: .520, .435
    assert "unparseable samples: exclude" in (tmp_path / "table.tex").read_text(encoding="utf-8")


def test_analysis_files(outputs):
    tex = (outputs / "table.tex").read_text(encoding="utf-8")
    assert "rate\\_explain\\_auto\\_cot" in tex and "n\\_groups\\_kept" in tex and "rate_explain" not in tex
    assert "\\begin{tabular}" in tex
    for ext in ("pdf", "svg"):
        assert (outputs / f"figure.{ext}").stat().st_size > 1000
