"""SummEval annotations with the LLM ratings of Shen et al. (2023) (``DAMO-NLP-SG/LLM_summeval``).

The 12 abstractive SummEval systems (M8 ... M23) summarised the same 100 CNN/DailyMail articles; every
summary was scored 1-5 on coherence, consistency, fluency and relevance by 3 experts and 5 crowd workers
(Fabbri et al. 2021). Shen et al. had LLMs score the same 1,200 summaries (reason-then-score ``rts``, multiple
choice ``mcq``, star rating ``stareval`` and two alternative wordings ``altrts``/``altmcq``) and had
gpt-3.5-turbo-0301 compare pairs of systems' summaries head to head (``h2h``), each pair asked twice with the
two summaries in swapped order.

Files (layout of the staged folder, see the data card): ``annotations.jsonl`` (one row per summary: ``id``,
``model_id``, ``decoded``, ``expert_annotations`` (3 dicts), ``turker_annotations`` (5 dicts)),
``llm_ratings.parquet`` (``evaluator, model_id, dimension, method, row_in_file, id, resp, score``; ``score``
-1 or null = could not be parsed) and ``h2h_comparisons.parquet`` (``evaluator, model_1, model_2, dimension,
toggle, row_in_file, id, resp, human_score_1, human_score_2``).

Two tasks (option ``task``):

``rating`` (default)
    Items are summaries (``<article id>|<system>``), pointwise on an interval scale [1, 5]; the reference is
    the **mean** of the annotators (as in the paper), every annotator is a rater (``expert_1..3`` or
    ``crowd_1..5``: list position i is taken to be the same person in every row, as SummEval-based agreement
    numbers usually are; the release does not document it). Judges are the ``<evaluator>/<method>`` runs; the
    two stray gpt-4 files ``old`` and ``mcq_old`` (100 summaries each) are left out and counted. A response
    whose score could not be parsed (``rts`` -1, ``mcq``/``stareval`` null) is unparseable, never imputed (the
    authors' scripts kept -1 as a score: trap 4 of METRICS.md). A few source files list a summary twice; the
    authors' scripts keep the last line (``duplicates=last``, default) and the count is in the notes.
    Item attributes: ``system`` (the summariser), ``group`` (the article: group-level correlations are the
    "summary-level" correlations of the summarisation literature), ``length_a`` (whitespace tokens of the
    summary: the pointwise length probe).

``h2h``
    Items are (article, system pair) in the file's pair order: A = ``model_1``'s summary, B = ``model_2``'s.
    The verdicts are stored **as shown** (``toggle=True`` shows ``model_2``'s summary as "Summary A"), so
    ``order`` is ``BA`` for toggled rows and metajudge maps them back; the raw answer's leading letter is the
    verdict (``A``, ``B``, ``C`` = tie). The human side (option ``h2h_reference``): ``annotators`` (default)
    turns every annotator's two scores into a vote (higher score wins, equal = tie) and the reference is the
    majority vote (an item whose votes split three ways has none, counted), which gives a leave-one-annotator-out
    ceiling; ``mean`` compares the annotators' mean scores, as the authors' ``calc_h2h_pairs.py`` does
    (``human_score_1`` vs ``human_score_2``), one reference rater ``<annotators>_mean`` and no ceiling.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..align import align
from ..scales import Scale
from .base import GoldSet, GoldSetError, GoldSetSpec, file_hashes, register, require_files

FILES = ("annotations.jsonl", "llm_ratings.parquet", "h2h_comparisons.parquet")
DIMENSIONS = ("coherence", "consistency", "fluency", "relevance")
SYSTEMS = ("M8", "M9", "M10", "M11", "M12", "M13", "M14", "M15", "M17", "M20", "M22", "M23")
METHODS = ("rts", "mcq", "stareval", "altrts", "altmcq")
STRAY_METHODS = ("old", "mcq_old")
ANNOTATORS = {"expert": ("expert_annotations", 3), "crowd": ("turker_annotations", 5)}
H2H_VERDICT = re.compile(r"^\s*([ABC])(?:\s*[:.]|\s*$)")
H2H_LABEL = {"A": "A", "B": "B", "C": "tie"}


def _choice(name: str, value: Any, allowed: tuple[str, ...], default: str) -> str:
    v = str(value if value is not None else default).strip().lower()
    if v not in allowed:
        raise GoldSetError(f"SummEval (Shen et al. 2023) option {name} must be one of {', '.join(allowed)}, not "
                           f"{value!r}; e.g. --gold-option {name}={default}.")
    return v


def read_annotations(folder: Path) -> pd.DataFrame:
    """annotations.jsonl as a frame (one row per summary), with its shape checked."""
    path = Path(folder) / "annotations.jsonl"
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    ann = pd.DataFrame(rows)
    need = {"id", "model_id", "decoded", "expert_annotations", "turker_annotations"}
    if not need <= set(ann.columns):
        raise GoldSetError(f"SummEval: {path} lacks columns {sorted(need - set(ann.columns))}; the adapter reads "
                           "the layout of the staged folder (see the data card).")
    return ann


def human_frame(ann: pd.DataFrame, dimension: str, annotators: str) -> pd.DataFrame:
    """Long gold frame: item_id, rater, label, system, group, length_a (one row per annotator and summary)."""
    col, k = ANNOTATORS[annotators]
    prefix = "crowd" if annotators == "crowd" else "expert"
    bad = ann[col].map(len) != k
    if bad.any():
        raise GoldSetError(f"SummEval: {int(bad.sum())} summaries do not have {k} {annotators} annotations.")
    item = ann["id"].astype(str) + "|" + ann["model_id"].astype(str)
    length = ann["decoded"].astype(str).str.split().str.len().astype(float)
    rows = []
    for i in range(k):
        rows.append(pd.DataFrame({
            "item_id": item, "rater": f"{prefix}_{i + 1}",
            "label": [float(a[i][dimension]) for a in ann[col]],
            "system": ann["model_id"].astype(str), "group": ann["id"].astype(str), "length_a": length,
        }))
    return pd.concat(rows, ignore_index=True)


def rating_judges(ratings: pd.DataFrame, dimension: str, *, evaluator: str = "all", method: str = "all",
                  duplicates: str = "last") -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Judge frames (item_id, label, raw, parse_ok) per ``<evaluator>/<method>``, and notes on what was set
    aside."""
    notes: list[str] = []
    r = ratings[ratings["dimension"] == dimension]
    stray = r["method"].isin(STRAY_METHODS)
    if stray.any():
        notes.append(f"{int(stray.sum())} rows of the stray gpt-4 files {list(STRAY_METHODS)} (100 summaries each, "
                     "earlier runs) are left out")
    r = r[~stray]
    if evaluator != "all":
        r = r[r["evaluator"] == evaluator]
    if method != "all":
        r = r[r["method"] == method]
    if r.empty:
        raise GoldSetError(f"SummEval: no LLM ratings for evaluator={evaluator!r}, method={method!r} on "
                           f"{dimension}; evaluators: {sorted(ratings['evaluator'].unique())}, methods: "
                           f"{list(METHODS)} (gpt-4 and llama-2 only have rts).")
    judges: dict[str, pd.DataFrame] = {}
    for (ev, me), g in r.groupby(["evaluator", "method"], sort=True):
        g = g.sort_values("row_in_file", kind="stable")
        dup = g.duplicated(["id", "model_id"], keep=duplicates)
        if dup.any():
            differ = g[g.duplicated(["id", "model_id"], keep=False)].groupby(["id", "model_id"])["score"].nunique()
            notes.append(f"{ev}/{me}: {int(dup.sum())} summaries appear twice in the source file; the "
                         f"{duplicates} line is kept (the authors' scripts keep the last); "
                         f"{int((differ > 1).sum())} of them have two different scores")
            g = g[~dup]
        score = pd.to_numeric(g["score"], errors="coerce")
        ok = score.notna() & (score != -1)
        judges[f"{ev}/{me}"] = pd.DataFrame({
            "item_id": (g["id"].astype(str) + "|" + g["model_id"].astype(str)).to_numpy(),
            "label": score.where(ok).to_numpy(), "raw": g["resp"].astype(str).to_numpy(),
            "parse_ok": ok.to_numpy(),
        })
        if (~ok).any():
            notes.append(f"{ev}/{me}: {int((~ok).sum())} response(s) without a parseable score (the repository's "
                         "extractor gives -1 for rts, null for mcq/stareval) are unparseable, not imputed")
    return judges, notes


