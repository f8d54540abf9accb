"""TREC DL 2023 LLMJudge gold set: the adapter and ``analyses/trec_llmjudge.py`` on ../shared/realdata.

Every number of the analysis is recomputed here from the raw files with pandas / sklearn / scipy /
``krippendorff`` (not metajudge), and the values the LLMJudge-benchmark notebook printed are checked against
their own computation (Krippendorff's α under columns headed "kappa").
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn.metrics import cohen_kappa_score

from metajudge.goldsets import GoldSetError, get_spec, load_gold_set
from metajudge.goldsets import trec as trec_adapter  # importing registers the adapter

ANALYSES = Path(__file__).resolve().parents[1] / "analyses"
LEVELS = [0, 1, 2, 3]
OFF_SCALE = {"RMITIR-llama70B": 2, "h2oloo-zeroshot2": 1}
TABLE_COLUMNS = ["rater", "kind", "n", "out_of_scale", "percent_agreement", "cohen_kappa", "cohen_kappa_ci_low",
                 "cohen_kappa_ci_high", "cohen_kappa_quadratic", "cohen_kappa_quadratic_ci_low",
                 "cohen_kappa_quadratic_ci_high", "krippendorff_alpha_ordinal", "krippendorff_alpha_ordinal_ci_low",
                 "krippendorff_alpha_ordinal_ci_high", "cohen_kappa_binary", "kendall_tau_group", "leniency_shift",
                 "system_rank_kendall", "note"]
#: values read off table.csv, each also recomputed below by an independent computation
PINNED = {  # run: (n, percent agreement, κ, quadratic κ, ordinal α, κ at rel >= 2, τ per query, shift)
    "Olz-gpt4o": (4423, 0.513226, 0.262472, 0.506917, 0.501986, 0.365683, 0.477695, -0.121411),
    "RMITIR-llama70B": (4421, 0.493327, 0.265718, 0.489910, 0.488416, 0.392178, 0.454438, 0.170550),
    "h2oloo-zeroshot2": (4422, 0.535052, 0.259097, 0.419837, 0.390333, 0.328179, 0.373150, -0.337404),
    "TREMA-nuggets": (4423, 0.365137, 0.060412, 0.155494, 0.169144, 0.099238, 0.136399, 0.017635),
}
#: LLMJudge-benchmark codes/0-corr-analysis.ipynb (commit 86f57f6), printed output: α graded, then the
#: columns headed "kappa 0|123", "kappa 01|23", "kappa 012|3"
NOTEBOOK = {
    "h2oloo-fewself": (0.495764, 0.410792, 0.428016, 0.297844),
    "h2oloo-zeroshot1": (0.481175, 0.405772, 0.385039, 0.306258),
    "h2oloo-zeroshot2": (0.389818, 0.341810, 0.317459, 0.276929),
    "TREMA-rubric0": (0.103604, 0.117231, -0.089472, 0.016718),
    "TREMA-sumdecompose": (0.392616, 0.313767, 0.343022, 0.199542),
    "willia-umbrela1": (0.491793, 0.412928, 0.393941, 0.312438),
    "willia-umbrela2": (0.455608, 0.396124, 0.329797, 0.319274),
    "willia-umbrela3": (0.453547, 0.396488, 0.331441, 0.318456),
}


@pytest.fixture(scope="module")
def folder(realdata: Path) -> Path:
    f = realdata / "trec_llmjudge"
    if not f.is_dir():
        pytest.skip(f"{f} missing")
    return f


@pytest.fixture(scope="module")
def wide(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "llm_vs_human_labels_wide.csv", dtype={"qid": str, "docid": str})


@pytest.fixture(scope="module")
def runs(wide: pd.DataFrame) -> list[str]:
    return [c for c in wide.columns if c not in ("qid", "docid", "human")]


@pytest.fixture(scope="module")
def study(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ANALYSES))
    mod = importlib.import_module("trec_llmjudge")
    out = tmp_path_factory.mktemp("trec_llmjudge")
    assert mod.main(["--data-dir", str(folder.parent), "-o", str(out), "--n-resamples", "200"]) == 0
    return out


@pytest.fixture(scope="module")
def table(study: Path) -> pd.DataFrame:
    return pd.read_csv(study / "table.csv")


# ------------------------------------------------------------------------------------------------ adapter
def test_adapter_counts_and_conventions(folder: Path, wide: pd.DataFrame, runs: list[str]) -> None:
    gs = load_gold_set("trec_llmjudge", folder.parent)   # a folder holding trec_llmjudge/ is accepted
    t = gs.table
    qrels = pd.read_csv(folder / "test_qrels_human.tsv", sep="\t", dtype={"qid": str, "docid": str})
    assert len(runs) == 33 and t.judges == runs
    assert t.humans == ["nist"]
    assert len(t.reference) == len(qrels) == 4423 and t.reference.notna().all()
    assert qrels["qid"].nunique() == 25
    # docid alone repeats across queries: the item is qid:docid
    assert qrels["docid"].nunique() < len(qrels)
    assert set(t.reference.index) == set(qrels["qid"] + ":" + qrels["docid"])
    ref = t.reference.reindex(qrels["qid"] + ":" + qrels["docid"]).to_numpy()
    assert (ref == qrels["human"].to_numpy()).all()      # ordinal codes 0..3 are the labels themselves
    assert np.bincount(qrels["human"], minlength=4).tolist() == [2005, 1233, 808, 377]
    cov = t.coverage.set_index("source")
    off = {r: int(cov.loc[r, "out_of_scale"]) for r in runs if cov.loc[r, "out_of_scale"]}
    # independent count of labels outside 0..3 in the raw file
    raw_off = {r: int((~wide[r].isin(LEVELS)).sum()) for r in runs}
    assert off == {r: n for r, n in raw_off.items() if n} == OFF_SCALE
    assert t.item_attrs["group"].nunique() == 25
    assert any("differs from them on 0 pair" in n for n in gs.notes)
    assert any("single NIST assessor" in n for n in gs.notes)
    assert gs.files and set(gs.files) == {"test_qrels_human.tsv", "llm_vs_human_labels_wide.csv", "queries.tsv"}
    spec = get_spec("trec_llmjudge")
    assert spec is trec_adapter.SPEC
    assert spec.folder == "trec_llmjudge" and "scale" in spec.options and "out_of_scale" in spec.options


def test_adapter_options(folder: Path, wide: pd.DataFrame) -> None:
    clip = load_gold_set("trec_llmjudge", folder, out_of_scale="clip", runs="RMITIR-llama70B,h2oloo-zeroshot2")
    assert clip.table.judges == ["RMITIR-llama70B", "h2oloo-zeroshot2"]
    assert (clip.table.coverage["out_of_scale"] == 0).all()
    rows = clip.table.rows("h2oloo-zeroshot2")
    ids = wide["qid"] + ":" + wide["docid"]
    ten = ids[wide["h2oloo-zeroshot2"] == 10].tolist()
    assert len(ten) == 1 and rows.set_index("item_id").loc[ten[0], "value"] == 3
    binary = load_gold_set("trec_llmjudge", folder, scale="binary", runs="Olz-gpt4o")
    assert binary.table.scale.kind == "binary"
    assert int(binary.table.reference.sum()) == 808 + 377          # relevant = NIST label >= 2
    b1 = load_gold_set("trec_llmjudge", folder, scale="binary", runs="Olz-gpt4o", relevance_threshold=1)
    assert int(b1.table.reference.sum()) == 1233 + 808 + 377


@pytest.mark.parametrize("opts, match", [
    ({"scale": "likert"}, "scale must be"),
    ({"out_of_scale": "drop"}, "out_of_scale must be"),
    ({"runs": "Olz-gpt4"}, "did you mean 'Olz-gpt4o'"),
    ({"relevance_threshold": 5}, "relevance_threshold"),
    ({"threshold": 2}, "has no option"),
])
def test_adapter_bad_options(folder: Path, opts: dict, match: str) -> None:
    with pytest.raises(GoldSetError, match=match):
        load_gold_set("trec_llmjudge", folder, **opts)


def test_adapter_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(GoldSetError, match="does not exist"):
        load_gold_set("trec_llmjudge", tmp_path / "nowhere")
    (tmp_path / "trec_llmjudge").mkdir()
    (tmp_path / "trec_llmjudge" / "queries.tsv").write_text("qid\tquery\ttrec_qid\n", encoding="utf-8")
    with pytest.raises(GoldSetError, match="lacks test_qrels_human.tsv"):
        load_gold_set("trec_llmjudge", tmp_path)


# ------------------------------------------------------------------------------------------------ analysis
def test_outputs_exist(study: Path, table: pd.DataFrame) -> None:
    assert list(table.columns) == TABLE_COLUMNS
    for name in ("table.csv", "table.tex", "published.csv", "agreement.csv", "probes.csv", "forest.pdf",
                 "forest.svg"):
        assert (study / name).stat().st_size > 0, name
    tex = (study / "table.tex").read_text(encoding="utf-8")
    assert "\\begin{tabular}" in tex and "human\\_ceiling" in tex and "majority\\_class" in tex
    assert "h2oloo-fewself" in tex and "$\\kappa$" in tex
    assert (study / "forest.pdf").read_bytes().startswith(b"%PDF")
    agr = pd.read_csv(study / "agreement.csv")
    assert set(agr["section"]) == {"agreement", "baseline"}      # no ceiling rows: a single annotator
    probes = pd.read_csv(study / "probes.csv")
    assert set(probes["probe"]) == {"leniency"} and probes["judge"].nunique() == 33


def test_every_run_matches_sklearn_scipy(table: pd.DataFrame, wide: pd.DataFrame, runs: list[str]) -> None:
    t = table.set_index("rater")
    assert (t.loc[runs, "kind"] == "judge").all()
    for run in runs:
        ok = wide[run].isin(LEVELS)                           # labels outside 0..3 left out
        h, j = wide.loc[ok, "human"].to_numpy(), wide.loc[ok, run].to_numpy()
        row = t.loc[run]
        assert row["n"] == ok.sum() and row["out_of_scale"] == (~ok).sum()
        assert row["percent_agreement"] == pytest.approx((h == j).mean(), abs=1e-9)
        assert row["cohen_kappa"] == pytest.approx(cohen_kappa_score(h, j, labels=LEVELS), abs=1e-9)
        assert row["cohen_kappa_quadratic"] == pytest.approx(
            cohen_kappa_score(h, j, labels=LEVELS, weights="quadratic"), abs=1e-9)
        a = krippendorff.alpha(reliability_data=np.vstack([h, j]).astype(float), level_of_measurement="ordinal",
                               value_domain=LEVELS)
        assert row["krippendorff_alpha_ordinal"] == pytest.approx(a, abs=1e-9)
        assert row["cohen_kappa_binary"] == pytest.approx(cohen_kappa_score(h >= 2, j >= 2), abs=1e-9)
        sub = wide.loc[ok]
        taus = [sps.kendalltau(g["human"], g[run]).statistic for _, g in sub.groupby("qid")]
        taus = [x for x in taus if np.isfinite(x)]
        assert row["kendall_tau_group"] == pytest.approx(np.mean(taus), abs=1e-9)
        assert row["leniency_shift"] == pytest.approx((j - h).mean(), abs=1e-9)
        for m in ("cohen_kappa", "cohen_kappa_quadratic", "krippendorff_alpha_ordinal"):
            assert row[f"{m}_ci_low"] < row[m] < row[f"{m}_ci_high"], (run, m)
        assert np.isnan(row["system_rank_kendall"]) and "retrieval runs" in row["note"]


def test_pinned_values(table: pd.DataFrame) -> None:
    t = table.set_index("rater")
    cols = ["n", "percent_agreement", "cohen_kappa", "cohen_kappa_quadratic", "krippendorff_alpha_ordinal",
            "cohen_kappa_binary", "kendall_tau_group", "leniency_shift"]
    for run, vals in PINNED.items():
        assert t.loc[run, cols].to_numpy(dtype=float) == pytest.approx(np.array(vals, dtype=float), abs=1e-6), run
    judges = t[t["kind"] == "judge"]
    assert judges["cohen_kappa_quadratic"].idxmax() == "Olz-gpt4o"
    assert judges["cohen_kappa"].median() == pytest.approx(0.188001, abs=1e-6)
    assert judges["cohen_kappa_quadratic"].median() == pytest.approx(0.394324, abs=1e-6)
    # fair-to-moderate agreement, never near perfect (LLMJudge overview)
    assert judges["cohen_kappa_quadratic"].between(0.1, 0.6).all()


def test_human_ceiling_is_nan_with_note(table: pd.DataFrame) -> None:
    row = table.set_index("rater").loc["human_ceiling"]
    assert row["kind"] == "human"
    metric_cols = [c for c in TABLE_COLUMNS[4:-1]]
    assert row[metric_cols].isna().all()
    assert "one NIST assessor" in row["note"]


def test_baselines(table: pd.DataFrame, wide: pd.DataFrame) -> None:
    b = table[table["kind"] == "baseline"].set_index("rater")
    assert set(b.index) == {"majority_class", "random_prior", "random_uniform"}
    # majority class = NIST label 0 everywhere: agreement is its share, κ is 0
    assert b.loc["majority_class", "percent_agreement"] == pytest.approx((wide["human"] == 0).mean(), abs=1e-9)
    assert b.loc["majority_class", "cohen_kappa"] == pytest.approx(0.0, abs=1e-9)
    assert (b["cohen_kappa_quadratic"].abs() < 0.05).all()


def test_published_notebook_values(study: Path, wide: pd.DataFrame, runs: list[str]) -> None:
    pub = pd.read_csv(study / "published.csv")
    assert list(pub.columns) == ["run", "variant", "threshold", "published", "recomputed", "cohen_kappa", "n",
                                 "note"]
    assert len(pub) == 4 * len(runs)
    p = pub.set_index(["run", "variant"])
    variants = ["graded", "0|123", "01|23", "012|3"]
    for run in runs:
        # the notebook's convention: labels clipped to 0..3, α ordinal with value domain 0..3
        h = wide["human"].to_numpy()
        j = wide[run].clip(0, 3).to_numpy()
        for i, (variant, th) in enumerate(zip(variants, [None, 1, 2, 3])):
            x, y = (h, j) if th is None else ((h >= th).astype(int), (j >= th).astype(int))
            a = krippendorff.alpha(reliability_data=[x, y], value_domain=LEVELS, level_of_measurement="ordinal")
            row = p.loc[(run, variant)]
            assert row["recomputed"] == pytest.approx(a, abs=1e-9), (run, variant)
            assert row["cohen_kappa"] == pytest.approx(
                cohen_kappa_score(x, y, labels=LEVELS if th is None else [0, 1]), abs=1e-9)
            if run in NOTEBOOK:
                assert row["published"] == NOTEBOOK[run][i]
                assert row["recomputed"] == pytest.approx(NOTEBOOK[run][i], abs=5e-7), (run, variant)
            else:
                assert np.isnan(row["published"])
    # the "kappa" headers hold α: on binarised labels κ differs from the printed value
    row = p.loc[("TREMA-rubric0", "01|23")]
    assert row["published"] == -0.089472 and abs(row["cohen_kappa"] - row["published"]) > 1e-3
    assert "computes Krippendorff's alpha" in row["note"]
    assert "clipped" in p.loc[("h2oloo-zeroshot2", "graded"), "note"]


def test_clip_option_changes_only_the_clipped_runs(folder: Path, table: pd.DataFrame, tmp_path: Path,
                                                   wide: pd.DataFrame) -> None:
    mod = importlib.import_module("trec_llmjudge")
    assert mod.main(["--data-dir", str(folder), "-o", str(tmp_path), "--n-resamples", "0",
                     "--out-of-scale", "clip"]) == 0
    c = pd.read_csv(tmp_path / "table.csv").set_index("rater")
    t = table.set_index("rater")
    assert c.loc["h2oloo-zeroshot2", "n"] == 4423 and c.loc["h2oloo-zeroshot2", "out_of_scale"] == 0
    j = wide["h2oloo-zeroshot2"].clip(0, 3)
    assert c.loc["h2oloo-zeroshot2", "cohen_kappa"] == pytest.approx(
        cohen_kappa_score(wide["human"], j, labels=LEVELS), abs=1e-9)
    assert c.loc["Olz-gpt4o", "cohen_kappa"] == t.loc["Olz-gpt4o", "cohen_kappa"]
