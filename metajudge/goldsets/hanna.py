"""HANNA (Chhun et al. 2022, COLING) with the LLM ratings of Chhun, Suchanek & Clavel (2024, TACL).

1,056 stories: 96 WritingPrompts prompts x 11 sources (the human-written story and 10 story generators), each
rated 1-5 by 3 Amazon Mechanical Turk workers on six criteria (relevance, coherence, empathy, surprise,
engagement, complexity). Five LLMs (Beluga-13B, Llama-13B, Mistral-7B, OrcaPlatypus, ChatGPT) rated the same
stories on the same criteria with four prompting setups (1-4).

The adapter reads ``hanna_long.parquet``: ``story_id`` (row of the source CSV x 96 + position; the position is
the prompt), ``system``, ``rater_type`` (human / llm), ``rater`` (``human_1..3`` or the LLM), ``prompt_id``
(1-4 for LLMs), ``criterion`` (the six, plus ``average`` for the LLMs' mean over criteria, not used), ``score``.

Conventions
-----------
- Items are stories (``story_id``); the scale is interval [1, 5] and the reference is the **mean of the three
  human ratings** (as the published ``Relevance`` ... ``Complexity`` columns are). ``human_1..3`` are rating
  *slots*, not people (different workers per story): the leave-one-annotator-out ceiling is a leave-one-slot-out
  ceiling, and Krippendorff's α (which ignores rater identity) is the reliability to quote.
- Judges are ``<LLM>/p<prompt>``: the five LLMs with prompt 1 by default (option ``prompt``: 1-4 or ``all``).
  The LLM cells are already means over several answers (mostly thirds), and a cell below 1 can only be a mean
  that includes an answer below 1: cells of exactly -1 show that an answer without a rating was scored -1
  *before* averaging (the release does not document it). Cells outside [1, 5] are out of scale: counted in the
  coverage table and left out (option ``out_of_range=exclude``, default). A cell in [1, 5] may still average a -1
  with valid ratings (e.g. (-1 + 5 + 5)/3 = 3); that cannot be detected from the release and is stated in the
  data card. ``out_of_range=keep`` keeps every cell as published (an unbounded interval scale), as a correlation
  computed directly on the published columns does.
- Item attributes: ``system`` (the story source, 11 systems: system-level correlations and the system probe)
  and ``group`` (the WritingPrompts prompt = the position of the story in its source's row, 96 groups:
  metajudge's group-level correlation is computed per prompt across the 11 sources' stories, then averaged;
  that every source lists its stories in the same prompt order is the release's convention, not checked here).
  The story texts are not in the staged folder, so the length probe cannot run; none of the LLM judges wrote a
  HANNA story, so self-preference does not apply.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..align import align
from ..scales import Scale
from .base import GoldSet, GoldSetError, GoldSetSpec, file_hashes, register, require_files

FILES = ("hanna_long.parquet",)
CRITERIA = ("relevance", "coherence", "empathy", "surprise", "engagement", "complexity")
SYSTEMS = ("Human", "BertGeneration", "CTRL", "GPT", "GPT-2 (tag)", "GPT-2", "RoBERTa", "XLNet", "Fusion", "HINT",
           "TD-VAE")
LLMS = ("Beluga-13B", "ChatGPT", "Llama-13B", "Mistral-7B", "OrcaPlatypus")
N_PROMPTS = 96
COLUMNS = ("story_id", "system", "rater_type", "rater", "prompt_id", "criterion", "score")


def read_long(folder: Path) -> pd.DataFrame:
    path = Path(folder) / "hanna_long.parquet"
    df = pd.read_parquet(path)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise GoldSetError(f"HANNA: {path} lacks columns {missing}; the adapter reads the staged layout "
                           "(see the data card).")
    return df


def frames(df: pd.DataFrame, criterion: str, *, llm: str = "all",
           prompt: str = "all") -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Gold frame (item_id, rater, label, system, group) and judge frames (``<LLM>/p<k>``) of one criterion."""
    d = df[df["criterion"] == criterion]
    hum = d[d["rater_type"] == "human"]
    gold = pd.DataFrame({"item_id": hum["story_id"].astype(int).astype(str).to_numpy(),
                         "rater": hum["rater"].astype(str).to_numpy(), "label": hum["score"].to_numpy(dtype=float),
                         "system": hum["system"].astype(str).to_numpy(),
                         "group": ("prompt " + (hum["story_id"].astype(int) % N_PROMPTS).astype(str)).to_numpy()})
    lm = d[d["rater_type"] == "llm"]
    if llm != "all":
        lm = lm[lm["rater"] == llm]
    if prompt != "all":
        lm = lm[lm["prompt_id"] == int(prompt)]
    judges: dict[str, pd.DataFrame] = {}
    for (name, p), g in lm.groupby(["rater", "prompt_id"], sort=True):
        judges[f"{name}/p{int(p)}"] = pd.DataFrame({"item_id": g["story_id"].astype(int).astype(str).to_numpy(),
                                                    "label": g["score"].to_numpy(dtype=float)})
    return gold, judges


