"""LLMBar gold set (metajudge.goldsets.llmbar) and its study script (analyses/llmbar.py) on ../shared/realdata.

Every pinned number is recomputed here straight from the raw files with pandas / scikit-learn, and the
repository's own ``statistics.json`` values (princeton-nlp/LLMBar, ``Dataset/<subset>/evaluators/<LLM>/
<strategy>/statistics.json``) are pinned where we read them: accuracy ("correct_average"), positional
agreement ("equal") and the stored "kappa" fields.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

import metajudge.goldsets.llmbar as llmbar
from metajudge.goldsets import GoldSetError, card_text, get_spec, load_gold_set
from metajudge.probes.position import position_probe

ROOT = Path(__file__).resolve().parents[1]
LLMBAR_PROPER = ["LLMBar/Natural", "LLMBar/Adversarial/Neighbor", "LLMBar/Adversarial/GPTInst",
                 "LLMBar/Adversarial/GPTOut", "LLMBar/Adversarial/Manual"]

# statistics.json of the repository: (subset, evaluator, strategy) -> correct_average, equal, kappa_False,
# kappa_True, kappa_agreement
STORED = {
    ("LLMBar/Natural", "GPT-4", "Vanilla_NoRules"): (93.5, 97.0, 0.2517173699705594, 0.26775689528923596,
                                                     0.9389747762408462),
    ("LLMBar/Natural", "GPT-4", "Rating"): (92.0, 90.0, 0.2342130065975494, 0.2563212692117006, 0.795417348608838),
    ("LLMBar/Adversarial/GPTInst", "GPT-4", "Vanilla"): (86.41304347826086, 94.56521739130434, 0.23566064866592107,
                                                         0.2557106598984772, 0.8909952606635071),
    ("LLMBar/Adversarial/GPTInst", "GPT-4", "Metrics_Reference"): (89.67391304347827, 90.21739130434783,
                                                                   0.2543361971146052, 0.28057553956834536,
                                                                   0.8043478260869565),
    ("LLMBar/Adversarial/GPTInst", "ChatGPT", "Vanilla_NoRules"): (29.347826086956523, 52.17391304347826,
                                                                   -0.18186823270324837, -0.10216718266253877,
                                                                   0.22123893805309736),
    ("LLMBar/Adversarial/GPTInst", "Falcon", "CoT"): (51.63043478260869, 8.695652173913043, 0.0187200696560732,
                                                      0.006190071610632342, -0.01650692225772099),
    ("LLMBar/Adversarial/GPTInst", "Falcon", "Swap_CoT"): (46.19565217391305, 30.434782608695656,
                                                           -0.049500916683642204, -0.009518773135906988,
                                                           0.02555480833893753),
    ("Processed/MT-Bench", "PaLM2", "Vanilla_NoRules"): (70.25, 73.5, 0.14743702659855562, 0.14346895074946475,
                                                         0.4973417109714837),
}


def _analysis():
    spec = importlib.util.spec_from_file_location("analysis_llmbar", ROOT / "analyses" / "llmbar.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["analysis_llmbar"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def raw(realdata):
    """The raw judgments joined to the dataset.json labels, read here without the adapter."""
    d = pd.read_parquet(realdata / "llmbar" / "judgments.parquet",
                        columns=["subset", "evaluator", "strategy", "idx", "label", "winner_swap_false",
                                 "winner_swap_true", "score_1", "score_2"])
    labels = {}
    for sub in d["subset"].unique():
        data = json.loads((realdata / "llmbar" / "datasets" / sub / "dataset.json").read_text(encoding="utf-8"))
        labels.update({(sub, i): x["label"] for i, x in enumerate(data)})
    d["gold"] = [labels[(s, i)] for s, i in zip(d["subset"], d["idx"])]
    return d


@pytest.fixture(scope="module")
def outputs(realdata, tmp_path_factory):
    mod = _analysis()
    out = tmp_path_factory.mktemp("llmbar")
    assert mod.main(["--data-dir", str(realdata), "-o", str(out / "authors")]) == 0
    # the other convention through the same code path without re-drawing the figure (keeps the test fast)
    table, kappa, _ = mod.run_tables(realdata / "llmbar", convention="metajudge")
    (out / "metajudge").mkdir()
    table.to_csv(out / "metajudge" / "table.csv", index=False)
    return out


# ------------------------------------------------------------------------------------------------ adapter
def test_registry_and_card():
    spec = get_spec("llmbar")
    assert spec.folder == "llmbar" and spec.files == ("judgments.parquet", "datasets")
    assert {"subset", "evaluator", "strategy", "rating_ties"} == set(spec.options)
    assert "MIT" in spec.license and "2310.07641" in spec.paper
    card = card_text("llmbar")
    assert "metajudge report --gold llmbar --data-dir" in card and "python analyses/llmbar.py" in card


def test_default_load(realdata, raw):
    gs = load_gold_set("llmbar", realdata)
    t = gs.table
    assert gs.name == "llmbar" and set(gs.files) == {"judgments.parquet", "datasets"}
    assert t.humans == ["gold"] and t.reference.notna().sum() == 419
    assert t.judges == [f"{e}/{s}" for e in llmbar.EVALUATORS for s in ("Vanilla_NoRules", "Metrics_Reference")]
    sel = raw[raw["subset"].isin(LLMBAR_PROPER) & raw["strategy"].isin(["Vanilla_NoRules", "Metrics_Reference"])]
    # gold labels 1/2 -> A/B; subset slice; lengths are whitespace tokens of output_1 / output_2
    first = sel.drop_duplicates(["subset", "idx"])
    ref = t.reference.reindex(first["subset"] + "#" + first["idx"].astype(str)).to_numpy()
    assert (ref == (first["gold"].to_numpy() - 1)).all()
    nat = json.loads((realdata / "llmbar" / "datasets" / "LLMBar" / "Natural" / "dataset.json").read_text())
    attrs = t.item_attrs.loc["LLMBar/Natural#7"]
    assert (attrs["length_a"], attrs["length_b"]) == (len(nat[7]["output_1"].split()), len(nat[7]["output_2"].split()))
    assert attrs["subset"] == "LLMBar/Natural"
    # every null verdict is counted as unparseable, per judge
    cov = t.coverage.set_index("source")
    for j, g in sel.groupby(sel["evaluator"] + "/" + sel["strategy"]):
        nulls = int(g["winner_swap_false"].isna().sum() + g["winner_swap_true"].isna().sum())
        assert cov.loc[j, "unparseable"] == nulls and cov.loc[j, "rows"] == 2 * len(g) == 838, j
    assert cov.loc["PaLM2/Vanilla_NoRules", "unparseable"] == 16
    assert any("27 of 10,056 verdicts are null" in n for n in gs.notes)
    # the item frame: order BA's stored (mapped-back) verdict is swapped into the shown slot
    d = t.data[(t.data["rater"] == "GPT-4/Vanilla_NoRules")]
    ba = d[d["order"] == "BA"]
    assert (ba["shown"] == 1 - ba["value"]).all() and (d.loc[d["order"] == "AB", "shown"] == d.loc[
        d["order"] == "AB", "value"]).all()


def test_position_probe_matches_existing_pins(realdata):
    # the same numbers tests/test_realdata_position.py pins from a hand-built table (all 65 judges)
    gs = llmbar.load(realdata / "llmbar", strategy="all")
    assert len(gs.table.judges) == 65
    res = position_probe(gs.table, options={}, n_resamples=0, rng=0)
    wide = pd.DataFrame(res.rows).pivot(index="judge", columns="metric", values="estimate")
    pins = {"GPT-4/Vanilla": (0.9284, -0.0239, 0.5119, 0.8091),
            "Falcon/CoT": (0.1274, -0.8678, 0.9339, 0.0865),
            "PaLM2/Vanilla_NoRules": (0.7634, -0.0854, 0.5427, 0.5390)}
    for j, vals in pins.items():
        got = wide.loc[j, ["position_consistency", "preference_fairness", "first_position_rate",
                           "both_order_accuracy"]].to_numpy(dtype=float)
        assert got == pytest.approx(vals, abs=5e-5), j
    c = res.counts["PaLM2/Vanilla_NoRules"]
    assert (c["classified"], c["unparseable_pairs"], c["both_unparseable"]) == (410, 9, 7)


def test_options(realdata, raw):
    gs = llmbar.load(realdata / "llmbar", subset="Neighbor", evaluator="GPT-4", strategy="all")
    assert gs.table.reference.notna().sum() == 134 and len(gs.table.judges) == 15
    gs = llmbar.load(realdata / "llmbar", subset="processed")
    assert gs.table.reference.notna().sum() == 66 + 200 + 200
    assert sorted(gs.table.judges) == sorted(f"{e}/{s}" for e in ("GPT-4", "ChatGPT", "PaLM2", "LLaMA2")
                                             for s in ("Vanilla_NoRules", "Metrics_Reference"))
    assert any("never run" in n and "Falcon/Vanilla_NoRules" in n for n in gs.notes)
    gs = llmbar.load(realdata / "llmbar", subset="natural,GPTOut", evaluator="chatgpt-0301,falcon", strategy="CoT")
    assert gs.table.reference.notna().sum() == 147 and gs.table.judges == ["ChatGPT-0301/CoT", "Falcon/CoT"]
    # rating_ties=exclude: both verdicts of each tied or unscored Rating pair become unparseable (counted)
    r = raw[raw["subset"].isin(LLMBAR_PROPER) & raw["strategy"].str.startswith("Rating")]
    s1, s2 = pd.to_numeric(r["score_1"], errors="coerce"), pd.to_numeric(r["score_2"], errors="coerce")
    special = (s1 == s2) | s1.isna() | s2.isna()
    assert (int((s1 == s2).sum()), int((s1.isna() | s2.isna()).sum())) == (714, 5)
    stored = llmbar.load(realdata / "llmbar", evaluator="GPT-4", strategy="Rating")
    excl = llmbar.load(realdata / "llmbar", evaluator="GPT-4", strategy="Rating", rating_ties="exclude")
    n_special = int(special[r["evaluator"] == "GPT-4"].loc[r["strategy"] == "Rating"].sum())
    cov_s = stored.table.coverage.set_index("source").loc["GPT-4/Rating", "unparseable"]
    cov_e = excl.table.coverage.set_index("source").loc["GPT-4/Rating", "unparseable"]
    assert cov_s == 0 and cov_e == 2 * n_special > 0
    # with the ties left out GPT-4/Rating is far more position-consistent
    pc = {}
    for name, g in (("stored", stored), ("exclude", excl)):
        res = position_probe(g.table, n_resamples=0, rng=0)
        pc[name] = [r_["estimate"] for r_ in res.rows if r_["metric"] == "position_consistency"][0]
    assert pc["exclude"] > pc["stored"] + 0.1
    # rating_ties=tie: equal scores are a tie in both orders (METRICS.md trap 10); unscored pairs unparseable
    tie = llmbar.load(realdata / "llmbar", evaluator="GPT-4", strategy="Rating", rating_ties="tie")
    g4 = (r["evaluator"] == "GPT-4") & (r["strategy"] == "Rating")
    rows = tie.table.rows("GPT-4/Rating")
    n_tied = int(((s1 == s2) & g4).sum())
    assert int((rows["label"] == "tie").sum()) == 2 * n_tied > 0
    assert tie.table.coverage.set_index("source").loc["GPT-4/Rating", "unparseable"] == 2 * int(
        ((s1.isna() | s2.isna()) & g4).sum())
    res = position_probe(tie.table, n_resamples=0, rng=0)
    assert [r_["estimate"] for r_ in res.rows if r_["metric"] == "position_consistency"][0] > pc["stored"]


@pytest.mark.parametrize("options, match", [
    ({"subset": "Nope"}, "subset"),
    ({"evaluator": "GPT-5"}, "evaluator"),
    ({"strategy": "Vanilla_3shot"}, "strategy"),
    ({"rating_ties": "ties"}, "rating_ties"),
    ({"subset": "casestudy", "strategy": "Vanilla_NoRules"}, "no judgments"),
])
def test_bad_options(realdata, options, match):
    with pytest.raises(GoldSetError, match=match):
        llmbar.load(realdata / "llmbar", **options)


def test_missing_folder_and_unknown_option(realdata, tmp_path):
    with pytest.raises(GoldSetError, match="judgments.parquet"):
        llmbar.load(tmp_path)
    with pytest.raises(GoldSetError, match="lacks"):
        load_gold_set("llmbar", tmp_path)
    with pytest.raises(GoldSetError, match="no option"):
        load_gold_set("llmbar", realdata, judge="x")


# ------------------------------------------------------------------------------------------------ analysis
@pytest.fixture(scope="module")
def ind(raw):
    return _cell_stats(raw)


def _kappa(a: np.ndarray, b: np.ndarray, labels: list[int]) -> float:
    """Cohen's kappa from its definition: (p_o - p_e) / (1 - p_e) over the given labels."""
    cm = np.array([[np.sum((a == x) & (b == y)) for y in labels] for x in labels], dtype=float)
    n = cm.sum()
    po, pe = np.trace(cm) / n, (cm.sum(axis=1) @ cm.sum(axis=0)) / n**2
    return float((po - pe) / (1 - pe))


