"""Gold set ``summeval_shen2023`` and ``analyses/summeval_shen2023.py`` on the real files (../shared/realdata).

Every pinned number is recomputed here from the raw files with pandas / scipy / sklearn / krippendorff, without
the package's code: the expert and crowd means from ``annotations.jsonl``, the LLM scores from
``llm_ratings.parquet`` (last line kept for a summary listed twice, as the authors' scripts do), the head-to-head
verdicts from ``h2h_comparisons.parquet``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from metajudge.goldsets import GoldSetError, get_spec, load_gold_set
from metajudge.goldsets.summeval import SPEC  # importing the adapter registers the gold set

ROOT = Path(__file__).resolve().parents[1]
NAME = "summeval_shen2023"
DIMS = ("coherence", "consistency", "fluency", "relevance")
RUN_DIMS = ("coherence", "relevance")       # dimensions the analysis script runs in this test (time)
JUDGES = ["gpt-3.5-turbo-0301/altmcq", "gpt-3.5-turbo-0301/altrts", "gpt-3.5-turbo-0301/mcq",
          "gpt-3.5-turbo-0301/rts", "gpt-3.5-turbo-0301/stareval", "gpt-4-0314/rts", "llama-2-13b-chat-hf/rts",
          "llama-2-70b-chat-hf/rts", "llama-2-7b-chat-hf/rts"]
AGREEMENT_COLUMNS = ["judge", "task", "dimension", "annotators", "metric", "level", "estimate", "ci_low", "ci_high",
                     "confidence_level", "n", "human_ceiling", "human_ceiling_ci_low", "human_ceiling_ci_high",
                     "judge_loao", "judge_loao_ci_low", "judge_loao_ci_high", "note"]
PROBE_COLUMNS = ["judge", "task", "dimension", "annotators", "probe", "metric", "slice", "estimate", "ci_low",
                 "ci_high", "n", "p_value", "p_adjusted", "note"]


# ---------------------------------------------------------------------------------------------- raw data
@pytest.fixture(scope="module")
def folder(realdata):
    f = realdata / "summeval_llm_shen2023"
    if not (f / "annotations.jsonl").is_file():
        pytest.skip(f"{f} missing")
    return f


@pytest.fixture(scope="module")
def raw(folder):
    """scores: one row per summary with e_<dim>_<k> (experts) and c_<dim>_<k> (crowd); ratings; h2h."""
    rows = []
    with open(folder / "annotations.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            row = {"id": r["id"], "model_id": r["model_id"], "tokens": len(r["decoded"].split())}
            for d in DIMS:
                for k, e in enumerate(r["expert_annotations"]):
                    row[f"e_{d}_{k}"] = e[d]
                for k, c in enumerate(r["turker_annotations"]):
                    row[f"c_{d}_{k}"] = c[d]
            rows.append(row)
    scores = pd.DataFrame(rows)
    scores["item"] = scores["id"] + "|" + scores["model_id"]
    scores = scores.set_index("item")
    ratings = pd.read_parquet(folder / "llm_ratings.parquet")
    h2h = pd.read_parquet(folder / "h2h_comparisons.parquet")
    return scores, ratings, h2h


def expert_mean(scores, dim, who="e", k=3):
    return scores[[f"{who}_{dim}_{i}" for i in range(k)]].mean(axis=1)


def judge_scores(ratings, evaluator, method, dim, keep="last", minus_one=False):
    """item -> score of one run; the last line of a summary listed twice; -1/null = unparseable -> NaN."""
    r = ratings[(ratings.evaluator == evaluator) & (ratings.method == method) & (ratings.dimension == dim)]
    r = r.sort_values("row_in_file").drop_duplicates(["id", "model_id"], keep=keep)
    s = pd.Series(r["score"].to_numpy(dtype=float), index=(r["id"] + "|" + r["model_id"]).to_numpy())
    return s if minus_one else s.where(s >= 1)


def loao(scores, dim, candidate=None, k=3, who="e", fn=sps.pearsonr):
    """Mean over annotators h of fn(mean of the others, h) -- or fn(same reference, candidate)."""
    vals = []
    for h in range(k):
        others = scores[[f"{who}_{dim}_{i}" for i in range(k) if i != h]].mean(axis=1)
        c = scores[f"{who}_{dim}_{h}"] if candidate is None else candidate.reindex(scores.index)
        ok = c.notna()
        vals.append(fn(others[ok], c[ok]).statistic)
    return float(np.mean(vals))


# ---------------------------------------------------------------------------------------------- adapter
def test_rating_adapter_counts_and_reference(folder, raw):
    scores, ratings, h2h = raw
    # the staged files as SOURCE.md describes them
    assert len(ratings) == 43_812 and len(h2h) == 8_800 and len(scores) == 1_200
    n = ratings.groupby(["evaluator", "method"]).size()
    assert n[("gpt-3.5-turbo-0301", "mcq")] == 5_100 and n[("gpt-3.5-turbo-0301", "altmcq")] == 4_812
    assert (n.drop([("gpt-3.5-turbo-0301", "mcq"), ("gpt-3.5-turbo-0301", "altmcq"), ("gpt-4-0314", "old"),
                    ("gpt-4-0314", "mcq_old")]) == 4_800).all()
    gs = load_gold_set(NAME, folder.parent, dimension="coherence")
    t = gs.table
    assert t.judges == JUDGES
    assert t.humans == ["expert_1", "expert_2", "expert_3"]
    assert len(t.reference) == 1200 == scores.shape[0]
    assert t.scale.kind == "interval" and (t.scale.minimum, t.scale.maximum) == (1, 5)
    ref = expert_mean(scores, "coherence")
    assert np.allclose(t.reference.reindex(ref.index).to_numpy(), ref.to_numpy())
    attrs = t.item_attrs.reindex(scores.index)
    assert (attrs["system"] == scores["model_id"]).all() and (attrs["group"] == scores["id"]).all()
    assert (attrs["length_a"] == scores["tokens"]).all()
    cov = t.coverage.set_index("source")
    # the one rts response llama-2-70b gave without a score is counted as unparseable, never imputed
    assert cov.loc["llama-2-70b-chat-hf/rts", "unparseable"] == 1
    assert cov.loc["llama-2-70b-chat-hf/rts", "matched_items"] == 1199
    assert cov.drop(index=["gold", "llama-2-70b-chat-hf/rts"])["matched_items"].eq(1200).all()
    for j in JUDGES:
        ev, me = j.split("/")
        exp = judge_scores(ratings, ev, me, "coherence").dropna()
        got = t.rows(j).set_index("item_id")["value"]
        assert np.allclose(got.reindex(exp.index).to_numpy(), exp.to_numpy()), j
    assert not any("stray" in n for n in gs.notes)  # the stray gpt-4 files hold no coherence rows
    assert gs.probes == ["length", "leniency", "system"]


def test_duplicates_keep_last_by_default(folder, raw):
    _, ratings, _ = raw
    gs = load_gold_set(NAME, folder, dimension="consistency", method="mcq")
    assert gs.table.judges == ["gpt-3.5-turbo-0301/mcq"]
    rows = gs.table.rows("gpt-3.5-turbo-0301/mcq").set_index("item_id")["value"]
    assert len(rows) == 1200
    last = judge_scores(ratings, "gpt-3.5-turbo-0301", "mcq", "consistency", keep="last")
    first = judge_scores(ratings, "gpt-3.5-turbo-0301", "mcq", "consistency", keep="first")
    assert (last != first.reindex(last.index)).sum() == 52  # 52 duplicated summaries were scored differently
    assert np.allclose(rows.reindex(last.index).to_numpy(), last.to_numpy())
    assert any("300 summaries appear twice" in n and "52 of them have two different scores" in n for n in gs.notes)
    # the stray gpt-4 files (old: 100 consistency rows, mcq_old: 100) are left out and counted
    stray = ratings[ratings.method.isin(["old", "mcq_old"]) & (ratings.dimension == "consistency")]
    assert len(stray) == 200 and any("200 rows of the stray gpt-4 files" in n for n in gs.notes)
    gs_first = load_gold_set(NAME, folder, dimension="consistency", method="mcq", duplicates="first")
    r1 = gs_first.table.rows("gpt-3.5-turbo-0301/mcq").set_index("item_id")["value"]
    assert np.allclose(r1.reindex(first.index).to_numpy(), first.to_numpy())


def test_crowd_annotators(folder, raw):
    scores, _, _ = raw
    gs = load_gold_set(NAME, folder, dimension="fluency", annotators="crowd", evaluator="gpt-4-0314")
    assert gs.table.humans == [f"crowd_{i}" for i in range(1, 6)]
    assert gs.table.judges == ["gpt-4-0314/rts"]
    ref = expert_mean(scores, "fluency", who="c", k=5)
    assert np.allclose(gs.table.reference.reindex(ref.index).to_numpy(), ref.to_numpy())


def test_h2h_adapter(folder, raw):
    scores, _, h2h = raw
    gs = load_gold_set(NAME, folder, task="h2h", dimension="coherence")
    t = gs.table
    assert t.scale.kind == "pairwise" and t.judges == ["gpt-3.5-turbo-0301/h2h"]
    rows = t.rows("gpt-3.5-turbo-0301/h2h")
    assert len(rows) == 2200 and rows["item_id"].nunique() == 1100
    assert sorted(rows["order"].unique()) == ["AB", "BA"]
    # a toggled row shows model_2's summary first: its shown "A" is B in the item frame
    h = h2h[h2h.dimension == "coherence"]
    letter = h["resp"].str.extract(r"^([ABC])(?::|$)")[0]
    assert letter.notna().all()
    item = h["id"] + "|" + h["model_1"] + "|" + h["model_2"]
    to_item = np.where(h["toggle"], letter.map({"A": 2.0, "B": 0.0, "C": 1.0}), letter.map({"A": 0.0, "B": 2.0,
                                                                                           "C": 1.0}))
    exp = pd.Series(to_item, index=pd.MultiIndex.from_arrays([item, np.where(h["toggle"], "BA", "AB")]))
    got = rows.set_index(["item_id", "order"])["value"]
    assert np.array_equal(got.reindex(exp.index).to_numpy(), exp.to_numpy())
    # the humans: each expert's vote from their two scores; the majority is undefined when the votes split 3 ways
    one = h.drop_duplicates(["id", "model_1", "model_2"])
    a = scores.reindex(one["id"] + "|" + one["model_1"])
    b = scores.reindex(one["id"] + "|" + one["model_2"])
    votes = np.stack([np.sign(a[f"e_coherence_{k}"].to_numpy() - b[f"e_coherence_{k}"].to_numpy())
                      for k in range(3)], axis=1)
    three_way = int((np.sort(votes, axis=1) == [-1, 0, 1]).all(axis=1).sum())
    assert t.coverage.set_index("source").loc["gold", "reference_undefined"] == three_way == 97
    assert t.humans == ["expert_1", "expert_2", "expert_3"]
    assert gs.probes == ["position", "length", "leniency", "system"]
    # the authors' reference: the expert means compared (the file's human_score_1 / human_score_2)
    gm = load_gold_set(NAME, folder, task="h2h", dimension="coherence", h2h_reference="mean")
    assert gm.table.humans == ["expert_mean"]
    diff = (one["human_score_1"] - one["human_score_2"]).to_numpy()
    ref = gm.table.reference.reindex(one["id"] + "|" + one["model_1"] + "|" + one["model_2"]).to_numpy()
    assert np.array_equal(ref, np.select([diff > 0, diff < 0], [0.0, 2.0], 1.0))


def test_errors(realdata, tmp_path):
    assert get_spec(NAME) is SPEC and SPEC.folder == "summeval_llm_shen2023" and SPEC.card_path() is not None
    with pytest.raises(GoldSetError, match="lacks"):
        load_gold_set(NAME, tmp_path)
    with pytest.raises(GoldSetError, match="dimension must be one of"):
        load_gold_set(NAME, realdata, dimension="informativeness")
    with pytest.raises(GoldSetError, match="annotators"):
        load_gold_set(NAME, realdata, annotators="turkers")
    with pytest.raises(GoldSetError, match="task"):
        load_gold_set(NAME, realdata, task="ranking")
    with pytest.raises(GoldSetError, match="method"):
        load_gold_set(NAME, realdata, method="cot")
    with pytest.raises(GoldSetError, match="has no option 'dimensions'"):
        load_gold_set(NAME, realdata, dimensions="coherence")


# ---------------------------------------------------------------------------------------------- analysis
@pytest.fixture(scope="module")
def outputs(folder, tmp_path_factory):
    sys.path.insert(0, str(ROOT / "analyses"))
    import summeval_shen2023 as study

    out = tmp_path_factory.mktemp("summeval_shen2023")
    argv = ["--data-dir", str(folder.parent), "-o", str(out), "--n-resamples", "200"]
    for d in RUN_DIMS:
        argv += ["--dimension", d]
    assert study.main(argv) == 0
    return out, pd.read_csv(out / "agreement.csv"), pd.read_csv(out / "probes.csv"), \
        pd.read_csv(out / "paper_tables.csv")


def _one(df, **kw):
    m = np.ones(len(df), bool)
    for k, v in kw.items():
        m &= (df[k] == v).to_numpy()
    assert m.sum() == 1, kw
    return df[m].iloc[0]


def test_output_files(outputs):
    out, agree, probes, paper = outputs
    assert list(agree.columns) == AGREEMENT_COLUMNS
    assert list(probes.columns) == PROBE_COLUMNS
    assert list(paper.columns) == ["table", "judge", "dimension", "system", "metric", "value", "n"]
    assert set(agree["dimension"]) == set(RUN_DIMS) and set(agree["task"]) == {"rating", "h2h"}
    for stem in ("agreement_vs_ceiling.pdf", "agreement_vs_ceiling.svg", "agreement.tex"):
        assert (out / stem).stat().st_size > 1000, stem
    tex = (out / "agreement.tex").read_text(encoding="utf-8")
    assert "95\\% CI" in tex and "$\\rho$ (group)" in tex and "$\\tau$ (system)" in tex
    assert "gpt-4-0314/rts" in tex and "\\begin{tabular}" in tex
    # undefined values are NaN with a reason, never 0
    alpha = agree[(agree["metric"] == "krippendorff_alpha_interval") & (agree["judge"] != "humans")]
    assert alpha["human_ceiling"].isna().all() and alpha["note"].str.contains("human ceiling NaN").all()


def test_rating_agreement_three_levels(outputs, raw):
    _, agree, _, _ = outputs
    scores, ratings, _ = raw
    pins = {("coherence", "gpt-4-0314/rts"): 0.428185, ("coherence", "gpt-3.5-turbo-0301/rts"): 0.466883,
            ("relevance", "gpt-4-0314/rts"): 0.460651, ("coherence", "llama-2-7b-chat-hf/rts"): 0.000325}
    for dim in RUN_DIMS:
        h = expert_mean(scores, dim)
        for j in JUDGES:
            ev, me = j.split("/")
            s = judge_scores(ratings, ev, me, dim)
            d = pd.DataFrame({"h": h, "j": s.reindex(h.index), "g": scores["id"], "sys": scores["model_id"]})
            d = d.dropna()
            for kind, fn in (("pearson", sps.pearsonr), ("spearman", sps.spearmanr), ("kendall_tau", sps.kendalltau)):
                rows = agree[(agree.task == "rating") & (agree.dimension == dim) & (agree.judge == j)
                             & (agree.metric == kind)].set_index("level")
                assert rows.loc["dataset", "estimate"] == pytest.approx(fn(d.h, d.j).statistic, abs=1e-9)
                assert rows.loc["dataset", "n"] == len(d)
                if j in ("gpt-4-0314/rts", "gpt-3.5-turbo-0301/mcq", "llama-2-70b-chat-hf/rts"):  # slow loop
                    per = [fn(g.h, g.j).statistic for _, g in d.groupby("g") if g.h.nunique() > 1 and g.j.nunique() > 1]
                    assert rows.loc["group", "estimate"] == pytest.approx(np.mean(per), abs=1e-9)
                sm = d.groupby("sys")[["h", "j"]].mean().round(12)  # equal means in exact arithmetic tie
                assert rows.loc["system", "estimate"] == pytest.approx(fn(sm.h, sm.j).statistic, abs=1e-9)
                lo, hi = rows.loc["dataset", ["ci_low", "ci_high"]]
                assert lo <= rows.loc["dataset", "estimate"] <= hi
            if (dim, j) in pins:
                got = _one(agree, task="rating", dimension=dim, judge=j, metric="pearson", level="dataset")
                assert got["estimate"] == pytest.approx(pins[(dim, j)], abs=1e-6)


def test_human_ceiling_matches_independent_loao(outputs, raw):
    krippendorff = pytest.importorskip("krippendorff")
    _, agree, _, _ = outputs
    scores, ratings, _ = raw
    pins = {"coherence": 0.730726, "relevance": 0.621654}
    for dim in RUN_DIMS:
        for kind, fn in (("pearson", sps.pearsonr), ("spearman", sps.spearmanr)):
            ceiling = loao(scores, dim, fn=fn)
            for j in ("gpt-4-0314/rts", "gpt-3.5-turbo-0301/mcq"):
                ev, me = j.split("/")
                row = _one(agree, task="rating", dimension=dim, judge=j, metric=kind, level="dataset")
                assert row["human_ceiling"] == pytest.approx(ceiling, abs=1e-9)
                assert row["human_ceiling_ci_low"] < ceiling < row["human_ceiling_ci_high"]
                cand = judge_scores(ratings, ev, me, dim)
                assert row["judge_loao"] == pytest.approx(loao(scores, dim, candidate=cand, fn=fn), abs=1e-9)
            if kind == "pearson":
                assert ceiling == pytest.approx(pins[dim], abs=1e-6)
        # llama-2-70b skipped one coherence summary: its ceiling is the one on its 1,199 items
        if dim == "coherence":
            cand = judge_scores(ratings, "llama-2-70b-chat-hf", "rts", dim)
            row = _one(agree, task="rating", dimension=dim, judge="llama-2-70b-chat-hf/rts", metric="pearson",
                       level="dataset")
            keep = cand.dropna().index
            assert row["human_ceiling"] == pytest.approx(loao(scores.loc[keep], dim), abs=1e-9)
        w = scores[[f"e_{dim}_{k}" for k in range(3)]].to_numpy(dtype=float)
        alpha = krippendorff.alpha(reliability_data=w.T, level_of_measurement="interval")
        got = _one(agree, task="rating", dimension=dim, judge="humans", metric="krippendorff_alpha_interval")
        assert got["estimate"] == pytest.approx(alpha, abs=1e-9)
    # every LLM run stays well below the experts' own ceiling (Shen et al.: "not yet human-level")
    r = agree[(agree.task == "rating") & (agree.metric == "pearson") & (agree.level == "dataset")]
    assert (r["judge_loao"] < r["human_ceiling_ci_low"]).all()


def test_h2h_agreement_and_ceiling(outputs, raw):
    from sklearn.metrics import cohen_kappa_score

    _, agree, _, _ = outputs
    scores, _, h2h = raw
    for dim in RUN_DIMS:
        h = h2h[h2h.dimension == dim]
        item = h["id"] + "|" + h["model_1"] + "|" + h["model_2"]
        letter = h["resp"].str.extract(r"^([ABC])(?::|$)")[0]
        shown = letter.map({"A": "A", "B": "B", "C": "T"})
        verdict = np.where(h["toggle"], letter.map({"A": "B", "B": "A", "C": "T"}), shown)
        a = scores.reindex(h["id"] + "|" + h["model_1"])
        b = scores.reindex(h["id"] + "|" + h["model_2"])
        votes = pd.DataFrame({k: np.sign(a[f"e_{dim}_{k}"].to_numpy() - b[f"e_{dim}_{k}"].to_numpy())
                              for k in range(3)}, index=item.to_numpy())

        def majority(v):
            vals, cnt = np.unique(v, return_counts=True)
            return vals[np.argmax(cnt)] if cnt.max() >= 2 else np.nan

        maj = votes.apply(lambda r: majority(r.to_numpy()), axis=1)
        lab = maj.map({1.0: "A", -1.0: "B", 0.0: "T"}).to_numpy()
        ok = ~pd.isna(lab)
        po = float((verdict[ok] == lab[ok]).mean())
        kappa = cohen_kappa_score(lab[ok].astype(str), verdict[ok].astype(str))
        pa = _one(agree, task="h2h", dimension=dim, judge="gpt-3.5-turbo-0301/h2h", metric="percent_agreement")
        ka = _one(agree, task="h2h", dimension=dim, judge="gpt-3.5-turbo-0301/h2h", metric="cohen_kappa")
        assert pa["estimate"] == pytest.approx(po, abs=1e-9)
        assert ka["estimate"] == pytest.approx(kappa, abs=1e-9)
        if dim == "coherence":
            assert pa["n"] == 1100 - 97
        # ceiling: expert k vs the other two when they agree; the judge on the same items and references
        v = votes.groupby(level=0).first()
        hum, jud = [], []
        jv = pd.Series(verdict, index=item.to_numpy())
        for k in range(3):
            o = v.drop(columns=k)
            agree_o = o.iloc[:, 0] == o.iloc[:, 1]
            ref = o.iloc[:, 0][agree_o].map({1.0: "A", -1.0: "B", 0.0: "T"})
            mine = v[k][agree_o].map({1.0: "A", -1.0: "B", 0.0: "T"})
            hum.append(float((mine == ref).mean()))
            jr = ref.reindex(jv.index)
            m = jr.notna().to_numpy()
            jud.append(float((jv.to_numpy()[m] == jr.to_numpy()[m]).mean()))
        assert pa["human_ceiling"] == pytest.approx(np.mean(hum), abs=1e-9)
        assert pa["judge_loao"] == pytest.approx(np.mean(jud), abs=1e-9)
        if dim == "coherence":
            assert pa["estimate"] == pytest.approx(0.453141, abs=1e-6)
            assert pa["human_ceiling"] == pytest.approx(0.667372, abs=1e-6)


def test_probes(outputs, raw):
    _, _, probes, _ = outputs
    scores, ratings, h2h = raw
    # leniency: GPT-4 rts scores coherence about one point above the expert mean
    h = expert_mean(scores, "coherence")
    s = judge_scores(ratings, "gpt-4-0314", "rts", "coherence")
    shift = _one(probes, task="rating", dimension="coherence", judge="gpt-4-0314/rts", metric="leniency_shift")
    assert shift["estimate"] == pytest.approx((s - h).mean(), abs=1e-9)
    assert shift["estimate"] == pytest.approx(1.001528, abs=1e-6)
    # system ranking of the 12 summarisers
    sm = pd.DataFrame({"h": h, "j": s, "sys": scores["model_id"]}).groupby("sys").mean()
    rho = _one(probes, task="rating", dimension="coherence", judge="gpt-4-0314/rts", metric="system_rank_spearman")
    assert rho["estimate"] == pytest.approx(sps.spearmanr(sm.h, sm.j).statistic, abs=1e-9)
    assert rho["estimate"] == pytest.approx(0.783217, abs=1e-6)
    # position: the two orders of every comparison
    d = h2h[h2h.dimension == "coherence"].assign(
        item=lambda x: x["id"] + "|" + x["model_1"] + "|" + x["model_2"],
        v=lambda x: x["resp"].str.extract(r"^([ABC])(?::|$)")[0],
        order=lambda x: np.where(x["toggle"], "BA", "AB"))
    p = d.pivot(index="item", columns="order", values="v")
    pair = p["AB"] + p["BA"]
    cons, pri, rec = pair.isin(["AB", "BA", "CC"]).sum(), pair.isin(["AA", "AC", "CA"]).sum(), \
        pair.isin(["BB", "BC", "CB"]).sum()

    def get(m):
        return _one(probes, task="h2h", dimension="coherence", judge="gpt-3.5-turbo-0301/h2h", metric=m)

    assert get("position_consistency")["estimate"] == pytest.approx(cons / 1100, abs=1e-9)
    assert get("position_consistency")["estimate"] == pytest.approx(0.643636, abs=1e-6)
    assert get("preference_fairness")["estimate"] == pytest.approx((rec - pri) / 1100, abs=1e-9)
    first, second = (p == "A").sum().sum(), (p == "B").sum().sum()
    assert get("first_position_rate")["estimate"] == pytest.approx(first / (first + second), abs=1e-9)
    # gpt-3.5 prefers the longer summary more often than the experts do on the same comparisons
    assert get("prefer_longer_excess")["ci_low"] > 0
    assert set(probes.loc[probes.task == "rating", "probe"]) == {"length", "leniency", "system"}
    assert set(probes.loc[probes.task == "h2h", "probe"]) == {"position", "length", "leniency", "system"}


def test_paper_tables(outputs, raw):
    """per_model_corr.py, calc_data_corr.py, calc_meta_corr.py and calc_h2h_pairs.py, re-implemented here."""
    _, _, _, paper = outputs
    scores, ratings, h2h = raw
    systems = ["M8", "M9", "M10", "M11", "M12", "M13", "M14", "M15", "M17", "M20", "M22", "M23"]
    for dim in RUN_DIMS:
        h = expert_mean(scores, dim)
        for j in ("gpt-3.5-turbo-0301/rts", "gpt-4-0314/rts", "gpt-3.5-turbo-0301/mcq"):
            ev, me = j.split("/")
            d = pd.DataFrame({"h": h, "j": judge_scores(ratings, ev, me, dim), "sys": scores["model_id"]}).dropna()
            assert _one(paper, table="dataset", judge=j, dimension=dim, metric="spearman")["value"] == \
                pytest.approx(sps.spearmanr(d.h, d.j).statistic, abs=1e-9)
            per, avg = [], []
            for s in systems:
                g = d[d.sys == s]
                rho = sps.spearmanr(g.h, g.j).statistic
                got = _one(paper, table="per_system", judge=j, dimension=dim, system=s, metric="spearman")["value"]
                assert got == pytest.approx(rho, abs=1e-9) if np.isfinite(rho) else np.isnan(got)
                trio = [rho, sps.pearsonr(g.h, g.j).statistic, sps.kendalltau(g.h, g.j).statistic]
                if np.all(np.isfinite(trio)):
                    per.append(rho)
                    avg.append(g.h.mean())
            meta = _one(paper, table="meta", judge=j, dimension=dim, metric="spearman")
            assert meta["value"] == pytest.approx(sps.spearmanr(per, avg).statistic, abs=1e-9)
            assert meta["n"] == len(per)
    assert _one(paper, table="meta", judge="gpt-4-0314/rts", dimension="coherence", metric="spearman")["value"] == \
        pytest.approx(-0.531469, abs=1e-6)
    assert _one(paper, table="meta", judge="gpt-3.5-turbo-0301/rts", dimension="relevance",
                metric="spearman")["value"] == pytest.approx(-0.559441, abs=1e-6)
    # calc_h2h_pairs.py: LLM points of model_1 over both orders / 2 vs the expert-mean winner, per system pair
    for dim, pinned in (("coherence", 8), ("relevance", 4)):
        d = h2h[h2h.dimension == dim]
        correct = 0
        for (m1, m2), g in d.groupby(["model_1", "model_2"]):
            llm = hum = 0.0
            for _, r in g.iterrows():
                c = r["resp"].strip()[0]
                win1 = (c == "A") != bool(r["toggle"]) if c in "AB" else None
                llm += 0.5 if win1 is None else float(win1)
            for _, r in g[~g["toggle"]].iterrows():
                s1, s2 = r["human_score_1"], r["human_score_2"]
                hum += 0.5 if s1 == s2 else float(s1 > s2)
            llm /= 2
            correct += (llm > 50 and hum > 50) or (llm == 50 and hum == 50) or (llm < 50 and hum < 50)
            got = _one(paper, table="h2h", dimension=dim, system=f"{m1}-{m2}", metric="llm_win_pct_model_1")
            assert got["value"] == pytest.approx(llm, abs=1e-9)
        row = _one(paper, table="h2h", dimension=dim, metric="correct_pairs")
        assert row["value"] == correct == pinned and row["n"] == 11


def test_paper_finding_meta_correlation_negative(raw):
    """Shen et al. (2023): LLM evaluators correlate less with humans on better systems -- the meta-correlation
    of gpt-3.5 rts (per-system Spearman vs the system's mean expert score) is negative on every dimension."""
    scores, ratings, _ = raw
    for dim in DIMS:
        d = pd.DataFrame({"h": expert_mean(scores, dim),
                          "j": judge_scores(ratings, "gpt-3.5-turbo-0301", "rts", dim), "sys": scores["model_id"]})
        per = d.groupby("sys").apply(lambda g: pd.Series({"rho": sps.spearmanr(g.h, g.j).statistic,
                                                          "avg": g.h.mean()}))
        assert sps.spearmanr(per.rho, per.avg).statistic < 0, dim


def test_unparseable_minus_one_convention(folder, tmp_path, raw):
    """--unparseable minus-one keeps the extractor's -1 (authors' scripts); the default leaves it out."""
    sys.path.insert(0, str(ROOT / "analyses"))
    import summeval_shen2023 as study

    scores, ratings, _ = raw
    rows = study.paper_rating_tables(folder, "coherence", "expert", "minus-one")
    got = [r for r in rows if r["table"] == "dataset" and r["judge"] == "llama-2-70b-chat-hf/rts"
           and r["metric"] == "spearman"][0]
    s = judge_scores(ratings, "llama-2-70b-chat-hf", "rts", "coherence", minus_one=True)
    assert (s == -1).sum() == 1
    h = expert_mean(scores, "coherence")
    assert got["n"] == 1200
    assert got["value"] == pytest.approx(sps.spearmanr(h, s.reindex(h.index)).statistic, abs=1e-9)
    clean = sps.spearmanr(h[s.reindex(h.index) >= 1], s.reindex(h.index)[s.reindex(h.index) >= 1]).statistic
    assert got["value"] != pytest.approx(clean, abs=1e-6)
