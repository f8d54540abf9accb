"""Metrics on public human-label / LLM-judge data (read-only, ../shared/realdata; see each SOURCE.md).

Every number is compared with the reference library on the same rows; the sanity ranges are loose published
facts about the data sets, not values copied from metajudge.
"""

from __future__ import annotations

import json
import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn.metrics import cohen_kappa_score

import metajudge as mj

SCALE03 = [0, 1, 2, 3]


# ============================================================================================ TREC LLMJudge
@pytest.fixture(scope="module")
def trec(realdata):
    path = realdata / "trec_llmjudge" / "llm_vs_human_labels_wide.csv"
    if not path.exists():
        pytest.skip(f"{path} missing")
    return pd.read_csv(path)


def trec_runs(df):
    return [c for c in df.columns if c not in ("qid", "docid", "human")]


def test_trec_shape_and_out_of_scale_labels(trec):
    runs = trec_runs(trec)
    assert len(trec) == 4423 and len(runs) == 33
    assert set(trec["human"].unique()) == set(SCALE03)
    # a few LLM labels fall outside the task's 0-3 scale; they are counted, not silently used
    off = {r: int((~trec[r].isin(SCALE03)).sum()) for r in runs}
    off = {r: v for r, v in off.items() if v}
    assert off == {"RMITIR-llama70B": 2, "h2oloo-zeroshot2": 1}


def test_trec_out_of_scale_label_raises_with_declared_levels(trec):
    with pytest.raises(mj.MetricInputError, match="10"):
        mj.cohen_kappa(trec["human"], trec["h2oloo-zeroshot2"], levels=SCALE03)
    with pytest.raises(mj.MetricInputError, match="5"):
        mj.cohen_kappa(trec["human"], trec["RMITIR-llama70B"], levels=SCALE03, weights="quadratic")


def test_trec_kappa_and_alpha_every_run(trec):
    kappas = {}
    for run in trec_runs(trec):
        ok = trec[run].isin(SCALE03)
        h = trec.loc[ok, "human"].to_numpy()
        j = trec.loc[ok, run].to_numpy()
        for weights in (None, "quadratic"):
            e = mj.cohen_kappa(h, j, weights=weights, levels=SCALE03, n_resamples=0)
            sk = cohen_kappa_score(h, j, weights=weights, labels=SCALE03)
            assert e.estimate == pytest.approx(sk, abs=1e-12), (run, weights)
            assert e.n == int(ok.sum())
        kappas[run] = mj.cohen_kappa(h, j, levels=SCALE03, n_resamples=0).estimate
        a = mj.krippendorff_alpha(np.column_stack([h, j]), level="ordinal", levels=SCALE03, n_resamples=0)
        ref = krippendorff.alpha(reliability_data=np.vstack([h, j]).astype(float), level_of_measurement="ordinal",
                                 value_domain=SCALE03)
        assert a.estimate == pytest.approx(ref, abs=1e-9), run
    # LLMJudge: LLM labelers agree with NIST assessors fairly to moderately, never near-perfectly
    assert all(-0.2 < k < 0.8 for k in kappas.values()), kappas
    assert 0.1 < np.median(list(kappas.values())) < 0.5


def test_trec_one_run_with_interval(trec):
    e = mj.cohen_kappa(trec["human"], trec["Olz-gpt4o"], weights="quadratic", levels=SCALE03, rng=0)
    assert e.method == "bootstrap-multinomial" and e.n == 4423
    assert e.ci_low < e.estimate < e.ci_high
    assert e.ci_high - e.ci_low < 0.1  # n = 4,423: a tight interval


# ============================================================================================ HANNA
@pytest.fixture(scope="module")
def hanna(realdata):
    path = realdata / "hanna" / "hanna_long.parquet"
    if not path.exists():
        pytest.skip(f"{path} missing")
    df = pd.read_parquet(path)
    return df[df["rater_type"] == "human"]


HANNA_CRITERIA = ["relevance", "coherence", "empathy", "surprise", "engagement", "complexity"]


