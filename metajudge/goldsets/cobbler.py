"""CoBBLEr (Koo et al., Findings of ACL 2024): 6 annotators' and 16 LLM evaluators' rankings of 15 LLMs' answers.

50 question-answering instructions; for each, the answers of 15 systems (vicuna, baize, koala, wizardlm,
chatgpt, instructgpt, gpt4, cohere, dolly, openassist, redpajama, mpt, alpaca, falcon, llama). The staged folder
(see its ``SOURCE.md``) holds:

- ``human_annotations/annot_<k>.json`` (k = 1..6, one file per annotator): 50 dicts (one per instruction, in
  the order of ``llm_preference_evalset.json``), system -> a rank score 0..14, a permutation, higher = better
  (the authors' ``compute_pairwise_counts`` turned each annotator's full ranking into the number of systems
  ranked below each system). ``annot_<k>_new.json``: the same rankings restricted to 13 systems (dolly and
  redpajama dropped), scores 0..12.
- ``model_annotations/nC2_preferences_<evaluator>.json``: 50 dicts, system -> the number of pairs the
  evaluator's answer-pair verdicts gave that system (all 105 pairs of the 15 answers; a pair without a valid
  verdict gives neither system a win, so equal counts are possible). 16 evaluators: the 15 systems and
  llamav2 (whose file, like mistral's and olmo's in ``new/``, also counts its own 16th answer).
  ``model_annotations/new/``: a later set of 16 evaluators (with mistral and olmo, without dolly and
  redpajama as evaluators).
- ``responses_by_instruction.json``: the instruction, the reference and each system's answer (the adapter
  reads the answers' lengths in characters).

The evaluators' verdicts on single pairs (with the presentation order) are not part of the release, only
their win counts, so the adapter derives judgments from rankings, in one of two views (option ``view``):

``pairs`` (default): one item per (instruction, unordered pair of ranked systems), A = the alphabetically
    first system of the pair. An annotator prefers A when it ranked A above B; an evaluator prefers A when it
    gave A more wins than B, and its verdict is a tie when the two counts are equal (a Copeland-style
    reading of its 105 verdicts, not its verdict on that pair). Annotators never tie. The reference is the
    majority of the 6 annotators; a 3-3 split leaves the item without a reference (counted), while every
    leave-one-annotator-out reference (5 annotators) is defined. Scale: pairwise A / tie / B. Item
    attributes: ``generator_a``/``generator_b`` (the systems), ``length_a``/``length_b`` (answer characters),
    ``group`` (the instruction).
``ranks``: one item per (instruction, system); annotators' rank scores and evaluators' win counts as
    numbers (interval scale 0..15: 15 is possible for the evaluators that also counted their own 16th
    answer); ``system``, ``group`` = instruction, ``length_a`` = answer characters. Rankings per instruction
    are compared at the group level (one correlation per instruction, then the mean).

Option ``release``: ``original`` (default; ``annot_<k>.json`` and ``model_annotations/``: 15 systems) or
``new`` (``annot_<k>_new.json`` and ``model_annotations/new/``: 13 systems; the evaluators' counts, which
include wins over dolly and redpajama, are read for the 13 systems only). Option ``evaluators``: ``all`` or a
comma-separated list. Self-preference: each evaluator's family is its own name, the generators' families
their system names (llamav2, mistral and olmo have no ranked answer of their own).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..align import align
from ..scales import Scale
from .base import GoldSet, GoldSetError, GoldSetSpec, file_hashes, register, require_files, select_names

ANNOTATORS = tuple(f"annot_{k}" for k in range(1, 7))
HUMAN_DIR = "human_annotations"
MODEL_DIR = "model_annotations"
EVALSET = "llm_preference_evalset.json"
RESPONSES = "responses_by_instruction.json"
FILES = (EVALSET, RESPONSES, HUMAN_DIR, MODEL_DIR)
PREFIX = "nC2_preferences_"
N_INSTRUCTIONS = 50


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GoldSetError(f"cobbler: cannot read {str(path)!r} ({type(exc).__name__}: {exc}).") from exc


def _score_list(path: Path, what: str) -> list[dict[str, float]]:
    data = _json(path)
    if not isinstance(data, list) or len(data) != N_INSTRUCTIONS or not all(isinstance(d, dict) for d in data):
        raise GoldSetError(f"cobbler: {path.name} ({what}) must be a list of {N_INSTRUCTIONS} dicts (system -> "
                           f"score), one per instruction; got {type(data).__name__} of length "
                           f"{len(data) if hasattr(data, '__len__') else '?'}.")
    for i, d in enumerate(data):
        for s, v in d.items():
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise GoldSetError(f"cobbler: {path.name}, instruction {i}, system {s!r}: score {v!r} is not a "
                                   "number.")
    return data


def _evaluator_files(folder: Path) -> dict[str, Path]:
    return {p.name[len(PREFIX):-len(".json")]: p for p in sorted(folder.glob(f"{PREFIX}*.json"))}


def _select(all_evals: list[str], evaluators: str | list[str] | tuple[str, ...]) -> list[str]:
    return select_names(all_evals, evaluators, option="cobbler evaluators", what="an evaluator of this release")


def read_release(folder: Path, release: str = "original") -> dict[str, Any]:
    """The raw scores of a release: ``humans`` (annotator -> 50 dicts), ``evaluators`` (name -> 50 dicts),
    ``systems`` (the ranked systems, sorted), ``lengths`` (instruction, system) -> answer characters, the
    files read (relative paths) and notes."""
    suffix = "_new" if release == "new" else ""
    mdir = folder / MODEL_DIR / ("new" if release == "new" else "")
    hfiles = {a: folder / HUMAN_DIR / f"{a}{suffix}.json" for a in ANNOTATORS}
    missing = [str(p.relative_to(folder)) for p in hfiles.values() if not p.is_file()]
    if missing:
        raise GoldSetError(f"cobbler: {str(folder)!r} lacks {', '.join(missing)} (release {release!r}); the "
                           "adapter reads the layout of the data card (metajudge gold show cobbler).")
    humans = {a: _score_list(p, f"annotator {a}") for a, p in hfiles.items()}
    efiles = _evaluator_files(mdir)
    if not efiles:
        raise GoldSetError(f"cobbler: no {PREFIX}<evaluator>.json in {str(mdir)!r} (release {release!r}).")
    evals = {e: _score_list(p, f"evaluator {e}") for e, p in efiles.items()}
    notes: list[str] = []
    systems = sorted(humans[ANNOTATORS[0]][0])
    for a, lists in humans.items():
        for i, d in enumerate(lists):
            if sorted(d) != systems:
                raise GoldSetError(f"cobbler: {a}{suffix}.json, instruction {i}: ranks systems {sorted(d)}, not "
                                   f"the {len(systems)} systems of the other annotations ({systems}).")
            if sorted(d.values()) != list(range(len(systems))):
                notes.append(f"{a}, instruction {i}: scores are not a permutation of 0..{len(systems) - 1}")
    for e, lists in evals.items():
        lacking = sorted({s for d in lists for s in systems if s not in d})
        if lacking:
            raise GoldSetError(f"cobbler: evaluator {e!r} has no win count for {lacking}; every evaluator file "
                               "must score the ranked systems.")
    extra = {e: sorted(set().union(*[set(d) for d in lists]) - set(systems)) for e, lists in evals.items()}
    extra = {e: x for e, x in extra.items() if x}
    if extra:
        notes.append("win counts of systems nobody ranked are not read (their answers were judged by that "
                     "evaluator only, so the others' counts include games against them): "
                     + "; ".join(f"{e}: {', '.join(x)}" for e, x in extra.items()))
    responses = _json(folder / RESPONSES)
    evalset = _json(folder / EVALSET)
    if not isinstance(responses, list) or len(responses) != N_INSTRUCTIONS:
        raise GoldSetError(f"cobbler: {RESPONSES} must be a list of {N_INSTRUCTIONS} dicts.")
    mismatch = sum(1 for r, q in zip(responses, evalset) if r.get("instruction") != q.get("instruction"))
    if mismatch or len(evalset) != N_INSTRUCTIONS:
        notes.append(f"{mismatch} instruction(s) of {RESPONSES} differ from {EVALSET}")
    lengths = {}
    for i, r in enumerate(responses):
        for s in systems:
            text = r.get(s)
            lengths[(i, s)] = float(len(str(text))) if text is not None else float("nan")
    files = [EVALSET, RESPONSES, *[str(p.relative_to(folder)) for p in hfiles.values()],
             *[str(p.relative_to(folder)) for p in efiles.values()]]
    return {"humans": humans, "evaluators": evals, "systems": systems, "lengths": lengths, "files": files,
            "notes": notes}


def _item(i: int, *parts: str) -> str:
    return "|".join([f"q{i:02d}", *parts])


def pairwise_frames(raw: dict[str, Any], evaluators: list[str]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Gold and judge frames of the ``pairs`` view (see the module docstring)."""
    systems = raw["systems"]
    pairs = [(a, b) for k, a in enumerate(systems) for b in systems[k + 1:]]
    rows = []
    for h, lists in raw["humans"].items():
        for i, d in enumerate(lists):
            for a, b in pairs:
                lab = "A" if d[a] > d[b] else "B" if d[b] > d[a] else "tie"
                rows.append((_item(i, a, b), h, lab, a, b, raw["lengths"][(i, a)], raw["lengths"][(i, b)], f"q{i:02d}"))
    gold = pd.DataFrame(rows, columns=["item_id", "rater", "label", "generator_a", "generator_b", "length_a",
                                       "length_b", "group"])
    judges = {}
    for e in evaluators:
        jr = []
        for i, d in enumerate(raw["evaluators"][e]):
            for a, b in pairs:
                lab = "A" if d[a] > d[b] else "B" if d[b] > d[a] else "tie"
                jr.append((_item(i, a, b), lab, f"wins {a}={d[a]:g}, {b}={d[b]:g}"))
        judges[e] = pd.DataFrame(jr, columns=["item_id", "label", "raw"])
    return gold, judges