def load(folder: Path | str, *, criterion: str = "coherence", llm: str = "all", prompt: str = "1",
         out_of_range: str = "exclude") -> GoldSet:
    folder = Path(folder)
    criterion = str(criterion).strip().lower()
    if criterion not in CRITERIA:
        raise GoldSetError(f"HANNA option criterion must be one of {', '.join(CRITERIA)}, not {criterion!r}; "
                           "e.g. --gold-option criterion=coherence.")
    prompt = str(prompt).strip().lower().removeprefix("p")
    if prompt not in ("all", "1", "2", "3", "4"):
        raise GoldSetError(f"HANNA option prompt must be all or 1, 2, 3, 4 (the paper's four prompting setups), "
                           f"not {prompt!r}.")
    if llm != "all" and llm not in LLMS:
        raise GoldSetError(f"HANNA option llm must be all or one of {', '.join(LLMS)}, not {llm!r}.")
    out_of_range = str(out_of_range).strip().lower()
    if out_of_range not in ("exclude", "keep"):
        raise GoldSetError(f"HANNA option out_of_range must be exclude (default) or keep, not {out_of_range!r}.")
    require_files("HANNA", folder, FILES)
    df = read_long(folder)
    gold, judges = frames(df, criterion, llm=llm, prompt=prompt)
    n_items, n_rows = gold["item_id"].nunique(), len(gold)
    notes = [f"items are the {n_items:,} stories (96 prompts x 11 sources) on {criterion}; the reference is the "
             f"mean of the 3 crowd ratings ({n_rows:,} ratings; human_1..3 are slots, not fixed people, so the "
             "leave-one-annotator-out ceiling is leave-one-slot-out); group = prompt, system = story source"]
    for name, j in judges.items():
        v = j["label"].to_numpy(dtype=float)
        below, above = int((v < 1).sum()), int((v > 5).sum())
        frac = int((np.abs(v * 3 - np.round(v * 3)) > 1e-6).sum())
        if below or above:
            what = ("out of scale: counted and left out" if out_of_range == "exclude"
                    else "kept as published (out_of_range=keep)")
            notes.append(f"{name}: {below} cell(s) below 1 (means that include an answer scored -1, apparently "
                         f"'no rating') and {above} above 5 are {what}")
        if frac:
            notes.append(f"{name}: {frac} cell(s) are not multiples of 1/3 (averages that include fractional or "
                         "failed answers)")
    scale = (Scale("interval", minimum=1, maximum=5) if out_of_range == "exclude" else Scale("interval"))
    table = align(gold, judges, scale, aggregate="mean",
                  sources={"gold": f"hanna_long.parquet (human, {criterion})",
                           **{j: f"hanna_long.parquet ({j}, {criterion})" for j in judges}})
    return GoldSet(name="hanna", table=table, files=file_hashes(folder, FILES), notes=notes,
                   title=f"HANNA {criterion}: LLM ratings (Chhun et al. 2024) vs 3 crowd ratings",
                   probes=["leniency", "system"],
                   options={"criterion": criterion, "llm": llm, "prompt": prompt, "out_of_range": out_of_range})


SPEC = register(GoldSetSpec(
    name="hanna",
    title="HANNA story evaluation with LLM ratings",
    paper="Chhun, Colombo, Suchanek & Clavel (2022), Of Human Criteria and Automatic Metrics: A Benchmark of the "
          "Evaluation of Story Generation, COLING; Chhun, Suchanek & Clavel (2024), Do Language Models Enjoy "
          "Their Own Stories? Prompting Large Language Models for Automatic Story Evaluation, TACL",
    license="MIT (dig-team/hanna-benchmark-asg); prompts and human stories from WritingPrompts (Fan et al. 2018)",
    location="github.com/dig-team/hanna-benchmark-asg @ 282f275 (hanna_metric_scores_llm.csv)",
    folder="hanna",
    files=FILES,
    task="pointwise 1-5 ratings of generated stories on one criterion",
    scale="interval 1-5 (reference = mean of 3 crowd ratings; LLM cells are means of several answers)",
    options={"criterion": "coherence (default), relevance, empathy, surprise, engagement or complexity",
             "llm": "all (default) or one of " + ", ".join(LLMS),
             "prompt": "1 (default), 2, 3, 4 (the paper's prompting setups) or all (20 judges; the report's "
                       "pairwise judge comparisons then take minutes)",
             "out_of_range": "exclude (default: LLM cells outside [1, 5], which average failed answers scored "
                             "-1, are out of scale) or keep"},
    layout_note="hanna_long.parquet is the tidy form of the Human k XX and <LLM> XX p columns of "
                "hanna_metric_scores_llm.csv (one row per story, rater and criterion); the story texts "
                "(hanna_stories_annotations.csv) and the raw LLM answers are not staged",
    loader=load,
))