@pytest.mark.parametrize("criterion", HANNA_CRITERIA)
def test_hanna_human_alpha_per_criterion(hanna, criterion):
    d = hanna[hanna["criterion"] == criterion]
    m = d.pivot(index="story_id", columns="rater", values="score")
    assert m.shape == (1056, 3)
    for level in ("interval", "ordinal"):
        e = mj.krippendorff_alpha(m, level=level, levels=[1, 2, 3, 4, 5], n_resamples=0)
        ref = krippendorff.alpha(reliability_data=m.to_numpy().T, level_of_measurement=level,
                                 value_domain=[1, 2, 3, 4, 5])
        assert e.estimate == pytest.approx(ref, abs=1e-9), level
        assert e.n == 1056
        # mTurk raters on HANNA agree poorly: low α (coherence is slightly below 0 in this data)
        assert -0.1 < e.estimate < 0.6, (criterion, level, e.estimate)


def test_hanna_alpha_low_to_moderate_overall(hanna):
    vals = []
    for criterion in HANNA_CRITERIA:
        m = hanna[hanna["criterion"] == criterion].pivot(index="story_id", columns="rater", values="score")
        vals.append(mj.krippendorff_alpha(m, level="interval", n_resamples=0).estimate)
    assert 0.0 < float(np.mean(vals)) < 0.4
    assert max(vals) < 0.6


def test_hanna_alpha_interval_has_ci(hanna):
    m = hanna[hanna["criterion"] == "complexity"].pivot(index="story_id", columns="rater", values="score")
    e = mj.krippendorff_alpha(m, level="interval", rng=1)
    assert e.method == "bootstrap-cluster"
    assert e.ci_low < e.estimate < e.ci_high


# ============================================================================================ SummEval (Shen et al. 2023)
DIMENSIONS = ["coherence", "consistency", "fluency", "relevance"]


