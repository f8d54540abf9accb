"""Shi et al. (2024) position-bias repetition study: 9 LLM judges × 3 repetitions, every pair in both orders.

Reads ``repetition_judgments.parquet`` (the union of the authors' 54 ``consistent_cmp.tsv`` /
``inconsistent_cmp.tsv`` run files of ``Slimshilin/Position-Bias-Analyzer``; see the folder's SOURCE.md).
Columns: ``benchmark`` (DevBench / MTBench), ``repetition`` (1-3), ``judge``, ``cmp_index``
(``<question>;<model shown first>;<model shown second>``), ``task``, ``model_A`` / ``model_B`` (shown first /
second), ``judge_output`` (raw response), ``extracted`` (the authors' parsed verdict: ``A`` first shown
better, ``B`` second shown better, ``C`` tie) and ``authors_split`` (``consistent`` / ``inconsistent``).

An item is (benchmark, question, the unordered model pair): the two models are put in sorted order, so the
item's "A" is the alphabetically first model and a row that showed it first has order ``AB``. Verdicts are
stored **as shown** (``order_frame: shown``: ``A`` is the first slot), so the position probe classifies each
(first run, swapped run) pair of one repetition as consistent, primacy or recency (METRICS.md §5), and the
repetition is the probe's ``repeat`` (a run pairs with its mirror in the same repetition; the three
repetitions of one (item, order) give repetition stability).

There are **no human preference labels** in the study: the gold frame lists every item with an empty label
(rater ``none``), so the aligned table carries no reference and agreement metrics are undefined (NaN, noted);
the set exists for the position probe. DevBench pairs always include a human-written answer (generator
``human``); that is an answer, not a label.

Conventions (all counted in the notes):

- rows the authors could not parse are absent from the release (their log files report e.g. "Extracted 143
  answers" of 144); a run whose mirror is absent is a *missing mirror*. metajudge leaves it out of position
  consistency by default; option ``missing_mirror=consistent`` counts it as consistent, as the authors'
  split files do (they put such rows in ``consistent_cmp.tsv``), and reproduces their "consistent rate".
- ``extracted`` is taken as the verdict; the raw response is kept as ``raw``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..align import align
from ..scales import Scale
from .base import GoldSet, GoldSetError, GoldSetSpec, file_hashes, register

FILE = "repetition_judgments.parquet"
COLUMNS = ("benchmark", "repetition", "judge", "cmp_index", "task", "model_A", "model_B", "judge_output",
           "extracted", "authors_split")
BENCHMARKS = ("MTBench", "DevBench")
VERDICTS = {"A": "A", "B": "B", "C": "tie"}
MISSING_MIRROR = ("exclude", "consistent")


def read(folder: Path | str) -> pd.DataFrame:
    """The staged file, checked against the documented schema."""
    path = Path(folder) / FILE
    if not path.is_file():
        raise GoldSetError(f"Shi et al. 2024 repetition study: {str(path)!r} not found; the adapter reads {FILE} "
                           "(see the data card: metajudge gold show position_bias_shi2024).")
    d = pd.read_parquet(path)
    missing = [c for c in COLUMNS if c not in d.columns]
    if missing:
        raise GoldSetError(f"{FILE}: columns {missing} are missing (it has {list(d.columns)}); the adapter reads "
                           "the layout documented in SOURCE.md / the data card.")
    bad = sorted(set(d["benchmark"].astype(str)) - set(BENCHMARKS))
    if bad:
        raise GoldSetError(f"{FILE}: benchmark values {bad} are not one of {list(BENCHMARKS)}.")
    return d


def frames(d: pd.DataFrame) -> pd.DataFrame:
    """Add ``item_id``, ``order``, ``verdict`` (A/B/tie, shown frame), ``generator_a``/``generator_b`` (sorted
    model pair) and ``question`` to the raw rows."""
    d = d.copy()
    parts = d["cmp_index"].astype(str).str.split(";")
    bad = parts.str.len() != 3
    if bad.any():
        raise GoldSetError(f"{FILE}: {int(bad.sum())} cmp_index value(s) are not '<question>;<model>;<model>' "
                           f"(e.g. {d.loc[bad, 'cmp_index'].iloc[0]!r}).")
    d["question"] = parts.str[0]
    first, second = d["model_A"].astype(str), d["model_B"].astype(str)
    mismatch = (parts.str[1] != first) | (parts.str[2] != second)
    if mismatch.any():
        raise GoldSetError(f"{FILE}: {int(mismatch.sum())} row(s) whose cmp_index models disagree with "
                           "model_A/model_B.")
    lo = np.minimum(first, second)
    hi = np.maximum(first, second)
    d["generator_a"], d["generator_b"] = lo, hi
    d["item_id"] = d["benchmark"].astype(str) + "|" + d["question"] + "|" + lo + "|" + hi
    d["order"] = np.where(first == lo, "AB", "BA")
    d["verdict"] = d["extracted"].map(VERDICTS)
    return d


def load(folder: Path | str, *, benchmark: str = "MTBench", repetition: Any = "all",
         missing_mirror: str = "exclude") -> GoldSet:
    bench = {b.lower(): b for b in BENCHMARKS}
    if str(benchmark).lower() not in bench and str(benchmark).lower() != "all":
        raise GoldSetError(f"position_bias_shi2024 option benchmark must be MTBench, DevBench or all, not "
                           f"{benchmark!r}.")
    benchmark = bench.get(str(benchmark).lower(), "all")
    if str(repetition) not in ("all", "1", "2", "3"):
        raise GoldSetError(f"position_bias_shi2024 option repetition must be all, 1, 2 or 3, not {repetition!r}.")
    if missing_mirror not in MISSING_MIRROR:
        raise GoldSetError(f"position_bias_shi2024 option missing_mirror must be exclude (metajudge's default) or "
                           f"consistent (the authors' split files), not {missing_mirror!r}.")
    folder = Path(folder)
    raw = read(folder)
    d = frames(raw)
    if benchmark != "all":
        d = d[d["benchmark"] == benchmark]
    if str(repetition) != "all":
        d = d[d["repetition"].astype(int) == int(repetition)]
    d = d.reset_index(drop=True)
    unknown = d["verdict"].isna()
    items = d.drop_duplicates("item_id").sort_values("item_id")
    gold = pd.DataFrame({"item_id": items["item_id"].to_numpy(), "rater": "none", "label": None,
                         "generator_a": items["generator_a"].to_numpy(),
                         "generator_b": items["generator_b"].to_numpy(),
                         "task": items["task"].astype(str).to_numpy(),
                         "benchmark": items["benchmark"].astype(str).to_numpy()})
    judges: dict[str, pd.DataFrame] = {}
    for name, g in d.groupby("judge", sort=True):
        judges[str(name)] = pd.DataFrame({
            "item_id": g["item_id"], "label": g["verdict"], "raw": g["judge_output"],
            "parse_ok": g["verdict"].notna(), "order": g["order"], "repeat": g["repetition"].astype(int)})
    # counts for the notes: runs per (judge, repetition, item) with one order only = missing mirrors
    per = d.groupby(["judge", "repetition", "item_id"]).size()
    lone = int((per == 1).sum())
    slices = ["task"] + (["benchmark"] if benchmark == "all" else [])
    table = align(gold, judges, Scale("pairwise"), order_frame={j: "shown" for j in judges}, slices=slices,
                  sources={"gold": f"{FILE} (no human labels)", **{j: f"{FILE} judge {j}" for j in judges}})
    reps = sorted(d["repetition"].astype(int).unique().tolist())
    notes = [
        f"{benchmark if benchmark != 'all' else 'MTBench + DevBench'}, repetition(s) {reps}: {len(d):,} judge rows, "
        f"{d['item_id'].nunique()} items (question, sorted model pair), {len(judges)} judges; A is the "
        "alphabetically first model of the pair, verdicts stored as shown (A = first slot, C = tie)",
        "the study has no human preference labels: the gold set lists the items with empty labels, so "
        "agreement with humans is undefined (NaN); the position probe is the analysis this set supports",
        f"{lone} run(s) lack their mirror (the other order in the same repetition was not extracted by the "
        f"authors); missing_mirror={missing_mirror}: "
        + ("counted as consistent pairs, as in the authors' consistent_cmp.tsv files" if missing_mirror ==
           "consistent" else "left out of position consistency and counted (the authors count them as "
                             "consistent: option missing_mirror=consistent)"),
    ]
    if unknown.any():
        notes.append(f"{int(unknown.sum())} row(s) have an extracted verdict outside A/B/C: unparseable, counted")
    return GoldSet(name="position_bias_shi2024", table=table, files=file_hashes(folder, [FILE]), notes=notes,
                   title=f"Shi et al. 2024 position-bias repetition study ({benchmark})",
                   options={"benchmark": benchmark, "repetition": str(repetition), "missing_mirror": missing_mirror},
                   probes=["position"], probe_options={"position": {"missing_mirror": missing_mirror}})


SPEC = register(GoldSetSpec(
    name="position_bias_shi2024",
    title="Shi et al. 2024 position-bias repetition study",
    paper="Shi et al. (2024), Judging the Judges: A Systematic Investigation of Position Bias in Pairwise "
          "Comparative Assessments by LLMs, arXiv:2406.07791",
    license="MIT (repository Slimshilin/Position-Bias-Analyzer); MT-Bench and DevBench items from their sources",
    location="github.com/Slimshilin/Position-Bias-Analyzer @ 9f8b7e8e, judgment_data/data_{DevBench,MTBench}_"
             "repetition/*/{consistent_cmp,inconsistent_cmp}.tsv",
    folder="position_bias_shi2024",
    files=(FILE,),
    task="pairwise: which of two answers (MT-Bench or DevBench) is better, or a tie; each pair judged in both "
         "orders, 3 repetitions, by 9 LLM judges; no human labels",
    scale="pairwise A / tie / B, stored as shown (A = first slot); item frame A = alphabetically first model",
    options={"benchmark": "MTBench (default), DevBench or all",
             "repetition": "all (default: the 3 repetitions as repeats) or 1, 2, 3",
             "missing_mirror": "exclude (default) or consistent (the authors' convention): a run whose mirror "
                               "was not extracted"},
    layout_note="one Parquet file: the union of the 54 runs' consistent_cmp.tsv and inconsistent_cmp.tsv, with "
                "the question/answer texts dropped and columns benchmark, repetition, judge, authors_split added",
    loader=load,
))
