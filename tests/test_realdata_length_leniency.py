"""Length, leniency and system probes on real public data read from ../shared/realdata (never copied here).

- LLMBar (Zeng et al. 2024; MIT): LLMBar Natural + Adversarial (419 pairs), GPT-4 and ChatGPT with the
  Vanilla_NoRules prompt in both orders (``winner_swap_true`` is already mapped back to the original numbering,
  so the verdicts are in the item frame); lengths are whitespace tokens of output_1 / output_2.
- JudgeBench (Tan et al. 2025): the 350 GPT-4o response pairs, o1-mini (arena-hard prompt) and the Skywork
  Gemma-2-27B reward model; game 2 is in swapped shown order, so the verdicts are in the shown frame.
- TREC DL 2023 LLMJudge: three runs on the 0-3 relevance scale against the NIST label (ordinal).
- HANNA (Chhun et al.): coherence, LLM rating (prompt 1) against the mean of three human ratings (interval);
  11 story sources as systems.
- SummEval (Shen et al. 2023): GPT-4 reason-then-score coherence against the mean of three experts (interval);
  12 systems. Unparseable scores (-1) are excluded and counted, duplicate ids keep the last line (as the
  authors' scripts do).

Every pinned value is also recomputed here with pandas / scipy / statsmodels from the raw files.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from statsmodels.stats.contingency_tables import SquareTable

from metajudge.align import align
from metajudge.probes.length import length_probe
from metajudge.probes.leniency import leniency_probe
from metajudge.probes.system import system_probe
from metajudge.scales import Scale

B = 200


def _run(fn, table, **options):
    return fn(table, options=options, confidence_level=0.95, n_resamples=B, rng=np.random.default_rng(0))


def _row(res, metric, judge, slice_="all"):
    df = pd.DataFrame(res.rows)
    df = df[(df["metric"] == metric) & (df["judge"] == judge) & (df["slice"] == slice_)]
    assert len(df) == 1, df
    return df.iloc[0]


def _check(row, value, p=None):
    assert row["estimate"] == pytest.approx(value, abs=1e-6)
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"] or np.isnan(row["ci_low"])
    if p is not None:
        assert row["p_value"] == pytest.approx(p, rel=1e-3, abs=1e-300)


def _length_crosscheck(res, judge, rows, gold, usable_items=None):
    """rows: item_id, pick_a (bool, decisive judge rows, item frame); gold: item_id, human_a (bool), la, lb.

    The humans' rate is taken on every item with differing lengths and a usable judge verdict (a tie
    included): the item set must not depend on whether the judge was decisive."""
    g = gold.set_index("item_id")
    r = rows.join(g, on="item_id")
    jr = r[r["la"] != r["lb"]]
    judge_rate = float(((jr["pick_a"]) == (jr["la"] > jr["lb"])).mean())
    items = jr["item_id"].unique() if usable_items is None else \
        [i for i in pd.unique(pd.Series(usable_items)) if g.loc[i, "la"] != g.loc[i, "lb"]]
    gi = g.loc[items]
    human_rate = float((gi["human_a"] == (gi["la"] > gi["lb"])).mean())
    assert _row(res, "prefer_longer_rate", judge)["estimate"] == pytest.approx(judge_rate, abs=1e-12)
    hum = pd.DataFrame(res.rows).query("metric == 'prefer_longer_rate' and judge == 'humans' and reference == @judge")
    assert hum["estimate"].item() == pytest.approx(human_rate, abs=1e-12)
    assert _row(res, "prefer_longer_excess", judge)["estimate"] == pytest.approx(judge_rate - human_rate, abs=1e-12)
    # the GLM, refitted directly (equal lengths included: Δ = 0)
    X = sm.add_constant(np.column_stack([np.log(r["la"]) - np.log(r["lb"]), np.where(r["human_a"], 1.0, -1.0)]))
    fit = sm.GLM(r["pick_a"].astype(float).to_numpy(), X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(r["item_id"])[0]})
    coef = _row(res, "length_coef", judge)
    assert coef["estimate"] == pytest.approx(fit.params[1], rel=1e-7)
    assert coef["p_value"] == pytest.approx(fit.pvalues[1], rel=1e-5)
    X0 = X.copy()
    X0[:, 1] = 0
    assert _row(res, "length_controlled_win_rate", judge)["estimate"] == pytest.approx(
        fit.predict(X0).mean(), rel=1e-7)
    return judge_rate, human_rate, float(fit.params[1])


# ---------------------------------------------------------------------------------------------- LLMBar
def _llmbar(root):
    rows = []
    for f in sorted((root / "llmbar" / "datasets" / "LLMBar").rglob("dataset.json")):
        subset = str(f.parent.relative_to(root / "llmbar" / "datasets")).replace("\\", "/")
        for idx, d in enumerate(json.loads(f.read_text())):
            rows.append({"item_id": f"{subset}:{idx}", "rater": "gold", "label": {1: "A", 2: "B"}[d["label"]],
                         "la": len(d["output_1"].split()), "lb": len(d["output_2"].split())})
    gold = pd.DataFrame(rows)
    j = pd.read_parquet(root / "llmbar" / "judgments.parquet")
    j = j[j["subset"].str.startswith("LLMBar/") & (j["strategy"] == "Vanilla_NoRules")]
    judges, raw = {}, {}
    for ev in ("GPT-4", "ChatGPT"):
        e = j[j["evaluator"] == ev]
        ids = (e["subset"] + ":" + e["idx"].astype(str)).to_numpy()
        judges[ev] = pd.DataFrame({"item_id": np.concatenate([ids, ids]), "order": ["AB"] * len(e) + ["BA"] * len(e),
                                   "label": np.concatenate([e["winner_swap_false"], e["winner_swap_true"]])})
        raw[ev] = judges[ev]
    t = align(gold.rename(columns={"la": "length_a", "lb": "length_b"}), judges, Scale("pairwise", ties=False),
              order_frame={k: "item" for k in judges})
    return t, gold, raw


LLMBAR_PINS = {  # judge: (prefer_longer_rate, human rate, excess, length_coef)
    "GPT-4": (0.448878, 0.271820, 0.177057, 0.334702),
    "ChatGPT": (0.653367, 0.271820, 0.381546, 0.432852),
}


def test_llmbar_length(realdata):
    t, gold, raw = _llmbar(realdata)
    res = _run(length_probe, t)
    g = pd.DataFrame({"item_id": gold["item_id"], "human_a": gold["label"] == "A", "la": gold["la"],
                      "lb": gold["lb"]})
    for judge, (rate, hrate, excess, coef) in LLMBAR_PINS.items():
        rows = raw[judge].dropna(subset=["label"])
        rows = pd.DataFrame({"item_id": rows["item_id"], "pick_a": rows["label"] == "1"})
        jr, hr, b1 = _length_crosscheck(res, judge, rows, g)
        assert (jr, hr, jr - hr, b1) == pytest.approx((rate, hrate, excess, coef), abs=1e-6)
        _check(_row(res, "prefer_longer_excess", judge), excess)
        assert _row(res, "prefer_longer_excess", judge)["p_value"] < 1e-10   # both judges favour length more than gold
        assert _row(res, "length_coef", judge)["ci_low"] > 0
        assert res.counts[judge]["paired_items"] == 401 and res.counts[judge]["equal_length_items"] == 18
    # the gold labels of the (mostly adversarial) LLMBar pairs prefer the SHORTER output: 27% longer
    assert hr < 0.3


# ---------------------------------------------------------------------------------------------- JudgeBench
JB_SCALE = Scale("pairwise", synonyms={"A>B": "A", "B>A": "B", "A=B": "tie"})
JB_JUDGES = ("o1-mini-2024-09-12", "Skywork_Skywork-Reward-Gemma-2-27B")


def _judgebench(root):
    data = pd.read_json(root / "judgebench" / "data" / "dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl",
                        lines=True)
    gold = pd.DataFrame({"item_id": data["pair_id"], "rater": "gold", "label": data["label"],
                         "text_a": data["response_A"], "text_b": data["response_B"]})
    jb = pd.read_json(root / "judgebench" / "judgments.jsonl", lines=True)
    judges = {}
    for m in JB_JUDGES:
        e = jb[jb["judge_model"] == m]
        judges[m] = pd.DataFrame({"item_id": np.repeat(e["pair_id"].to_numpy(), 2), "order": ["AB", "BA"] * len(e),
                                  "label": [g[k]["decision"] for g in e["games"] for k in (0, 1)]})
    return align(gold, judges, JB_SCALE, order_frame={k: "shown" for k in judges}), data, judges


JB_PINS = {  # judge: (prefer_longer_rate, human rate, length_coef, length_coef p)
    "o1-mini-2024-09-12": (0.494624, 0.487032, 0.245054, 0.513398),
    "Skywork_Skywork-Reward-Gemma-2-27B": (0.462536, 0.487032, -0.811381, 0.047670),
}


def test_judgebench_length_from_text(realdata):
    t, data, judges = _judgebench(realdata)
    res = _run(length_probe, t, feature="tokens")      # lengths computed from text_a / text_b
    assert "whitespace tokens of text_a, text_b" in res.description
    g = pd.DataFrame({"item_id": data["pair_id"], "human_a": data["label"] == "A>B",
                      "la": data["response_A"].str.split().str.len(), "lb": data["response_B"].str.split().str.len()})
    for judge, (rate, hrate, coef, p) in JB_PINS.items():
        j = judges[judge]
        # game 2 shows B first: its "A>B" means the original B; ties and missing decisions are not decisive
        dec = j["label"].map({"A>B": "first", "B>A": "second"})
        pick_a = np.where(j["order"] == "AB", dec == "first", dec == "second")
        rows = pd.DataFrame({"item_id": j["item_id"], "pick_a": pick_a})[dec.notna().to_numpy()]
        jr, hr, b1 = _length_crosscheck(res, judge, rows, g, usable_items=j.loc[j["label"].notna(), "item_id"])
        assert (jr, hr, b1) == pytest.approx((rate, hrate, coef), abs=1e-6)
        assert _row(res, "length_coef", judge)["p_value"] == pytest.approx(p, abs=1e-6)
        # no length bias beyond the (objective) labels for either judge at the 1% level
        assert _row(res, "prefer_longer_excess", judge)["p_value"] > 0.01
    assert res.counts["o1-mini-2024-09-12"]["tie_rows"] == 44
    fr = res.frames["prefer_longer"]
    assert set(fr["rater"]) == {"humans", *JB_JUDGES}


# ---------------------------------------------------------------------------------------------- TREC
TREC_PINS = {  # run: (items, shift, Stuart–Maxwell χ²)
    "Olz-gpt4o": (4423, -0.121411, 128.031699),
    "RMITIR-llama70B": (4421, 0.170550, 893.783256),
    "h2oloo-zeroshot1": (4423, -0.184716, 167.014708),
}


def test_trec_ordinal_leniency(realdata):
    raw = pd.read_csv(realdata / "trec_llmjudge" / "llm_vs_human_labels_wide.csv")
    ids = raw["qid"].astype(str) + ":" + raw["docid"].astype(str)
    gold = pd.DataFrame({"item_id": ids, "rater": "nist", "label": raw["human"]})
    judges = {r: pd.DataFrame({"item_id": ids, "label": raw[r]}) for r in TREC_PINS}
    t = align(gold, judges, Scale("ordinal", levels=[0, 1, 2, 3]))
    res = _run(leniency_probe, t)
    for run, (n, shift, chi2) in TREC_PINS.items():
        ok = raw[run].isin([0, 1, 2, 3])                 # RMITIR-llama70B has two labels "5": out of scale
        d = (raw.loc[ok, run] - raw.loc[ok, "human"]).to_numpy(float)
        sh = _row(res, "leniency_shift", run)
        assert sh["n"] == ok.sum() == n
        assert sh["estimate"] == pytest.approx(d.mean(), abs=1e-12)
        _check(sh, shift, p=sps.wilcoxon(d).pvalue)
        sd = d.std(ddof=1)
        assert _row(res, "bland_altman_lower", run)["estimate"] == pytest.approx(d.mean() - 1.96 * sd, abs=1e-12)
        assert _row(res, "bland_altman_upper", run)["estimate"] == pytest.approx(d.mean() + 1.96 * sd, abs=1e-12)
        tab = pd.crosstab(raw.loc[ok, "human"], raw.loc[ok, run]).reindex(
            index=range(4), columns=range(4), fill_value=0).to_numpy(float)
        b = SquareTable(tab, shift_zeros=False).homogeneity()
        smr = _row(res, "stuart_maxwell", run)
        assert smr["estimate"] == pytest.approx(b.statistic, rel=1e-10)
        _check(smr, chi2, p=sps.chi2.sf(b.statistic, b.df))
        assert smr["p_value"] > 0          # RMITIR: p ≈ 1e-193, where 1 − cdf gives 0
    # the Llama-70B run is lenient, the two others strict
    assert _row(res, "leniency_shift", "RMITIR-llama70B")["ci_low"] > 0
    assert _row(res, "leniency_shift", "Olz-gpt4o")["ci_high"] < 0


# ---------------------------------------------------------------------------------------------- HANNA
HANNA_PINS = {  # judge: (items, shift, BA lower, BA upper)
    "ChatGPT": (1056, -1.679135, -3.268404, -0.089866),
    "Llama-13B": (1051, -0.654742, -2.487928, 1.178445),
}


def test_hanna_interval_leniency_and_systems(realdata):
    h = pd.read_parquet(realdata / "hanna" / "hanna_long.parquet")
    h = h[h["criterion"] == "coherence"]
    hum = h[h["rater_type"] == "human"]
    gold = pd.DataFrame({"item_id": hum["story_id"].astype(str), "rater": hum["rater"], "label": hum["score"],
                         "system": hum["system"]})
    llm = h[(h["rater_type"] == "llm") & (h["prompt_id"] == 1) & h["rater"].isin(list(HANNA_PINS))]
    judges = {name: pd.DataFrame({"item_id": g["story_id"].astype(str), "label": g["score"]})
              for name, g in llm.groupby("rater")}
    t = align(gold, judges, Scale("interval", minimum=1, maximum=5))
    res = _run(leniency_probe, t)
    sysres = _run(system_probe, t)
    hmean = hum.groupby("story_id")["score"].mean()
    story_sys = hum.groupby("story_id")["system"].first()
    for name, (n, shift, lo, hi) in HANNA_PINS.items():
        s = llm[llm["rater"] == name].set_index("story_id")["score"]
        s = s[(s >= 1) & (s <= 5)]
        d = (s - hmean.reindex(s.index)).dropna().to_numpy()
        sh = _row(res, "leniency_shift", name)
        assert sh["n"] == len(d) == n
        assert sh["estimate"] == pytest.approx(d.mean(), abs=1e-12)
        _check(sh, shift, p=sps.ttest_1samp(d, 0).pvalue)
        _check(_row(res, "bland_altman_lower", name), lo)
        _check(_row(res, "bland_altman_upper", name), hi)
        assert lo == pytest.approx(d.mean() - 1.96 * d.std(ddof=1), abs=1e-6)
        # system level: per-source means of the LLM and of the human mean, on the same stories
        both = pd.DataFrame({"j": s, "h": hmean.reindex(s.index), "sys": story_sys.reindex(s.index)}).dropna()
        per = both.groupby("sys")[["j", "h"]].mean()
        rho = _row(sysres, "system_rank_spearman", name)
        tau = _row(sysres, "system_rank_kendall", name)
        assert rho["estimate"] == pytest.approx(sps.spearmanr(per["j"], per["h"]).statistic, abs=1e-12)
        assert tau["estimate"] == pytest.approx(sps.kendalltau(per["j"], per["h"]).statistic, abs=1e-12)
        assert tau["ci_low"] <= tau["estimate"] <= tau["ci_high"]
        dev = _row(sysres, "system_deviation", name, slice_="system=Human")
        assert dev["estimate"] == pytest.approx(abs(per.loc["Human", "j"] - per.loc["Human", "h"]), abs=1e-12)
    # both LLMs are harsher than the crowd on coherence, yet rank the 11 sources much as the crowd does
    assert _row(sysres, "system_rank_spearman", "ChatGPT")["estimate"] == pytest.approx(0.9, abs=1e-12)
    assert _row(sysres, "system_rank_kendall", "ChatGPT")["estimate"] == pytest.approx(0.781818, abs=1e-6)


# ---------------------------------------------------------------------------------------------- SummEval
def test_summeval_gpt4_leniency_and_systems(realdata):
    ann = pd.read_json(realdata / "summeval_llm_shen2023" / "annotations.jsonl", lines=True)
    gold = pd.DataFrame([{"item_id": f"{r['id']}:{r['model_id']}", "rater": f"expert{k + 1}",
                          "label": e["coherence"], "system": r["model_id"]}
                         for _, r in ann.iterrows() for k, e in enumerate(r["expert_annotations"])])
    llm = pd.read_parquet(realdata / "summeval_llm_shen2023" / "llm_ratings.parquet")
    llm = llm[(llm["evaluator"] == "gpt-4-0314") & (llm["method"] == "rts") & (llm["dimension"] == "coherence")]
    llm = llm.sort_values("row_in_file").drop_duplicates(["id", "model_id"], keep="last")
    judge = pd.DataFrame({"item_id": (llm["id"] + ":" + llm["model_id"]).to_numpy(),
                          "label": llm["score"].where(llm["score"] >= 1).to_numpy(),
                          "parse_ok": (llm["score"] >= 1).to_numpy()})
    t = align(gold, {"gpt-4": judge}, Scale("interval", minimum=1, maximum=5))
    res = _run(leniency_probe, t)
    sysres = _run(system_probe, t)
    expert = gold.groupby("item_id")["label"].mean()
    j = judge.dropna(subset=["label"]).set_index("item_id")["label"]
    d = (j - expert.reindex(j.index)).to_numpy()
    sh = _row(res, "leniency_shift", "gpt-4")
    assert sh["n"] == len(d) == 1200
    assert sh["estimate"] == pytest.approx(d.mean(), abs=1e-12)
    _check(sh, 1.001528, p=sps.ttest_1samp(d, 0).pvalue)
    assert sh["ci_low"] > 0.9                              # GPT-4 is about one point more lenient
    _check(_row(res, "bland_altman_upper", "gpt-4"), 3.338966)
    per = pd.DataFrame({"j": j, "h": expert.reindex(j.index),
                        "sys": gold.groupby("item_id")["system"].first().reindex(j.index)}).groupby("sys").mean()
    rho = _row(sysres, "system_rank_spearman", "gpt-4")
    tau = _row(sysres, "system_rank_kendall", "gpt-4")
    _check(rho, 0.783217, p=sps.spearmanr(per["j"], per["h"]).pvalue)     # 12 systems: t approximation
    _check(tau, 0.696970, p=sps.kendalltau(per["j"], per["h"]).pvalue)
    assert rho["estimate"] == pytest.approx(sps.spearmanr(per["j"], per["h"]).statistic, abs=1e-12)
    assert tau["estimate"] == pytest.approx(sps.kendalltau(per["j"], per["h"]).statistic, abs=1e-12)
    fr = sysres.frames["ranking"].set_index("system")
    assert fr["judge_score"].to_dict() == pytest.approx(per["j"].to_dict(), abs=1e-12)
    # M20 is the only system GPT-4 scores below the experts
    assert (fr["deviation"] < 0).sum() == 1 and fr.loc["M20", "deviation"] < 0