def _cell_stats(raw: pd.DataFrame) -> pd.DataFrame:
    """Accuracy, agreement and kappas per cell by the repository's code (LLMEvaluator/evaluate.py) and by hand.

    Verdicts are coded 1 / 2 and 0 for null; the repository maps a verdict with ``int(v) if v in ("0", "1")
    else 0``, i.e. 1 -> 1 and 2 / null -> 0."""
    out = []
    code = {"1": 1, "2": 2}
    for (sub, ev, st), g in raw.groupby(["subset", "evaluator", "strategy"], sort=False):
        gold = g["gold"].to_numpy()
        f = g["winner_swap_false"].map(code).fillna(0).to_numpy(dtype=int)
        t = g["winner_swap_true"].map(code).fillna(0).to_numpy(dtype=int)
        n = len(g)
        okf, okt = f > 0, t > 0
        both = okf & okt
        mf, mt = (f == 1).astype(int), (t == 1).astype(int)        # the repository's mapping
        verdicts = np.concatenate([f[okf] == gold[okf], t[okt] == gold[okt]])
        out.append({"subset": sub, "evaluator": ev, "strategy": st, "n": n,
                    "acc_authors": ((f == gold).sum() + (t == gold).sum()) / (2 * n) * 100,
                    "agr_authors": (f == t).sum() / n * 100,          # two nulls (0, 0) count as equal
                    "acc_usable": verdicts.mean() * 100, "agr_usable": (f[both] == t[both]).mean() * 100,
                    "ks_f": _kappa(mf, gold, [0, 1, 2]), "ks_t": _kappa(mt, gold, [0, 1, 2]),
                    "ks_o": _kappa(mf, mt, [0, 1]),
                    "k_f": _kappa(f[okf], gold[okf], [1, 2]), "k_t": _kappa(t[okt], gold[okt], [1, 2]),
                    "k_o": _kappa(f[both], t[both], [1, 2]), "unparseable": int((~okf).sum() + (~okt).sum())})
    return pd.DataFrame(out).set_index(["subset", "evaluator", "strategy"])


