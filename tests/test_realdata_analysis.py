"""End-to-end analyses on real public data read from ../shared/realdata (never copied into the repository).

- TREC DL 2023 LLMJudge: a config with a composite item id (qid, docid), judged runs vs NIST labels.
- SummEval (Shen et al. 2023): GPT-4 reason-then-score vs the expert mean at dataset, group (article) and
  system level; unparseable scores counted, not imputed.
- HANNA: three human ratings per story: interval α and the leave-one-out human ceiling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import metajudge as mj
from metajudge.align import align
from metajudge.analysis import analyze
from metajudge.scales import Scale


def test_trec_config_with_composite_item_id(realdata, tmp_path):
    from sklearn.metrics import cohen_kappa_score

    csv = realdata / "trec_llmjudge" / "llm_vs_human_labels_wide.csv"
    cfg = tmp_path / "trec.yaml"
    cfg.write_text(f"""
title: TREC DL 2023 LLMJudge
scale: {{kind: ordinal, levels: [0, 1, 2, 3]}}
gold:
  path: {csv}
  layout: wide
  raters: [human]
  columns: {{item: [qid, docid], group: qid}}
judges:
  - name: Olz-gpt4o
    path: {csv}
    columns: {{item: [qid, docid], label: Olz-gpt4o}}
  - name: RMITIR-llama70B
    path: {csv}
    columns: {{item: [qid, docid], label: RMITIR-llama70B}}