def rank_frames(raw: dict[str, Any], evaluators: list[str]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Gold and judge frames of the ``ranks`` view (see the module docstring)."""
    rows = []
    for h, lists in raw["humans"].items():
        for i, d in enumerate(lists):
            for s in raw["systems"]:
                rows.append((_item(i, s), h, float(d[s]), s, f"q{i:02d}", raw["lengths"][(i, s)]))
    gold = pd.DataFrame(rows, columns=["item_id", "rater", "label", "system", "group", "length_a"])
    judges = {}
    for e in evaluators:
        jr = [(_item(i, s), float(d[s])) for i, d in enumerate(raw["evaluators"][e]) for s in raw["systems"]]
        judges[e] = pd.DataFrame(jr, columns=["item_id", "label"])
    return gold, judges


def load(folder: Path | str, *, view: str = "pairs", release: str = "original", evaluators: str = "all") -> GoldSet:
    """Read the staged CoBBLEr files and align the evaluators with the annotators (see the module docstring)."""
    if view not in ("pairs", "ranks"):
        raise GoldSetError(f"cobbler option view must be 'pairs' (pairwise preferences implied by the rankings) "
                           f"or 'ranks' (rank scores per instruction and system), not {view!r}.")
    if release not in ("original", "new"):
        raise GoldSetError(f"cobbler option release must be 'original' (15 systems) or 'new' (13 systems, "
                           f"model_annotations/new/), not {release!r}.")
    folder = Path(folder)
    require_files("cobbler", folder, FILES)
    raw = read_release(folder, release)
    chosen = _select(sorted(raw["evaluators"]), evaluators)
    systems = raw["systems"]
    notes = list(raw["notes"])
    notes.append(f"release {release!r}: {len(raw['humans'])} annotators' full rankings of {len(systems)} systems' "
                 f"answers to {N_INSTRUCTIONS} instructions; {len(chosen)} evaluators' pairwise win counts")
    flat = {e: sum(1 for d in raw["evaluators"][e] if len({d[s] for s in systems}) == 1) for e in chosen}
    flat = {e: n for e, n in flat.items() if n}
    if flat:
        notes.append("instructions on which an evaluator gave every ranked system the same win count (no "
                     "ranking: every pair a tie): " + ", ".join(f"{e}: {n}" for e, n in flat.items()))
    if view == "pairs":
        gold, judges = pairwise_frames(raw, chosen)
        n_pairs = len(systems) * (len(systems) - 1) // 2
        notes.append(f"pairs view: one item per (instruction, pair of systems), {N_INSTRUCTIONS} x {n_pairs} = "
                     f"{N_INSTRUCTIONS * n_pairs:,} items; A = the alphabetically first system; an annotator "
                     "prefers the system it ranked higher; an evaluator prefers the system with more wins and "
                     "ties on equal counts (derived from its win counts: its verdict on the pair itself is not "
                     "in the release)")
        sc = Scale("pairwise")
        slices: list[str] = []
        table = align(gold, judges, sc, order_frame={e: "item" for e in judges}, slices=slices,
                      sources={"gold": f"{HUMAN_DIR}/annot_k (ranks -> pairs)",
                               **{e: f"{MODEL_DIR}/{PREFIX}{e}.json (win counts -> pairs)" for e in judges}})
        title = "CoBBLEr: LLM evaluators' rank-implied pairwise preferences vs 6 annotators"
    else:
        gold, judges = rank_frames(raw, chosen)
        notes.append(f"ranks view: one item per (instruction, system), {N_INSTRUCTIONS} x {len(systems)} = "
                     f"{N_INSTRUCTIONS * len(systems):,} items; annotators' rank scores (0..{len(systems) - 1}, "
                     "higher = better) and evaluators' win counts; group = instruction")
        sc = Scale("interval", minimum=0, maximum=15)
        table = align(gold, judges, sc, sources={"gold": f"{HUMAN_DIR}/annot_k (rank scores)",
                                                 **{e: f"{MODEL_DIR}/{PREFIX}{e}.json (win counts)" for e in judges}})
        title = "CoBBLEr: LLM evaluators' win counts vs 6 annotators' rankings"
    files = file_hashes(folder, raw["files"])
    return GoldSet(name="cobbler", table=table, title=title, files=files, notes=notes,
                   options={"view": view, "release": release, "evaluators": evaluators},
                   probe_options={"self_preference": {"families": {e: e for e in chosen}}})


def instruction_of(item_id: pd.Series) -> pd.Series:
    """The instruction (``q00``..``q49``) of each item id of either view."""
    return item_id.astype(str).map(lambda s: re.split(r"\|", s, maxsplit=1)[0])


SPEC = register(GoldSetSpec(
    name="cobbler",
    title="CoBBLEr human preference study",
    paper="Koo et al. (2024), Benchmarking Cognitive Biases in Large Language Models as Evaluators, Findings of "
          "ACL (arXiv:2309.17012)",
    license="no license stated (the repository has no LICENSE file): research use with attribution; confirm "
            "before redistributing",
    location="github.com/minnesotanlp/cobbler, competitive-llms/human/batches/ (commit 5af58e0) and "
             "competitive-llms/datasets/llm_preference_evalset.json",
    folder="cobbler",
    files=FILES,
    task="ranking the answers of 15 LLMs to a QA instruction; read as pairwise preferences (default) or rank "
         "scores",
    scale="pairwise A / tie / B derived from rankings (view pairs, A = alphabetically first system), or "
          "interval rank scores / win counts (view ranks)",
    options={"view": "pairs (default: rank-implied pairwise preferences) or ranks (rank score per system)",
             "release": "original (default: 15 systems, model_annotations/) or new (13 systems, "
                        "annot_k_new.json and model_annotations/new/)",
             "evaluators": "all (default) or a comma-separated list of evaluator names"},
    layout_note="files copied verbatim from competitive-llms/ of the repository; normalized_human_ranking.json "
                "renamed responses_by_instruction.json; the AMT batch files behind annot_k.json are not staged",
    loader=load,
))
