"""Self-preference on real data: CoBBLEr (Koo et al. 2024; ../shared/realdata/cobbler, see its SOURCE.md).

50 instructions, 15 systems' answers to each, ranked by 6 annotators (``annot_k.json``: system -> rank score
0..14, higher = preferred) and by 16 LLM evaluators (``nC2_preferences_<evaluator>.json``: system -> number of
pairwise wins among the 105 pairs, ties possible). 15 evaluators are also ranked systems, so each evaluator's
rank of its own answer can be set against the annotators' consensus rank (CoBBLEr's "egocentric" bias).

The probe's numbers are cross-checked by an independent pandas computation (``DataFrame.rank``), and pinned.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metajudge.probes.selfpref import MIN_PEER_SHARE, self_rank_bias

HUMANS = [f"annot_{k}" for k in range(1, 7)]

#: self_rank_difference per evaluator (places out of 15; > 0: the evaluator ranks its own system higher than
#: the annotators' consensus does), and the number of instructions with an informative ranking.
PINNED = {
    "alpaca": (7.16, 50), "baize": (-10.59, 50), "chatgpt": (0.47, 50), "cohere": (-0.10, 50),
    "dolly": (-3.5, 1), "falcon": (-0.40, 50), "gpt4": (2.92, 50), "instructgpt": (-2.30, 50),
    "koala": (0.02, 50), "llama": (0.9166666666666666, 48), "mpt": (0.85, 50), "openassist": (-0.25, 50),
    "redpajama": (-0.61, 50), "vicuna": (-0.17, 50), "wizardlm": (-6.70, 50),
}


@pytest.fixture(scope="module")
def cobbler(realdata: Path) -> pd.DataFrame:
    root = realdata / "cobbler"
    rows = []
    for h in HUMANS:
        for p, d in enumerate(json.loads((root / "human_annotations" / f"{h}.json").read_text(encoding="utf-8"))):
            rows += [(p, s, h, float(v)) for s, v in d.items()]
    for f in sorted((root / "model_annotations").glob("nC2_preferences_*.json")):
        e = f.stem[len("nC2_preferences_"):]
        for p, d in enumerate(json.loads(f.read_text(encoding="utf-8"))):
            rows += [(p, s, e, float(v)) for s, v in d.items()]
    return pd.DataFrame(rows, columns=["prompt", "system", "rater", "score"])


@pytest.fixture(scope="module")
def result(cobbler: pd.DataFrame):
    evaluators = sorted(set(cobbler["rater"]) - set(HUMANS))
    return self_rank_bias(cobbler, humans=HUMANS, families={e: e for e in evaluators}, n_resamples=2000, rng=0)


def _rows(result) -> pd.DataFrame:
    return pd.DataFrame(result.rows).set_index(["judge", "metric"])


def _wide(cobbler: pd.DataFrame, rater: str, systems: list[str]) -> pd.DataFrame:
    return cobbler[cobbler["rater"] == rater].pivot(index="prompt", columns="system", values="score")[systems]


def _consensus(cobbler: pd.DataFrame, systems: list[str]) -> pd.DataFrame:
    h = cobbler[cobbler["rater"].isin(HUMANS)]
    return h.groupby(["prompt", "system"])["score"].mean().unstack()[systems]


def _self_diff(cobbler: pd.DataFrame, judge: str, own: str, systems: list[str]) -> pd.Series:
    """Per instruction: judge's rank of `own` minus the consensus rank (pandas ranks, 1 = worst), over
    instructions where the judge's scores are not all equal."""
    jw = _wide(cobbler, judge, systems)
    cons = _consensus(cobbler, systems)
    informative = jw.nunique(axis=1) > 1
    jr = jw.rank(axis=1, method="average")
    hr = cons.rank(axis=1, method="average")
    return (jr[own] - hr[own])[informative]


def test_data_shape(cobbler: pd.DataFrame) -> None:
    h = cobbler[cobbler["rater"].isin(HUMANS)]
    assert h.groupby(["rater", "prompt"])["system"].nunique().eq(15).all()
    # every annotator's scores are a permutation of 0..14
    assert (h.groupby(["rater", "prompt"])["score"].apply(lambda s: sorted(s) == list(range(15)))).all()
    assert cobbler["rater"].nunique() == 6 + 16