@pytest.fixture(scope="module")
def summeval(realdata):
    folder = realdata / "summeval_llm_shen2023"
    if not (folder / "annotations.jsonl").exists() or not (folder / "llm_ratings.parquet").exists():
        pytest.skip(f"{folder} missing")
    rows = []
    with open(folder / "annotations.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            for dim in DIMENSIONS:
                vals = [a[dim] for a in rec["expert_annotations"]]
                rows.append({"id": rec["id"], "model_id": rec["model_id"], "dimension": dim,
                             "expert_mean": float(np.mean(vals)), "n_experts": len(vals)})
    experts = pd.DataFrame(rows)
    ratings = pd.read_parquet(folder / "llm_ratings.parquet")
    return experts, ratings


def judge_frame(summeval, evaluator, dimension):
    """Expert mean joined with one judge's rts scores; unparseable scores (-1 or null) become NaN, counted."""
    experts, ratings = summeval
    r = ratings[(ratings.evaluator == evaluator) & (ratings.method == "rts") & (ratings.dimension == dimension)]
    # a few source files repeat an id; the authors' scripts keep the last line
    r = r.sort_values("row_in_file").drop_duplicates(["id", "model_id"], keep="last")
    df = experts[experts.dimension == dimension].merge(r[["id", "model_id", "score"]], on=["id", "model_id"],
                                                       how="left", validate="one_to_one")
    unparseable = df["score"].isna() | (df["score"] == -1)
    df["judge"] = df["score"].where(~unparseable)
    return df, int(unparseable.sum())


def reference_levels(df, kind):
    """The straightforward computation: scipy on the raw rows, pandas groupby for groups and systems."""
    def f(x, y):
        if kind == "spearman":
            return sps.spearmanr(x, y).statistic
        return sps.kendalltau(x, y).statistic

    d = df.dropna(subset=["judge"])
    dataset = f(d.expert_mean, d.judge)
    per_group, skipped = [], 0
    for _, g in d.groupby("id"):
        if len(g) < 2 or g.expert_mean.nunique() < 2 or g.judge.nunique() < 2:
            skipped += 1
            continue
        per_group.append(f(g.expert_mean, g.judge))
    means = d.groupby("model_id")[["expert_mean", "judge"]].mean()
    return dataset, float(np.mean(per_group)), len(per_group), skipped, f(means.expert_mean, means.judge)


# unparseable rts scores per (evaluator, dimension), counted from the raw parquet when this test was written
EXPECTED_UNPARSEABLE = {("gpt-4-0314", d): 0 for d in DIMENSIONS}
EXPECTED_UNPARSEABLE[("llama-2-70b-chat-hf", "coherence")] = 1


@pytest.mark.parametrize("kind", ["spearman", "kendall_tau"])
@pytest.mark.parametrize("evaluator,dimension", list(EXPECTED_UNPARSEABLE))
def test_summeval_correlation_levels(summeval, evaluator, dimension, kind):
    df, n_bad = judge_frame(summeval, evaluator, dimension)
    assert len(df) == 1200 and (df.n_experts == 3).all()
    assert n_bad == EXPECTED_UNPARSEABLE[(evaluator, dimension)]
    d = df.dropna(subset=["judge"])
    assert len(d) == 1200 - n_bad
    out = mj.correlation_levels(d.expert_mean, d.judge, kind=kind, groups=d.id, systems=d.model_id, n_resamples=0)
    dataset, group, n_groups, skipped, system = reference_levels(df, kind)
    assert out["dataset"].estimate == pytest.approx(dataset, abs=1e-12)
    assert out["dataset"].n == len(d)  # dataset level: one correlation over all items, item bootstrap
    assert out["group"].estimate == pytest.approx(group, abs=1e-12)
    assert out["group"].n == n_groups
    if skipped:
        assert f"{skipped} of 100 groups skipped" in out["group"].note
    assert out["system"].estimate == pytest.approx(system, abs=1e-12)
    assert out["system"].n == 12
    # passing the unparseable scores as NaN (instead of dropping first) gives the same numbers
    if n_bad:
        with_nan = mj.correlation_levels(df.expert_mean, df.judge, kind=kind, groups=df.id, systems=df.model_id,
                                         n_resamples=0)
        for lvl in ("dataset", "group", "system"):
            assert with_nan[lvl].estimate == pytest.approx(out[lvl].estimate, abs=1e-12)
        assert f"{n_bad} pair" in with_nan["dataset"].note


def test_summeval_imputing_unparseable_as_minus_one_changes_result(summeval):
    # trap 4: "-1" kept as a score is not the same as leaving the item out
    df, n_bad = judge_frame(summeval, "llama-2-70b-chat-hf", "coherence")
    assert n_bad == 1
    d = df.dropna(subset=["judge"])
    clean = mj.spearman(d.expert_mean, d.judge, n_resamples=0).estimate
    imputed = mj.spearman(df.expert_mean, df.judge.fillna(-1), n_resamples=0).estimate
    assert clean != imputed


def test_summeval_gpt4_dataset_level_range(summeval):
    # Shen et al. 2023: GPT-4 rts correlates moderately with experts at summary level; sanity band only
    for dim in DIMENSIONS:
        df, _ = judge_frame(summeval, "gpt-4-0314", dim)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mj.UndefinedMetricWarning)
            e = mj.correlation_levels(df.expert_mean, df.judge, kind="spearman", groups=df.id,
                                      systems=df.model_id, n_resamples=0)
        assert 0.1 < e["dataset"].estimate < 0.8, dim
        assert -1 <= e["system"].estimate <= 1


def test_summeval_levels_with_intervals(summeval):
    df, _ = judge_frame(summeval, "gpt-4-0314", "relevance")
    out = mj.correlation_levels(df.expert_mean, df.judge, kind="spearman", groups=df.id, systems=df.model_id,
                                n_resamples=200, rng=0)
    for lvl in ("dataset", "group", "system"):
        e = out[lvl]
        assert e.confidence_level == 0.95 and e.method != "none", lvl
        assert e.ci_low <= e.estimate <= e.ci_high, lvl