def test_kappa_formula_is_sklearn(raw, ind):
    # the hand-written kappa above is scikit-learn's (the library the repository used) on every stored cell
    for key in STORED:
        g = raw[(raw["subset"] == key[0]) & (raw["evaluator"] == key[1]) & (raw["strategy"] == key[2])]
        m = lambda s: s.map(lambda x: int(x) if x in ("0", "1") else 0)  # noqa: E731  (LLMEvaluator/evaluate.py)
        f, t = g["winner_swap_false"], g["winner_swap_true"]
        assert ind.loc[key, "ks_f"] == pytest.approx(cohen_kappa_score(m(f), g["gold"]), abs=1e-12)
        assert ind.loc[key, "ks_t"] == pytest.approx(cohen_kappa_score(m(t), g["gold"]), abs=1e-12)
        assert ind.loc[key, "ks_o"] == pytest.approx(cohen_kappa_score(m(f), m(t)), abs=1e-12)
        ok = f.notna()
        assert ind.loc[key, "k_f"] == pytest.approx(
            cohen_kappa_score(f[ok].astype(int), g["gold"][ok], labels=[1, 2]), abs=1e-12)


def test_analysis_outputs(outputs):
    d = outputs / "authors"
    for f in ("table.csv", "kappa.csv", "table.tex", "kappa.tex", "figure.pdf", "figure.svg"):
        assert (d / f).stat().st_size > 0, f
    assert (d / "figure.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    for conv in ("authors", "metajudge"):
        table = pd.read_csv(outputs / conv / "table.csv")
        assert list(table.columns) == ["subset", "evaluator", "strategy", "accuracy", "agreement", "n"]
        assert len(table) == 499
    tex = (outputs / "authors" / "table.tex").read_text()
    assert "Vanilla\\_NoRules" in tex and "Metrics\\_Reference" in tex and "\\begin{tabular}" in tex
    assert "GPT-4 & Vanilla\\_NoRules & 93.50 & 97.00" in tex
    ktex = (outputs / "authors" / "kappa.tex").read_text()
    assert "Cohen's kappa" in ktex and "Vanilla\\_NoRules" in ktex


def test_analysis_table_matches_raw_and_repository(outputs, ind):
    table = pd.read_csv(outputs / "authors" / "table.csv").set_index(["subset", "evaluator", "strategy"])
    assert set(table.index) == set(ind.index) and len(ind) == 499
    assert (table["n"] == ind.loc[table.index, "n"]).all()
    # the paper's convention, rounded to 2 decimals
    assert np.allclose(table["accuracy"], ind.loc[table.index, "acc_authors"].round(2), atol=1e-9)
    assert np.allclose(table["agreement"], ind.loc[table.index, "agr_authors"].round(2), atol=1e-9)
    # the repository's statistics.json: correct_average and equal
    for key, (acc, agr, *_rest) in STORED.items():
        assert table.loc[key, "accuracy"] == round(acc, 2) and table.loc[key, "agreement"] == round(agr, 2), key
    # the paper's Table (GPT-4, Vanilla, Natural): 93.5 / 97.0
    assert tuple(table.loc[("LLMBar/Natural", "GPT-4", "Vanilla_NoRules"), ["accuracy", "agreement"]]) == (93.5, 97.0)
    # metajudge's convention: null verdicts left out
    mj = pd.read_csv(outputs / "metajudge" / "table.csv").set_index(["subset", "evaluator", "strategy"])
    assert np.allclose(mj["accuracy"], ind.loc[mj.index, "acc_usable"].round(2), atol=1e-9)
    assert np.allclose(mj["agreement"], ind.loc[mj.index, "agr_usable"].round(2), atol=1e-9)
    differs = (mj["accuracy"] != table["accuracy"]) | (mj["agreement"] != table["agreement"])
    has_null = ind.loc[mj.index, "unparseable"] > 0
    assert (differs <= has_null).all() and differs.sum() > 0
    key = ("LLMBar/Natural", "PaLM2", "Vanilla_NoRules")
    assert ind.loc[key, "unparseable"] > 0 and mj.loc[key, "accuracy"] > table.loc[key, "accuracy"]


def test_analysis_kappa(outputs, ind):
    k = pd.read_csv(outputs / "authors" / "kappa.csv").set_index(["subset", "evaluator", "strategy"])
    assert list(k.reset_index().columns) == ["subset", "evaluator", "strategy", "n", "unparseable", "kappa_stored",
                                             "kappa", "kappa_stored_false", "kappa_false", "kappa_stored_true",
                                             "kappa_true", "kappa_orders_stored", "kappa_orders", "note"]
    i = ind.loc[k.index]
    # the stored values, reproduced with scikit-learn exactly as LLMEvaluator/evaluate.py computes them
    assert np.allclose(k["kappa_stored_false"], i["ks_f"], atol=1e-12)
    assert np.allclose(k["kappa_stored_true"], i["ks_t"], atol=1e-12)
    assert np.allclose(k["kappa_stored"], (i["ks_f"] + i["ks_t"]) / 2, atol=1e-12)
    assert np.allclose(k["kappa_orders_stored"], i["ks_o"], atol=1e-12)
    # ... and the values the repository wrote to statistics.json
    for key, (_a, _b, kf, kt, ko) in STORED.items():
        assert k.loc[key, ["kappa_stored_false", "kappa_stored_true", "kappa_orders_stored"]].to_numpy(
            dtype=float) == pytest.approx([kf, kt, ko], abs=1e-9), key
    # Cohen's kappa on the 2-level scale, null verdicts left out
    assert np.allclose(k["kappa_false"], i["k_f"], atol=1e-9)
    assert np.allclose(k["kappa_true"], i["k_t"], atol=1e-9)
    assert np.allclose(k["kappa_orders"], i["k_o"], atol=1e-9)
    assert (k["unparseable"] == i["unparseable"]).all() and k["unparseable"].sum() == 348
    g4 = k.loc[("LLMBar/Natural", "GPT-4", "Vanilla_NoRules")]
    assert (round(g4["kappa_stored"], 3), round(g4["kappa"], 3)) == (0.260, 0.867)
    # the stored kappa is a different (much smaller) quantity: it shrinks every kappa towards 0
    big = k["kappa"].abs() > 0.2
    assert (k.loc[big, "kappa_stored"].abs() < k.loc[big, "kappa"].abs()).all()
    # kappa between the orders is right in the repository except where a null joins verdict "2"
    same = np.isclose(k["kappa_orders_stored"], k["kappa_orders"])
    assert (same | (k["unparseable"] > 0)).all()


def test_length_probe_matches_existing_pins(realdata):
    # tests/test_realdata_length_leniency.py refits these on a hand-built table (whitespace-token lengths)
    from metajudge.probes.length import length_probe

    gs = llmbar.load(realdata / "llmbar", evaluator="GPT-4,ChatGPT", strategy="Vanilla_NoRules")
    res = length_probe(gs.table, options={}, confidence_level=0.95, n_resamples=0, rng=np.random.default_rng(0))
    est = pd.DataFrame(res.rows).query("metric == 'length_coef'").set_index("judge")["estimate"]
    assert est["GPT-4/Vanilla_NoRules"] == pytest.approx(0.334702, abs=1e-6)
    assert est["ChatGPT/Vanilla_NoRules"] == pytest.approx(0.432852, abs=1e-6)
    assert res.counts["GPT-4/Vanilla_NoRules"]["paired_items"] == 401
    assert res.counts["GPT-4/Vanilla_NoRules"]["equal_length_items"] == 18