bootstrap: {{n_resamples: 100, seed: 0}}
""")
    a = mj.run_config(cfg)
    raw = pd.read_csv(csv)
    # docid alone is not unique across queries: the composite id keeps all 4,423 pairs
    assert raw["docid"].nunique() < len(raw)
    cov = a.coverage.set_index("source")
    assert cov.loc["gold", "items"] == len(raw) == cov.loc["Olz-gpt4o", "matched_items"]
    for run in ("Olz-gpt4o", "RMITIR-llama70B"):
        for w, m in [(None, "cohen_kappa"), ("quadratic", "cohen_kappa_quadratic")]:
            exp = cohen_kappa_score(raw["human"], raw[run], weights=w, labels=[0, 1, 2, 3])
            got = a.agreement.query("judge == @run and metric == @m and slice == 'all'")
            assert got["estimate"].item() == pytest.approx(exp, abs=1e-12)
            assert got["ci_low"].item() < exp < got["ci_high"].item()
    # group level = per query, then the mean
    per_q = [sps.kendalltau(g["human"], g["Olz-gpt4o"]).statistic for _, g in raw.groupby("qid")]
    per_q = [v for v in per_q if np.isfinite(v)]
    got = a.agreement.query("judge == 'Olz-gpt4o' and metric == 'kendall_tau' and level == 'group'")
    assert got["estimate"].item() == pytest.approx(np.mean(per_q), abs=1e-12)


def _summeval(realdata, dimension: str, evaluator: str, method: str):
    ann = pd.read_json(realdata / "summeval_llm_shen2023" / "annotations.jsonl", lines=True)
    gold = []
    for _, r in ann.iterrows():
        for k, e in enumerate(r["expert_annotations"]):
            gold.append({"item_id": f"{r['id']}:{r['model_id']}", "rater": f"expert{k + 1}",
                         "label": e[dimension], "group": r["id"], "system": r["model_id"]})
    gold = pd.DataFrame(gold)
    llm = pd.read_parquet(realdata / "summeval_llm_shen2023" / "llm_ratings.parquet")
    llm = llm[(llm["evaluator"] == evaluator) & (llm["method"] == method) & (llm["dimension"] == dimension)]
    llm = llm.sort_values("row_in_file")
    judge = pd.DataFrame({
        "item_id": (llm["id"] + ":" + llm["model_id"]).to_numpy(),
        "label": llm["score"].where(llm["score"] >= 1).to_numpy(),   # -1 / null mean "could not parse"
        "raw": llm["resp"].to_numpy(),
        "parse_ok": (llm["score"] >= 1).to_numpy(),
    })
    return gold, judge


def test_summeval_gpt4_three_correlation_levels(realdata):
    gold, judge = _summeval(realdata, "coherence", "gpt-4-0314", "rts")
    t = align(gold, {"gpt-4": judge}, Scale("interval", minimum=1, maximum=5))
    n_bad = int((~judge["parse_ok"]).sum())
    cov = t.coverage.set_index("source")
    assert cov.loc["gpt-4", "unparseable"] == n_bad  # counted, never imputed as 0 or -1
    a = analyze(t, n_resamples=0)
    # the straightforward computation on the same rows (first row per item, unparseable left out)
    j = judge[judge["parse_ok"]].drop_duplicates("item_id", keep="first").set_index("item_id")["label"]
    ref = gold.groupby("item_id")["label"].mean()
    attrs = gold.drop_duplicates("item_id").set_index("item_id")
    df = pd.DataFrame({"h": ref, "j": j}).dropna().join(attrs[["group", "system"]])
    for kind, fn in [("pearson", sps.pearsonr), ("spearman", sps.spearmanr), ("kendall_tau", sps.kendalltau)]:
        got = a.agreement.query("metric == @kind").set_index("level")["estimate"]
        assert got["dataset"] == pytest.approx(fn(df["h"], df["j"]).statistic, abs=1e-12)
        per = [fn(g["h"], g["j"]).statistic for _, g in df.groupby("group")
               if g["h"].nunique() > 1 and g["j"].nunique() > 1]
        assert got["group"] == pytest.approx(np.mean(per), abs=1e-12)
        sysm = df.groupby("system")[["h", "j"]].mean()
        assert got["system"] == pytest.approx(fn(sysm["h"], sysm["j"]).statistic, abs=1e-12)
    # published finding (Shen et al. 2023): GPT-4 correlates moderately with experts at summary level
    assert 0.2 < a.agreement.query("metric == 'spearman' and level == 'dataset'")["estimate"].item() < 0.8


def test_hanna_human_reliability_and_ceiling(realdata):
    krippendorff = pytest.importorskip("krippendorff")
    h = pd.read_parquet(realdata / "hanna" / "hanna_long.parquet")
    crit = h[h["criterion"] == "coherence"]
    hum = crit[crit["rater_type"] == "human"]
    gold = pd.DataFrame({"item_id": hum["story_id"].astype(str), "rater": hum["rater"], "label": hum["score"],
                         "system": hum["system"]})
    llm = crit[(crit["rater"] == "Beluga-13B") & (crit["prompt_id"] == 1)]
    judge = pd.DataFrame({"item_id": llm["story_id"].astype(str), "label": llm["score"]})
    t = align(gold, {"beluga": judge}, Scale("interval", minimum=1, maximum=5))
    a = analyze(t, n_resamples=100)
    wide = gold.pivot(index="item_id", columns="rater", values="label").to_numpy(dtype=float)
    exp = krippendorff.alpha(reliability_data=wide.T, level_of_measurement="interval")
    got = a.ceiling.query("judge == 'humans' and metric == 'krippendorff_alpha_interval'")
    assert got["estimate"].item() == pytest.approx(exp, abs=1e-9)
    assert -0.1 < exp < 0.6  # crowd ratings of story coherence barely agree (Chhun et al. 2022)
    # leave-one-slot-out ceiling: each slot vs the mean of the other two, Pearson, averaged
    w = gold.pivot(index="item_id", columns="rater", values="label")
    exp_ceiling = np.mean([sps.pearsonr(w[c], w.drop(columns=c).mean(axis=1)).statistic for c in w.columns])
    ceil = a.ceiling.query("judge == 'human_ceiling' and metric == 'pearson'")["estimate"].item()
    assert ceil == pytest.approx(exp_ceiling, abs=1e-12)
    assert not a.ceiling.query("judge == 'beluga' and metric == 'pearson'").empty
