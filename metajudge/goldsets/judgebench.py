"""JudgeBench (Tan et al., ICLR 2025; github.com/ScalerLab/JudgeBench): objectively labelled response pairs.

Each pair is a hard question (MMLU-Pro, LiveBench reasoning / math, LiveCodeBench) with two responses sampled
from one model (GPT-4o: 350 pairs; Claude-3.5-Sonnet: 270 pairs) and a label ``A>B`` or ``B>A`` saying which
response is *correct* (an objective label, not a human preference). Judges (prompted LLM judges and reward
models) saw every pair in both orders: game 1 shows A first, game 2 shows B first.

Staged layout (``SOURCE.md`` of the ``judgebench`` folder): ``data/dataset=judgebench,response_model=*.jsonl``
(verbatim) and ``judgments.jsonl``, 2,370 rows reduced from the 7 output files available (texts and prompts
dropped): ``response_model``, ``judge_name``, ``judge_model``, ``pair_id``, ``source``, ``label`` and ``games``
(two ``{decision, response, scores}``; ``decision`` in ``A>B`` / ``B>A`` / ``A=B`` / null **in the order shown
in that game**).

Conventions
-----------
- An item is a ``pair_id``; A/B are ``response_A``/``response_B``; the label becomes A or B (one gold
  "rater", ``correctness``). ``category`` (slice): Knowledge (``mmlu-pro-*``), Reasoning
  (``livebench-reasoning``), Math (``livebench-math``), Coding (``livecodebench``); ``response_model`` is a
  second slice. ``length_a``/``length_b``: whitespace tokens of the two responses.
- A judge is a ``judge_model`` (prefixed by ``judge_name`` only where one model ran under two judge prompts).
  Game 1 is order ``AB``, game 2 order ``BA``; decisions are stored as shown (``order_frame`` "shown"): game 2's
  ``A>B`` means the original B won. Scale A / tie / B (``A=B`` is a tie).
- ``unparseable`` (null decisions): ``exclude`` (default; counted and left out, so a pair with a null leaves
  the both-order accuracy) or ``tie``: a null decision is a zero vote, as in JudgeBench's
  ``utils/metrics.py compute_final_metrics`` (a null matches neither the label nor its flip, and the pair
  stays in the denominator; with no tie label in JudgeBench, scoring it as a tie gives the same both-order
  accuracy, and two nulls agree with each other as two ties do). One difference remains: JudgeBench's
  ``n_inconsistent`` compares the raw decisions, so a null against a real ``A=B`` counts as inconsistent, where
  two ties are consistent; the ``raw`` column keeps "null decision" so that count can be recovered
  (``analyses/judgebench.py`` does). Every such verdict is counted (``fallback_rows``).
- ``score_ties`` (reward models, which give each response a score): ``tie`` (default) makes equal scores a
  tie, as METRICS.md §7 trap 10 asks; ``stored`` keeps JudgeBench's decision, which calls equal scores
  ``B>A`` (the second response shown wins), so a tied pair looks position-inconsistent. Equal scores are
  counted in the notes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..align import align
from ..scales import Scale
from .base import GoldSet, GoldSetError, GoldSetSpec, file_hashes, register

REPOSITORY = "https://github.com/ScalerLab/JudgeBench (commit e2c52c284e735e139b3daa61c206ee208f36c461)"
HUB_ID = "ScalerLab/JudgeBench"
FILES = ("judgments.jsonl", "data")
CATEGORIES = ("Knowledge", "Reasoning", "Math", "Coding")
RESPONSE_MODELS = {"gpt-4o": "gpt-4o-2024-05-13", "claude-3.5-sonnet": "claude-3-5-sonnet-20240620"}
DECISION = {"A>B": "A", "B>A": "B", "A=B": "tie"}
PAIR_FIELDS = ("pair_id", "source", "response_model", "response_A", "response_B", "label")
JUDGMENT_FIELDS = ("response_model", "judge_name", "judge_model", "pair_id", "source", "label", "games")


def category_of(source: str) -> str:
    """JudgeBench's category of a ``source``: mmlu-pro-* Knowledge, livebench-reasoning Reasoning,
    livebench-math Math, livecodebench Coding."""
    s = str(source)
    if s.startswith("mmlu-pro"):
        return "Knowledge"
    if s.startswith("livebench-reasoning"):
        return "Reasoning"
    if s.startswith("livebench-math"):
        return "Math"
    if s.startswith("livecodebench"):
        return "Coding"
    raise GoldSetError(f"JudgeBench: source {source!r} belongs to no category (mmlu-pro-*, livebench-reasoning, "
                       "livebench-math, livecodebench).")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise GoldSetError(f"JudgeBench: line {n} of {str(path)!r} is not JSON ({exc}).") from exc
    return rows


def read_pairs(folder: Path) -> pd.DataFrame:
    """Every pair of ``data/*.jsonl``: pair_id, source, category, response_model, label, length_a, length_b."""
    files = sorted((Path(folder) / "data").glob("*.jsonl"))
    if not files:
        raise GoldSetError(f"JudgeBench: no data/*.jsonl under {str(folder)!r} (SOURCE.md layout: "
                           "data/dataset=judgebench,response_model=*.jsonl beside judgments.jsonl).")
    rows = []
    for f in files:
        for r in _read_jsonl(f):
            missing = [k for k in PAIR_FIELDS if k not in r]
            if missing:
                raise GoldSetError(f"JudgeBench: a pair in {f.name} lacks {missing}.")
            if r["label"] not in ("A>B", "B>A"):
                raise GoldSetError(f"JudgeBench: pair {r['pair_id']} in {f.name} has label {r['label']!r}; "
                                   "expected A>B or B>A.")
            rows.append({"pair_id": str(r["pair_id"]), "source": r["source"], "category": category_of(r["source"]),
                         "response_model": r["response_model"], "label": r["label"],
                         "length_a": float(len(str(r["response_A"]).split())),
                         "length_b": float(len(str(r["response_B"]).split()))})
    d = pd.DataFrame(rows)
    dup = d["pair_id"].duplicated()
    if dup.any():
        raise GoldSetError(f"JudgeBench: pair_id {d.loc[dup, 'pair_id'].iloc[0]!r} occurs twice in data/.")
    return d


def read_judgments(folder: Path) -> pd.DataFrame:
    """``judgments.jsonl``, one row per (judge, pair), with the two games' decisions and scores unpacked."""
    path = Path(folder) / "judgments.jsonl"
    if not path.is_file():
        raise GoldSetError(f"JudgeBench: {str(path)!r} is missing (SOURCE.md layout).")
    rows = []
    for r in _read_jsonl(path):
        missing = [k for k in JUDGMENT_FIELDS if k not in r]
        if missing:
            raise GoldSetError(f"JudgeBench: a row of judgments.jsonl lacks {missing}.")
        games = r["games"]
        if not isinstance(games, list) or len(games) != 2:
            raise GoldSetError(f"JudgeBench: pair {r['pair_id']} ({r['judge_model']}) has "
                               f"{len(games) if isinstance(games, list) else 'no'} games; expected 2 (both orders).")
        row = {k: r[k] for k in JUDGMENT_FIELDS if k != "games"}
        for k, g in enumerate(games, 1):
            g = g or {}
            dec = g.get("decision")
            if dec is not None and dec not in DECISION:
                raise GoldSetError(f"JudgeBench: decision {dec!r} (pair {r['pair_id']}, {r['judge_model']}) is not "
                                   "A>B, B>A, A=B or null.")
            sc = g.get("scores")
            row[f"decision_{k}"] = dec
            row[f"score_first_{k}"] = float(sc[0]) if sc else np.nan
            row[f"score_second_{k}"] = float(sc[1]) if sc else np.nan
        rows.append(row)
    d = pd.DataFrame(rows)
    d["pair_id"] = d["pair_id"].astype(str)
    return d


def _choose(value: Any, known: list[str], what: str, aliases: dict[str, str] | None = None) -> list[str]:
    if str(value).strip().lower() == "all":
        return list(known)
    aliases = {k.lower(): v for k, v in (aliases or {}).items()}
    out: list[str] = []
    for part in [p.strip() for p in str(value).split(",") if p.strip()]:
        key = aliases.get(part.lower(), part).lower()
        hits = [k for k in known if k.lower() == key] or [k for k in known if key in k.lower()]
        if len(hits) != 1:
            raise GoldSetError(f"JudgeBench option {what}: {part!r} matches {len(hits)} of {', '.join(known)}; give "
                               "'all', or one or more of those names (or a unique part of one) separated by commas.")
        if hits[0] not in out:
            out.append(hits[0])
    if not out:
        raise GoldSetError(f"JudgeBench option {what} is empty; give 'all' or one of {', '.join(known)}.")
    return out


def _judge_names(j: pd.DataFrame) -> pd.Series:
    """judge_model, prefixed with judge_name where one model ran under several judge prompts."""
    kinds = j.groupby("judge_model")["judge_name"].nunique()
    multi = j["judge_model"].map(kinds) > 1
    return pd.Series(np.where(multi, j["judge_name"] + ":" + j["judge_model"], j["judge_model"]), index=j.index)


def frames(pairs: pd.DataFrame, judgments: pd.DataFrame, *, score_ties: str = "tie",
           ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, int]]:
    """Gold (long, with category / response_model slices and lengths) and shown-order judge frames."""
    counts: dict[str, int] = {}
    known = set(pairs["pair_id"])
    unknown = ~judgments["pair_id"].isin(known)
    if unknown.any():
        raise GoldSetError(f"JudgeBench: {int(unknown.sum())} judgments name pairs not in data/ (e.g. "
                           f"{judgments.loc[unknown, 'pair_id'].iloc[0]!r}); the files do not match.")
    lab = pairs.set_index("pair_id")["label"]
    mism = judgments["label"].to_numpy() != lab.reindex(judgments["pair_id"]).to_numpy()
    if mism.any():
        raise GoldSetError(f"JudgeBench: judgments.jsonl repeats a label that differs from data/ on "
                           f"{int(mism.sum())} rows.")
    gold = pd.DataFrame({"item_id": pairs["pair_id"], "rater": "correctness", "label": pairs["label"].map(DECISION),
                         "length_a": pairs["length_a"], "length_b": pairs["length_b"],
                         "category": pairs["category"], "response_model": pairs["response_model"]})
    names = _judge_names(judgments)
    judges: dict[str, pd.DataFrame] = {}
    counts["null_decisions"] = counts["score_ties"] = counts["pairs_with_null"] = 0
    for name in sorted(names.unique(), key=lambda n: (judgments.loc[names == n, "judge_name"].iloc[0], n)):
        g = judgments[names == name]
        parts = []
        for k, order in ((1, "AB"), (2, "BA")):
            dec = g[f"decision_{k}"].astype(object).where(g[f"decision_{k}"].notna(), None)
            s1, s2 = g[f"score_first_{k}"].to_numpy(float), g[f"score_second_{k}"].to_numpy(float)
            scored = ~np.isnan(s1) & ~np.isnan(s2)
            tied = scored & (s1 == s2)
            label = dec.map(DECISION).to_numpy(dtype=object)
            raw = np.where(dec.isna(), "null decision", dec.astype(str)).astype(object)
            raw = np.where(scored, raw + " (scores " + pd.Series(s1).map("{:.6g}".format).to_numpy().astype(str)
                           + " / " + pd.Series(s2).map("{:.6g}".format).to_numpy().astype(str) + ")", raw)
            if score_ties == "tie":
                label = np.where(tied, "tie", label)
            counts["score_ties"] += int(tied.sum())
            counts["null_decisions"] += int(dec.isna().sum())
            parts.append(pd.DataFrame({"item_id": g["pair_id"].to_numpy(), "order": order, "label": label,
                                       "raw": raw, "parse_ok": dec.notna().to_numpy()}))
        counts["pairs_with_null"] += int((g["decision_1"].isna() | g["decision_2"].isna()).sum())
        judges[str(name)] = pd.concat(parts, ignore_index=True)
    return gold, judges, counts


def load(folder: Path | str, *, response_model: str = "all", judge: str = "all", category: str = "all",
         unparseable: str = "exclude", score_ties: str = "tie") -> GoldSet:
    """Read JudgeBench from ``folder`` (the ``judgebench`` folder of SOURCE.md) and align it (module docstring)."""
    if unparseable not in ("exclude", "tie"):
        raise GoldSetError(f"JudgeBench option unparseable must be exclude or tie, not {unparseable!r}.")
    if score_ties not in ("tie", "stored"):
        raise GoldSetError(f"JudgeBench option score_ties must be tie or stored, not {score_ties!r}.")
    folder = Path(folder)
    pairs = read_pairs(folder)
    judgments = read_judgments(folder)
    rms = _choose(response_model, sorted(pairs["response_model"].unique()), "response_model", RESPONSE_MODELS)
    cats = _choose(category, list(CATEGORIES), "category")
    pairs = pairs[pairs["response_model"].isin(rms) & pairs["category"].isin(cats)]
    judgments = judgments[judgments["pair_id"].isin(set(pairs["pair_id"]))]
    names = _judge_names(judgments)
    chosen = _choose(judge, sorted(names.unique()), "judge") if len(names) else []
    judgments = judgments[names.isin(chosen)]
    if judgments.empty:
        raise GoldSetError(f"JudgeBench: no judgment for response_model={response_model!r}, judge={judge!r}, "
                           f"category={category!r} (each judge ran on one response model's pairs here).")
    pairs = pairs[pairs["response_model"].isin(set(judgments["response_model"]))]
    gold, judges, counts = frames(pairs, judgments, score_ties=score_ties)
    by_cat = gold["category"].value_counts()
    notes = [
        f"{len(gold)} response pairs ({', '.join(f'{by_cat.get(c, 0)} {c}' for c in CATEGORIES)}); A = response_A, "
        "B = response_B; the label says which response is correct (objective, one rater 'correctness'); "
        "categories: Knowledge = mmlu-pro-*, Reasoning = livebench-reasoning, Math = livebench-math, Coding = "
        "livecodebench",
        f"{len(judges)} judge(s), each pair in both orders: game 1 = AB (A shown first), game 2 = BA; decisions "
        "are stored as shown (order_frame shown) and mapped back to A/B",
        "length_a / length_b are whitespace tokens of response_A / response_B",
    ]
    for rm, g in judgments.groupby("response_model"):
        js = sorted(set(_judge_names(judgments).loc[g.index]))
        notes.append(f"response model {rm}: {g['pair_id'].nunique()} pairs judged by {', '.join(js)}")
    if counts["null_decisions"]:
        how = ("scored as a zero vote, i.e. as a tie (unparseable=tie, JudgeBench's compute_final_metrics: the "
               "pair stays in the denominator)" if unparseable == "tie"
               else "counted as unparseable and left out, with their pair (unparseable=exclude; JudgeBench keeps "
                    "the pair with a zero vote: unparseable=tie)")
        notes.append(f"{counts['null_decisions']} null decision(s) in {counts['pairs_with_null']} pair(s): {how}")
    if counts["score_ties"]:
        how = ("made ties (score_ties=tie)" if score_ties == "tie"
               else "kept as JudgeBench decided them, 'B>A' (the response shown second wins; score_ties=stored), "
                    "which shows up as position inconsistency")
        notes.append(f"{counts['score_ties']} reward-model verdict(s) with equal scores for both responses: {how}")
    fallback = {j: "tie" for j in judges} if unparseable == "tie" else None
    table = align(gold, judges, Scale("pairwise"), order_frame={j: "shown" for j in judges}, fallback=fallback,
                  slices=["category", "response_model"],
                  sources={"gold": "JudgeBench data/*.jsonl",
                           **{j: f"JudgeBench judgments.jsonl ({j})" for j in judges}})
    return GoldSet(name="judgebench", table=table, files=file_hashes(folder, FILES), notes=notes,
                   title="JudgeBench: judges vs objective correctness labels",
                   options={"response_model": str(response_model), "judge": str(judge), "category": str(category),
                            "unparseable": unparseable, "score_ties": score_ties})


SPEC = register(GoldSetSpec(
    name="judgebench",
    title="JudgeBench",
    paper="Tan, Zhuang, Montgomery, Tang, Cuadron, Wang, Popa, Stoica (2025). JudgeBench: A Benchmark for "
          "Evaluating LLM-Based Judges. ICLR 2025 (arXiv:2410.12784)",
    license="none stated (the repository snapshot has no LICENSE file); research use with attribution, do not "
            "redistribute",
    location=REPOSITORY + ", data/ and outputs/ (also the Hugging Face dataset " + HUB_ID + ")",
    folder="judgebench",
    files=FILES,
    task="pairwise: which of two responses (same model) to a hard knowledge / reasoning / math / coding question "
         "is correct; prompted judges and reward models, both presentation orders",
    scale="pairwise A / tie / B (A = response_A); labels A>B or B>A (no ties)",
    options={
        "response_model": "all (default), gpt-4o-2024-05-13 (gpt-4o) or claude-3-5-sonnet-20240620 "
                          "(claude-3.5-sonnet)",
        "judge": "all (default) or judge_model names (or unique parts) separated by commas",
        "category": "all (default), Knowledge, Reasoning, Math or Coding (several separated by commas)",
        "unparseable": "exclude (default: null decisions counted and left out) or tie (JudgeBench: a null "
                       "decision is a zero vote and the pair stays in the denominator)",
        "score_ties": "tie (default: equal reward-model scores are a tie) or stored (JudgeBench's decision, "
                      "B>A: the second shown wins)",
    },
    layout_note="judgments.jsonl is reduced from the 7 of 35 outputs/*.jsonl files available (question, response "
                "texts and judge prompts dropped; join to data/ on pair_id); data/ is verbatim",
    loader=load,
    hub_id="",
))
