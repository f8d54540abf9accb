"""TREC DL 2023 LLMJudge (Rahmani et al., LLM4Eval @ SIGIR 2024): NIST relevance labels and 33 LLM relabelings.

The LLMJudge challenge asked participants to label (query, passage) pairs of the TREC 2023 Deep Learning track
on the track's 4-point scale (0 irrelevant, 1 related, 2 highly relevant, 3 perfectly relevant); the NIST
assessors' qrels are the gold labels. The staged folder (see its ``SOURCE.md``) holds:

- ``test_qrels_human.tsv``: ``qid, q0, docid, human``: the NIST label of each test pair (4,423 pairs,
  25 queries); the gold labels;
- ``llm_vs_human_labels_wide.csv``: ``qid, docid, human`` and one column per submitted run (33) with the
  label that run gave the pair; the judges;
- ``queries.tsv``: ``qid, query, trec_qid`` (50 queries: the 25 test and the 25 dev queries).

``dev_qrels_human.tsv`` (the 25 dev queries given to participants) has no LLM labels and is not read.

An item is the pair ``qid:docid`` (``docid`` alone is not unique across queries). Each pair has one NIST
label, so there is a single human rater (``nist``): inter-annotator agreement and the leave-one-annotator-out
human ceiling are undefined (the analysis says so instead of reporting a number). The gold labels come from
the qrels; the wide file's ``human`` column must be the same, and any pair where it is not is counted in a
note. Run labels outside 0..3 (a handful: ``RMITIR-llama70B`` and ``h2oloo-zeroshot2``) are counted as out of
scale and left out by default; option ``out_of_scale=clip`` maps them to the nearest end of the scale, as the
benchmark's own analysis notebook does. Option ``scale=binary`` binarises both sides at ``relevant =
label >= 2`` (the TREC DL convention; ``relevance_threshold`` moves the cut).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..align import align
from ..scales import Scale
from .base import GoldSet, GoldSetError, GoldSetSpec, file_hashes, register, require_files, select_names

QRELS = "test_qrels_human.tsv"
WIDE = "llm_vs_human_labels_wide.csv"
QUERIES = "queries.tsv"
FILES = (QRELS, WIDE, QUERIES)
LEVELS = (0, 1, 2, 3)
GOLD_RATER = "nist"
KEY_COLUMNS = ("qid", "docid", "human")


def _read(folder: Path, name: str, sep: str, required: tuple[str, ...]) -> pd.DataFrame:
    path = folder / name
    try:
        df = pd.read_csv(path, sep=sep, dtype={"qid": str, "docid": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise GoldSetError(f"trec_llmjudge: cannot read {str(path)!r} ({type(exc).__name__}: {exc}).") from exc
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise GoldSetError(f"trec_llmjudge: {name} lacks column(s) {missing} (it has {list(df.columns)}); the "
                           "adapter reads the layout documented in the data card (metajudge gold show "
                           "trec_llmjudge).")
    return df


def _select_runs(all_runs: list[str], runs: str | list[str] | tuple[str, ...]) -> list[str]:
    return select_names(all_runs, runs, option="trec_llmjudge runs", what=f"a run of {WIDE}")


def clip_labels(values: pd.Series) -> tuple[pd.Series, int]:
    """Numeric labels clipped to 0..3 as the LLMJudge notebook does (``<0 -> 0``, ``>3 -> 3``); how many moved."""
    v = pd.to_numeric(values, errors="coerce")
    clipped = v.clip(lower=LEVELS[0], upper=LEVELS[-1])
    return clipped, int((clipped != v).sum())


def load(folder: Path | str, *, scale: str = "graded", out_of_scale: str = "exclude", runs: str = "all",
         relevance_threshold: int | str = 2) -> GoldSet:
    """Read the staged LLMJudge files and align the 33 runs with the NIST labels (see the module docstring)."""
    if scale not in ("graded", "binary"):
        raise GoldSetError(f"trec_llmjudge option scale must be 'graded' (0-3, ordinal) or 'binary' "
                           f"(relevant = label >= relevance_threshold), not {scale!r}.")
    if out_of_scale not in ("exclude", "clip"):
        raise GoldSetError(f"trec_llmjudge option out_of_scale must be 'exclude' (count and leave out labels "
                           f"outside 0-3) or 'clip' (map them to 0 or 3, as the LLMJudge notebook), not "
                           f"{out_of_scale!r}.")
    try:
        threshold = int(relevance_threshold)
    except (TypeError, ValueError):
        threshold = -1
    if threshold not in (1, 2, 3):
        raise GoldSetError(f"trec_llmjudge option relevance_threshold must be 1, 2 or 3 (relevant = label >= "
                           f"threshold; TREC DL uses 2), not {relevance_threshold!r}.")
    folder = Path(folder)
    require_files("trec_llmjudge", folder, FILES)
    qrels = _read(folder, QRELS, "\t", ("qid", "docid", "human"))
    wide = _read(folder, WIDE, ",", KEY_COLUMNS)
    queries = _read(folder, QUERIES, "\t", ("qid", "trec_qid"))
    all_runs = [c for c in wide.columns if c not in KEY_COLUMNS]
    if not all_runs:
        raise GoldSetError(f"trec_llmjudge: {WIDE} has no run column besides {list(KEY_COLUMNS)}.")
    chosen = _select_runs(all_runs, runs)
    notes: list[str] = []

    qrels = qrels.assign(item_id=qrels["qid"] + ":" + qrels["docid"])
    wide = wide.assign(item_id=wide["qid"] + ":" + wide["docid"])
    dup_q = int(qrels.duplicated("item_id").sum())
    dup_w = int(wide.duplicated("item_id").sum())
    if dup_q or dup_w:
        notes.append(f"{dup_q} duplicated (qid, docid) row(s) in {QRELS} and {dup_w} in {WIDE}: the first of each "
                     "is kept (counted as duplicate rows in coverage)")
    unknown_q = sorted(set(qrels["qid"]) - set(queries["qid"]))
    if unknown_q:
        notes.append(f"{len(unknown_q)} qrels quer(y/ies) not in {QUERIES}: {unknown_q[:5]}")
    both = qrels.drop_duplicates("item_id").merge(wide.drop_duplicates("item_id")[["item_id", "human"]],
                                                  on="item_id", how="inner", suffixes=("", "_wide"))
    differ = int((pd.to_numeric(both["human"], errors="coerce")
                  != pd.to_numeric(both["human_wide"], errors="coerce")).sum())
    notes.append(f"gold = the NIST labels of {QRELS} ({qrels['item_id'].nunique():,} (query, passage) pairs, "
                 f"{qrels['qid'].nunique()} queries, one assessor label each); the 'human' column of {WIDE} "
                 f"differs from them on {differ} pair(s)")
    only_wide = int((~wide["item_id"].isin(set(qrels["item_id"]))).sum())
    if only_wide:
        notes.append(f"{only_wide} row(s) of {WIDE} name a pair without a NIST label (counted as not in gold)")
    notes.append("single NIST assessor per pair: inter-annotator agreement and the leave-one-annotator-out human "
                 "ceiling are undefined (they need two or more annotators per item)")

    gold = pd.DataFrame({"item_id": qrels["item_id"], "rater": GOLD_RATER, "label": qrels["human"],
                         "group": qrels["qid"]})
    judges: dict[str, pd.DataFrame] = {}
    clipped: dict[str, int] = {}
    for run in chosen:
        lab = wide[run]
        if out_of_scale == "clip":
            lab, n = clip_labels(lab)
            if n:
                clipped[run] = n
        judges[run] = pd.DataFrame({"item_id": wide["item_id"], "label": lab, "raw": wide[run].astype(str)})
    if out_of_scale == "clip":
        notes.append("labels outside 0-3 clipped to the scale (option out_of_scale=clip, the LLMJudge notebook's "
                     "convention): " + (", ".join(f"{r}: {n}" for r, n in clipped.items()) or "none"))
    else:
        off = {r: int((~pd.to_numeric(wide[r], errors="coerce").isin(LEVELS)).sum()) for r in chosen}
        off = {r: n for r, n in off.items() if n}
        notes.append("run labels outside 0-3 are counted as out of scale and left out (option out_of_scale=clip "
                     "maps them to 0 or 3): " + (", ".join(f"{r}: {n}" for r, n in off.items()) or "none"))

    if scale == "binary":
        def binarise(s: pd.Series) -> pd.Series:
            v = pd.to_numeric(s, errors="coerce")
            ok = v.isin(LEVELS)  # out-of-scale labels stay out of scale (NaN would read as missing)
            return pd.Series(np.where(ok, (v >= threshold).astype(int), s), index=s.index, dtype=object)

        gold["label"] = binarise(gold["label"])
        for run in judges:
            judges[run]["label"] = binarise(judges[run]["label"])
        sc = Scale("binary", levels=[0, 1], positive=1)
        notes.append(f"binary scale: relevant (1) = label >= {threshold} on both sides (TREC DL convention: 2)")
        title = f"TREC DL 2023 LLMJudge: binary relevance (>= {threshold}) of LLM runs vs NIST"
    else:
        sc = Scale("ordinal", levels=list(LEVELS))
        title = "TREC DL 2023 LLMJudge: LLM relevance labels (0-3) vs NIST assessors"

    table = align(gold, judges, sc, sources={"gold": f"{QRELS} (NIST)", **{r: f"{WIDE}:{r}" for r in judges}})
    return GoldSet(name="trec_llmjudge", table=table, title=title, files=file_hashes(folder, FILES), notes=notes,
                   options={"scale": scale, "out_of_scale": out_of_scale, "runs": runs,
                            "relevance_threshold": threshold},
                   probe_options={})


SPEC = register(GoldSetSpec(
    name="trec_llmjudge",
    title="TREC DL 2023 LLMJudge",
    paper="Rahmani et al. (2024), LLMJudge: LLMs for Relevance Judgments, LLM4Eval @ SIGIR (arXiv:2408.08896); "
          "Rahmani et al. (2025), Judging the Judges: A Collection of LLM-Generated Relevance Judgements "
          "(arXiv:2502.13908)",
    license="labels: MIT (LLMJudge-benchmark repository); qrels repository has no LICENSE; MS MARCO passages are "
            "for non-commercial research use (no passage text is read)",
    location="github.com/llm4eval/LLMJudge (qrels, queries) and github.com/llm4eval/LLMJudge-benchmark "
             "(submissions/scores/<team>-<run>.txt)",
    folder="trec_llmjudge",
    files=FILES,
    task="pointwise: relevance of an MS MARCO v2 passage to a TREC DL 2023 query",
    scale="ordinal 0-3 (0 irrelevant, 1 related, 2 highly relevant, 3 perfectly relevant); option binary",
    options={"scale": "graded (default: ordinal 0-3) or binary (relevant = label >= relevance_threshold)",
             "out_of_scale": "exclude (default: run labels outside 0-3 are counted and left out) or clip (mapped "
                             "to 0 or 3, as the LLMJudge notebook)",
             "runs": "all (default) or a comma-separated list of run names",
             "relevance_threshold": "2 (default, TREC DL) or 1 or 3: the cut of the binary scale"},
    layout_note="the original whitespace-separated qrels and per-run score files converted to TSV/CSV with the same "
                "values; the 33 run files joined into one wide CSV (llm_vs_human_labels_wide.csv) on (qid, docid)",
    loader=load,
))