def h2h_frames(h2h: pd.DataFrame, ann: pd.DataFrame, dimension: str, annotators: str,
               reference: str) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], list[str]]:
    """Gold and judge frames of the head-to-head comparisons on one dimension."""
    notes: list[str] = []
    h = h2h[h2h["dimension"] == dimension].copy()
    h["item_id"] = h["id"].astype(str) + "|" + h["model_1"].astype(str) + "|" + h["model_2"].astype(str)
    h["verdict"] = h["resp"].astype(str).str.extract(H2H_VERDICT)[0]
    col, k = ANNOTATORS[annotators]
    prefix = "crowd" if annotators == "crowd" else "expert"
    key = ann["id"].astype(str) + "|" + ann["model_id"].astype(str)
    scores = pd.DataFrame([[float(a[i][dimension]) for i in range(k)] for a in ann[col]], index=key)
    decoded = pd.Series(ann["decoded"].astype(str).str.split().str.len().astype(float).to_numpy(), index=key)
    items = h.drop_duplicates("item_id")
    k1 = items["id"].astype(str) + "|" + items["model_1"].astype(str)
    k2 = items["id"].astype(str) + "|" + items["model_2"].astype(str)
    missing = ~(k1.isin(scores.index) & k2.isin(scores.index))
    if missing.any():
        raise GoldSetError(f"SummEval h2h: {int(missing.sum())} comparisons name a summary that is not in "
                           "annotations.jsonl.")
    s1, s2 = scores.loc[k1].to_numpy(), scores.loc[k2].to_numpy()
    attrs = {"generator_a": items["model_1"].astype(str).to_numpy(),
             "generator_b": items["model_2"].astype(str).to_numpy(),
             "length_a": decoded.loc[k1].to_numpy(), "length_b": decoded.loc[k2].to_numpy(),
             "group": items["id"].astype(str).to_numpy()}
    if reference == "mean":
        diff = s1.mean(axis=1) - s2.mean(axis=1)
        gold = pd.DataFrame({"item_id": items["item_id"].to_numpy(), "rater": f"{prefix}_mean",
                             "label": np.select([diff > 0, diff < 0], ["A", "B"], "tie"), **attrs})
        notes.append(f"h2h reference: the {annotators} mean scores of the two summaries compared (higher mean "
                     "wins, equal means = tie), as the authors' calc_h2h_pairs.py; one reference rater, so no "
                     "human ceiling")
    else:
        parts = []
        for i in range(k):
            d = s1[:, i] - s2[:, i]
            parts.append(pd.DataFrame({"item_id": items["item_id"].to_numpy(), "rater": f"{prefix}_{i + 1}",
                                       "label": np.select([d > 0, d < 0], ["A", "B"], "tie"), **attrs}))
        gold = pd.concat(parts, ignore_index=True)
        notes.append(f"h2h reference: each of the {k} {annotators} annotators votes for the summary they scored "
                     "higher (equal scores = tie); the reference is the majority vote")
    judges: dict[str, pd.DataFrame] = {}
    for ev, g in h.groupby("evaluator", sort=True):
        g = g.sort_values(["item_id", "toggle"], kind="stable")
        ok = g["verdict"].notna()
        judges[f"{ev}/h2h"] = pd.DataFrame({
            "item_id": g["item_id"].to_numpy(), "label": g["verdict"].map(H2H_LABEL).to_numpy(),
            "order": np.where(g["toggle"].astype(bool), "BA", "AB"), "raw": g["resp"].astype(str).to_numpy(),
            "parse_ok": ok.to_numpy(),
        })
        if (~ok).any():
            notes.append(f"{ev}/h2h: {int((~ok).sum())} answers without a leading A/B/C are unparseable "
                         "(the authors' extractor would count them as ties)")
    notes.append("h2h verdicts are in shown order: toggle=True shows model_2's summary first (order BA) and is "
                 "mapped back to the item frame (A = model_1's summary)")
    return gold, judges, notes


