"""Topical-Chat USR ratings with ChatGPT scores under 7 prompt variants (Chiang & Lee, Findings of EMNLP 2023).

Reads the two staged files of ``closer_look_topicalchat/`` (SOURCE.md):

- ``topical_chat_items.jsonl``: 360 responses (``item_id`` 0-359) to 60 dialogue contexts (``dialogue_id``,
  6 responses each) from 6 sources (``system_id``), with ``scores``: the USR human ratings, each the mean of 3
  annotators (naturalness, coherence, engagingness 1-3; groundedness 0-1; understandability 0-1; overall 1-5);
- ``chatgpt_ratings.parquet``: for each attribute × prompt variant (28 result files) and item, the 20 raw
  ChatGPT responses sampled at temperature 1 (``all_responses``), the authors' parse of each
  (``parsed_scores``) and the human score copied from the results file (``human_score``).

The gold frame is one rater, ``usr_mean`` (the released mean of the 3 annotators; the individual ratings are not
in the release, so no human ceiling can be computed), with ``system`` = the response source and ``group`` =
the dialogue context: the group level of a correlation is the study's "document level" (one correlation per
dialogue over its responses, then the unweighted mean; dialogues where either side is constant are skipped
and counted). Each prompt variant is a judge, ``ChatGPT/<variant>``, whose label is the **mean of its 20
sampled scores** on an interval scale (the study's score).

Parsing. Every response is parsed again with the authors' rule (``all_eval.py`` ``parse_output``: lower-case,
take the text after the last ``rating:``, the first number), which also tells a failed parse from a real score
of 0 (groundedness is rated 0-1); the result is checked against the stored ``parsed_scores`` and any
difference is counted in the notes. The authors score a failed parse as 0 and **average it in**; their code
would drop a negative score (NaN, ``np.nanmean``), but its regex strips a minus sign first, so ``-1`` reads as
1 (kept, as in the study). Option ``unparseable``:

- ``exclude`` (default, metajudge's rule, METRICS.md §7 trap 4): a failed sample is left out of the item's mean
  and counted; an item whose 20 samples all failed has no score (unparseable, counted);
- ``zero``: the authors' convention (a failed sample counts as a score of 0), to reproduce their numbers.

Samples outside the range the prompt asks for (1-3; groundedness 0-1) are kept, as in the study, and counted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
import numpy as np
import pandas as pd

from ..align import align
from ..scales import Scale
from .base import GoldSet, GoldSetError, GoldSetSpec, file_hashes, register

ITEMS = "topical_chat_items.jsonl"
RATINGS = "chatgpt_ratings.parquet"
ATTRIBUTES = ("naturalness", "coherence", "engagingness", "groundedness")
VARIANTS = ("geval", "geval_no_auto_cot", "llm_eval_no_cot", "rate_explain", "analyze_rate",
            "rate_explain_auto_cot", "analyze_rate_auto_cot")
#: The range each prompt asks for (samples outside are kept, as in the study, and counted).
PROMPT_RANGE = {"naturalness": (1.0, 3.0), "coherence": (1.0, 3.0), "engagingness": (1.0, 3.0),
                "groundedness": (0.0, 1.0)}
UNPARSEABLE = ("exclude", "zero")
RATING_COLUMNS = ("attribute", "prompt_variant", "item_id", "dialogue_id", "system_id", "human_score",
                  "all_responses", "parsed_scores")
_NUM = re.compile(r"[a-z]*:?-? ?[0-9]\.?[0-9]?")
_STRIP = re.compile(r"[a-z]*:?-? *")
_LEAD = re.compile(r"^ ?([\d\.]+)")


def parse_score(output: str) -> tuple[float, bool]:
    """The authors' ``parse_output`` (all_eval.py of d223302/A-Closer-Look-To-LLM-Evaluation), returning
    ``(score, parsed)``: ``parsed`` is False where their code falls back to 0; a negative score is NaN.

    >>> parse_score("Rating: 2\\nRationale: fine")
    (2.0, True)
    >>> parse_score("I cannot rate this.")
    (0.0, False)
    """
    text = str(output).lower().replace("\n", " ").replace("1-3", " ")
    if "rating:" in text:
        text = text.split("rating:")[-1]
    found = _NUM.findall(text)
    if found:
        text = _STRIP.sub(" ", found[0]).replace("rating:", "").strip()
    m = _LEAD.search(text)
    if not m:
        return 0.0, False
    try:
        score = float(m.group(1))
    except ValueError:  # e.g. "1.2.3" or "."
        return 0.0, False
    return (float("nan") if score < 0 else score), True


def read_items(folder: Path) -> pd.DataFrame:
    path = folder / ITEMS
    if not path.is_file():
        raise GoldSetError(f"Topical-Chat: {str(path)!r} not found; the adapter reads {ITEMS} and {RATINGS} "
                           "(metajudge gold show topical_chat).")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = pd.DataFrame(rows)
    missing = [c for c in ("item_id", "dialogue_id", "system_id", "scores") if c not in items.columns]
    if missing:
        raise GoldSetError(f"{ITEMS}: fields {missing} are missing; see the data card for the schema.")
    return items


def read_ratings(folder: Path, attribute: str) -> pd.DataFrame:
    path = folder / RATINGS
    if not path.is_file():
        raise GoldSetError(f"Topical-Chat: {str(path)!r} not found; the adapter reads {ITEMS} and {RATINGS}.")
    r = pd.read_parquet(path, filters=[("attribute", "==", attribute)])
    missing = [c for c in RATING_COLUMNS if c not in r.columns]
    if missing:
        raise GoldSetError(f"{RATINGS}: columns {missing} are missing (it has {list(r.columns)}).")
    return r


def sample_scores(ratings: pd.DataFrame) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """Per row: the re-parsed sample scores, the parsed flags, and how many samples differ from the stored
    ``parsed_scores``."""
    scores, oks = [], []
    differ = 0
    for responses, stored in zip(ratings["all_responses"], ratings["parsed_scores"]):
        parsed = [parse_score(x) for x in list(responses)]
        s = np.array([p[0] for p in parsed], dtype=float)
        ok = np.array([p[1] for p in parsed], dtype=bool)
        st = np.asarray(list(stored), dtype=float)
        if len(st) != len(s):
            differ += len(s)
        else:
            differ += int((~((s == st) | (np.isnan(s) & np.isnan(st)))).sum())
        scores.append(s)
        oks.append(ok)
    return scores, oks, differ


def load(folder: Path | str, *, attribute: str = "naturalness", prompt_variant: str = "all",
         unparseable: str = "exclude") -> GoldSet:
    if attribute not in ATTRIBUTES:
        raise GoldSetError(f"topical_chat option attribute must be one of {', '.join(ATTRIBUTES)} (the attributes "
                           f"with ChatGPT ratings), not {attribute!r}.")
    if prompt_variant != "all" and prompt_variant not in VARIANTS:
        raise GoldSetError(f"topical_chat option prompt_variant must be all or one of {', '.join(VARIANTS)}, not "
                           f"{prompt_variant!r}.")
    if unparseable not in UNPARSEABLE:
        raise GoldSetError(f"topical_chat option unparseable must be exclude (metajudge's default: a failed parse "
                           f"is left out of the mean) or zero (the authors: scored 0), not {unparseable!r}.")
    folder = Path(folder)
    items = read_items(folder)
    r = read_ratings(folder, attribute)
    if prompt_variant != "all":
        r = r[r["prompt_variant"] == prompt_variant]
    r = r.reset_index(drop=True)
    if len(r) == 0:
        raise GoldSetError(f"{RATINGS}: no rows for attribute {attribute!r}, prompt variant {prompt_variant!r}.")

    human = items["scores"].map(lambda s: s.get(attribute) if isinstance(s, dict) else None)
    gold = pd.DataFrame({"item_id": items["item_id"].astype(str), "rater": "usr_mean",
                         "label": pd.to_numeric(human, errors="coerce"),
                         "system": items["system_id"].astype(str),
                         "group": "dialogue " + items["dialogue_id"].astype(str)})

    scores, oks, differ = sample_scores(r)
    lo, hi = PROMPT_RANGE[attribute]
    n_fail = n_neg = n_out = n_all_fail = 0
    means = np.full(len(r), np.nan)
    for i, (s, ok) in enumerate(zip(scores, oks)):
        n_fail += int((~ok).sum())
        n_neg += int((ok & np.isnan(s)).sum())
        n_out += int((ok & ~np.isnan(s) & ((s < lo) | (s > hi))).sum())
        use = s.copy()
        if unparseable == "exclude":
            use[~ok] = np.nan
        if np.isnan(use).all():
            n_all_fail += 1
            continue
        means[i] = float(np.nanmean(use))
    r = r.assign(score=means, n_failed=[int((~ok).sum()) for ok in oks],
                 raw=[" ".join("?" if not o else ("nan" if np.isnan(v) else f"{v:g}") for v, o in zip(s, ok))
                      for s, ok in zip(scores, oks)])

    # the human score copied into each results file must be the item's own
    hs = gold.set_index("item_id")["label"]
    copied = r["human_score"].to_numpy(dtype=float)
    own = hs.reindex(r["item_id"].astype(str)).to_numpy(dtype=float)
    mismatch = int((~np.isclose(copied, own, atol=1e-6, equal_nan=True)).sum())

    judges: dict[str, pd.DataFrame] = {}
    for v in [x for x in VARIANTS if x in set(r["prompt_variant"])]:
        g = r[r["prompt_variant"] == v]
        judges[f"ChatGPT/{v}"] = pd.DataFrame({"item_id": g["item_id"].astype(str), "label": g["score"],
                                               "raw": g["raw"], "parse_ok": g["score"].notna()})
    table = align(gold, judges, Scale("interval"),
                  sources={"gold": f"{ITEMS} (USR, mean of 3 annotators)",
                           **{j: f"{RATINGS} ({attribute}, {j.split('/')[1]})" for j in judges}})
    n_samples = int(sum(len(s) for s in scores))
    per_judge = r.groupby("prompt_variant").size()
    notes = [
        f"attribute {attribute}: gold = the USR rating averaged over 3 annotators ({len(gold)} items, 60 "
        "dialogues x 6 responses; a single 'usr_mean' rater, so no human ceiling); group = dialogue context "
        "(the study's document level), system = response source",
        f"{len(judges)} judge(s), one per prompt variant: the mean of the 20 sampled ChatGPT scores; items per "
        f"variant {', '.join(f'{k} {v}' for k, v in per_judge.items())} (the rest are missing from the authors' "
        "results files)",
        f"{n_fail} of {n_samples:,} sampled responses unparseable by the authors' rule; unparseable={unparseable}: "
        + ("scored 0 and averaged in, as the authors' code does (reproduction only: METRICS.md trap 4)"
           if unparseable == "zero" else "left out of the item's mean (the authors score them 0: option "
                                         "unparseable=zero)")
        + (f"; {n_all_fail} item score(s) undefined (every sample failed), counted as unparseable"
           if n_all_fail else ""),
        f"{n_out} parsed sample(s) outside the prompt's range {lo:g}-{hi:g} kept in the mean, as in the study",
    ]
    if n_neg:
        notes.append(f"{n_neg} negative sample score(s) dropped (NaN), as the authors' code does")
    if differ:
        notes.append(f"{differ} re-parsed sample score(s) differ from the stored parsed_scores (the re-parse is used)")
    if mismatch:
        notes.append(f"{mismatch} row(s) of {RATINGS} carry a human_score different from {ITEMS}; the items file "
                     "is used")
    return GoldSet(name="topical_chat", table=table, files=file_hashes(folder, [ITEMS, RATINGS]), notes=notes,
                   title=f"Topical-Chat (USR) {attribute}: ChatGPT (mean of 20 samples) vs human ratings",
                   options={"attribute": attribute, "prompt_variant": prompt_variant, "unparseable": unparseable},
                   metrics=["pearson", "spearman"])


SPEC = register(GoldSetSpec(
    name="topical_chat",
    title="Topical-Chat USR ratings with ChatGPT scores (Chiang & Lee 2023)",
    paper="Chiang & Lee (2023), A Closer Look into Using Large Language Models for Automatic Evaluation, "
          "Findings of EMNLP 2023; human ratings: Mehri & Eskenazi (2020), USR, ACL 2020",
    license="no LICENSE file in the results repository (research use with attribution); data/topical_chat.json "
            "via maszhongming/UniEval (MIT)",
    location="github.com/d223302/A-Closer-Look-To-LLM-Evaluation @ 90084422, data/topical_chat.json and "
             "results/topical_chat/gpt3.5_<attr>_<variant>.json",
    folder="closer_look_topicalchat",
    files=(ITEMS, RATINGS),
    task="pointwise: rate one dialogue response on naturalness, coherence, engagingness (1-3) or groundedness "
         "(0-1)",
    scale="interval: human = mean of 3 annotators; judge = mean of 20 sampled ChatGPT scores",
    options={"attribute": "naturalness (default), coherence, engagingness or groundedness",
             "prompt_variant": f"all (default: 7 judges) or one of {', '.join(VARIANTS)}",
             "unparseable": "exclude (default: a failed parse is left out of the mean) or zero (the authors: "
                            "scored 0 and averaged in)"},
    layout_note="the 28 results JSON files merged into one Parquet table (one row per attribute x variant x "
                "item, with the 20 raw responses); data/topical_chat.json as JSON lines with item_id and "
                "dialogue_id added and the 'scores' dict kept",
    loader=load,
))