def test_self_rank_matches_pandas(cobbler: pd.DataFrame, result) -> None:
    systems = sorted(cobbler.loc[cobbler["rater"].isin(HUMANS), "system"].unique())
    r = _rows(result)
    for judge in PINNED:
        d = _self_diff(cobbler, judge, judge, systems)
        row = r.loc[(judge, "self_rank_difference")]
        assert row["estimate"] == pytest.approx(d.mean(), abs=1e-12), judge
        assert row["n"] == len(d)
        assert result.counts[judge]["ranked_prompts"] == len(d)


def test_peer_adjusted_matches_pandas(cobbler: pd.DataFrame, result) -> None:
    """gpt4 and chatgpt: mean over peers of (judge − peer) rank differences, both without the peer's system."""
    systems = sorted(cobbler.loc[cobbler["rater"].isin(HUMANS), "system"].unique())
    evaluators = sorted(set(cobbler["rater"]) - set(HUMANS))
    r = _rows(result)
    for judge in ("gpt4", "chatgpt"):
        main = _self_diff(cobbler, judge, judge, systems)
        adj = []
        for peer in evaluators:
            if peer == judge:
                continue
            keep = [s for s in systems if s != peer]
            d1 = _self_diff(cobbler, judge, judge, keep)
            d2 = _self_diff(cobbler, peer, judge, keep)
            common = main.index.intersection(d1.index).intersection(d2.index)
            if len(common) and len(common) >= MIN_PEER_SHARE * len(main):
                adj.append((d1[common] - d2[common]).mean())
        row = r.loc[(judge, "self_rank_difference_peer_adjusted")]
        assert row["estimate"] == pytest.approx(np.mean(adj), abs=1e-12)
        assert row["note"].startswith("peers: ") and row["note"].count(",") == len(adj) - 1


def test_pinned_values(result) -> None:
    r = _rows(result)
    for judge, (value, n) in PINNED.items():
        row = r.loc[(judge, "self_rank_difference")]
        assert row["estimate"] == pytest.approx(value, abs=1e-9), judge
        assert row["n"] == n
    # llamav2 evaluates but is not among the ranked systems
    assert any(s.startswith("judge 'llamav2'") for s in result.skipped)
    assert result.counts["dolly"] == {"ranked_prompts": 1, "prompts_uninformative": 49, "rank_peers": 14}
    # dolly's win counts are almost all 0: one informative instruction, so no interval and no test
    assert np.isnan(r.loc[("dolly", "self_rank_difference"), "ci_low"])
    assert np.isnan(r.loc[("dolly", "self_rank_difference"), "p_value"])


def test_gpt4_egocentric(result) -> None:
    """GPT-4 ranks its own answer about 3 of 15 places above the annotators' consensus, beyond what the other
    evaluators do for GPT-4's answer (CoBBLEr reports GPT-4 among the most egocentric evaluators)."""
    r = _rows(result)
    row = r.loc[("gpt4", "self_rank_difference")]
    assert row["ci_low"] > 2.0 and row["ci_high"] < 4.0 and row["p_value"] < 1e-10
    adj = r.loc[("gpt4", "self_rank_difference_peer_adjusted")]
    assert adj["estimate"] == pytest.approx(3.8099107142857145, abs=1e-9)
    assert adj["ci_low"] > 2.5 and adj["p_value"] < 1e-10
    # ChatGPT: like the annotators on its own answer (0.47, n.s.), but the other evaluators rank ChatGPT's
    # answer about 2.5 places lower than the annotators do, so relative to them it is self-favouring
    assert r.loc[("chatgpt", "self_rank_difference"), "p_value"] > 0.05
    assert r.loc[("chatgpt", "self_rank_difference_peer_adjusted"), "estimate"] == pytest.approx(2.99964, abs=1e-4)
    # an evaluator whose own answer it ranks like the humans do
    assert r.loc[("koala", "self_rank_difference"), "p_value"] > 0.5