def load(folder: Path | str, *, task: str = "rating", dimension: str = "coherence", annotators: str = "expert",
         evaluator: str = "all", method: str = "all", duplicates: str = "last",
         h2h_reference: str = "annotators") -> GoldSet:
    folder = Path(folder)
    task = _choice("task", task, ("rating", "h2h"), "rating")
    dimension = _choice("dimension", dimension, DIMENSIONS, "coherence")
    annotators = _choice("annotators", annotators, tuple(ANNOTATORS), "expert")
    duplicates = _choice("duplicates", duplicates, ("last", "first"), "last")
    h2h_reference = _choice("h2h_reference", h2h_reference, ("annotators", "mean"), "annotators")
    method = str(method).strip().lower()
    if method not in ("all", *METHODS):
        raise GoldSetError(f"SummEval option method must be all or one of {', '.join(METHODS)}, not {method!r}.")
    require_files("SummEval (Shen et al. 2023)", folder, FILES)
    ann = read_annotations(folder)
    scale = Scale("interval", minimum=1, maximum=5)
    label = {"expert": "3 experts", "crowd": "5 crowd workers"}[annotators]
    if task == "rating":
        gold = human_frame(ann, dimension, annotators)
        ratings = pd.read_parquet(folder / "llm_ratings.parquet")
        judges, notes = rating_judges(ratings, dimension, evaluator=str(evaluator).strip(), method=method,
                                      duplicates=duplicates)
        notes.insert(0, f"items are the 1,200 summaries (100 articles x 12 abstractive systems) on {dimension}; "
                        f"the reference is the mean of the {label} (interval scale 1-5); group = article, "
                        "system = summariser")
        table = align(gold, judges, scale, aggregate="mean",
                      sources={"gold": f"annotations.jsonl ({annotators}, {dimension})",
                               **{j: f"llm_ratings.parquet ({j}, {dimension})" for j in judges}})
        probes = ["length", "leniency", "system"]
        title = f"SummEval {dimension}: LLM ratings (Shen et al. 2023) vs {label}"
    else:
        h2h = pd.read_parquet(folder / "h2h_comparisons.parquet")
        gold, judges, notes = h2h_frames(h2h, ann, dimension, annotators, h2h_reference)
        if evaluator != "all":
            judges = {k: v for k, v in judges.items() if k.split("/")[0] == evaluator}
            if not judges:
                raise GoldSetError(f"SummEval h2h: no comparisons by evaluator {evaluator!r}.")
        notes.insert(0, f"items are 1,100 (article, system pair) comparisons on {dimension}: 11 adjacent pairs of "
                        "systems x 100 articles; A = model_1's summary")
        table = align(gold, judges, Scale("pairwise"), order_frame={j: "shown" for j in judges},
                      sources={"gold": f"annotations.jsonl ({annotators}, {dimension}, pairwise)",
                               **{j: f"h2h_comparisons.parquet ({dimension})" for j in judges}})
        probes = ["position", "length", "leniency", "system"]
        title = f"SummEval {dimension}: gpt-3.5 head-to-head (Shen et al. 2023) vs {label}"
    return GoldSet(name="summeval_shen2023", table=table, files=file_hashes(folder, FILES), notes=notes,
                   title=title, probes=probes,
                   options={"task": task, "dimension": dimension, "annotators": annotators, "evaluator": evaluator,
                            "method": method, "duplicates": duplicates, "h2h_reference": h2h_reference})


SPEC = register(GoldSetSpec(
    name="summeval_shen2023",
    title="SummEval with LLM ratings (Shen et al. 2023)",
    paper="Shen, Cheng, Nguyen, You & Bing (2023), Large Language Models are Not Yet Human-Level Evaluators for "
          "Abstractive Summarization, Findings of EMNLP 2023; annotations: Fabbri et al. (2021), SummEval, TACL",
    license="no LICENSE in the DAMO repository (LLM outputs); SummEval annotations MIT; articles CNN/DailyMail",
    location="github.com/DAMO-NLP-SG/LLM_summeval @ bd7dde1 (model_output_annotations/, eval_model_generations/, "
             "comp_res/)",
    folder="summeval_llm_shen2023",
    files=FILES,
    task="pointwise 1-5 scores of news summaries on one dimension (task=rating), or which of two systems' "
         "summaries of one article is better (task=h2h)",
    scale="interval 1-5 (rating; reference = annotator mean), or pairwise A / tie / B (h2h)",
    options={"task": "rating (default) or h2h (gpt-3.5 head-to-head comparisons, both orders)",
             "dimension": "coherence (default), consistency, fluency or relevance",
             "annotators": "expert (default, 3 experts) or crowd (5 crowd workers)",
             "evaluator": "all (default) or one evaluator, e.g. gpt-4-0314",
             "method": "all (default) or one of rts, mcq, stareval, altrts, altmcq (rating only)",
             "duplicates": "last (default, as the authors' scripts) or first: which line of a summary listed "
                           "twice in a source file is kept",
             "h2h_reference": "annotators (default: per-annotator votes, majority reference, ceiling) or mean "
                              "(the authors' expert-mean comparison)"},
    layout_note="annotations.jsonl joins the 12 model_output_annotations files; llm_ratings.parquet and "
                "h2h_comparisons.parquet are the eval_model_generations/ and comp_res/ text files in long form "
                "(raw response kept, score parsed with a re-implementation of the repository's utils.py)",
    loader=load,
))
