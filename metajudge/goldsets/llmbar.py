"""LLMBar (Zeng et al., ICLR 2024; github.com/princeton-nlp/LLMBar, MIT): pairwise instruction following.

Each instance is an instruction with two outputs (``output_1``, ``output_2``) and a gold ``label`` (1 or 2: the
output that follows the instruction). The LLMBar subsets (Natural, Adversarial/{Neighbor, GPTInst, GPTOut,
Manual}) carry author-curated labels; ``Processed/{FairEval, LLMEval2, MT-Bench}`` carry the original human
labels of those sets; ``CaseStudy/*`` are small probes built by the authors. Six base LLMs (GPT-4, ChatGPT,
ChatGPT-0301, PaLM2, LLaMA2, Falcon) judged them with up to fifteen prompting strategies, every instance in
both presentation orders.

Staged layout (``SOURCE.md`` of the ``llmbar`` folder): ``datasets/<subset>/dataset.json`` (verbatim; the
``LLMEval^2`` folder renamed ``LLMEval2``) and ``judgments.parquet``, one row per (subset, evaluator, strategy,
instance) reduced from every ``evaluators/<LLM>/<strategy>/result.json``.

Conventions
-----------
- An item is ``<subset>#<idx>`` (``idx`` = position in ``dataset.json``); A is ``output_1``, B is
  ``output_2``; the gold label 1/2 becomes A/B (one gold "rater", ``gold``). ``length_a``/``length_b`` are
  whitespace tokens of the two outputs; the subset is the slice column ``subset``.
- A judge is one evaluator × strategy (``GPT-4/Vanilla_NoRules``); its two rows per item are order ``AB``
  (``winner_swap_false``: output_1 shown first) and ``BA`` (``winner_swap_true``: output_2 shown first). The
  authors stored the swapped verdict **already mapped back** to the original numbering, so both rows are in
  the item frame (``order_frame`` "item") and the position probe recovers the shown slot from the order.
- A null verdict (no parseable answer) is counted as unparseable and left out, with the number of affected
  pairs in the notes. The paper counts it as a wrong verdict in accuracy and two nulls as a positional
  agreement; ``analyses/llmbar.py --convention authors`` reproduces that.
- ``Rating*`` strategies score each output on its own; the authors' code turns the two scores into a
  verdict for "both orders" by a tie-break: equal scores give output_2 for ``swap=False`` and output_1 for
  ``swap=True`` (one verdict right, one wrong, a position "inconsistency" by construction), and a score that
  is not an integer gives output_1 for ``swap=False`` and output_2 for ``swap=True``. ``rating_ties="stored"`` (default) keeps those
  verdicts as the paper counts them; ``rating_ties="exclude"`` marks both verdicts of such pairs unparseable
  (counted), so tied scores do not pass for position bias (METRICS.md §7 trap 10).

The repository's ``statistics.json`` files also store a "kappa" that is not Cohen's κ (verdict "2" and null
are mapped to 0 while the gold labels stay 1/2); metajudge recomputes κ and never reads those fields
(``analyses/llmbar.py`` shows both).
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

REPOSITORY = "https://github.com/princeton-nlp/LLMBar (commit 900616bff90b6c6c8e1681f7d079250637c55992)"
SUBSETS = ("LLMBar/Natural", "LLMBar/Adversarial/Neighbor", "LLMBar/Adversarial/GPTInst",
           "LLMBar/Adversarial/GPTOut", "LLMBar/Adversarial/Manual",
           "Processed/FairEval", "Processed/LLMEval2", "Processed/MT-Bench",
           "CaseStudy/Base_9", "CaseStudy/Base_10", "CaseStudy/Constraint", "CaseStudy/Negation",
           "CaseStudy/Normal")
GROUPS = {
    "llmbar": SUBSETS[:5], "natural": SUBSETS[:1], "adversarial": SUBSETS[1:5], "processed": SUBSETS[5:8],
    "casestudy": SUBSETS[8:], "all": SUBSETS,
}
EVALUATORS = ("GPT-4", "ChatGPT", "ChatGPT-0301", "PaLM2", "LLaMA2", "Falcon")
STRATEGIES = ("Vanilla_NoRules", "Vanilla", "Vanilla_1shot", "Vanilla_2shot", "CoT", "Metrics", "Reference",
              "Metrics_Reference", "Swap", "Swap_CoT", "Rating_NoRules", "Rating", "Rating_Metrics",
              "Rating_Reference", "Rating_Metrics_Reference")
#: The paper's "Vanilla" (no rules) and its recommended "Rules+Metrics+Reference": run by every evaluator on the
#: LLMBar and Processed subsets.
DEFAULT_STRATEGIES = ("Vanilla_NoRules", "Metrics_Reference")
FILES = ("judgments.parquet", "datasets")
COLUMNS = ("subset", "evaluator", "strategy", "idx", "label", "winner_swap_false", "winner_swap_true",
           "score_1", "score_2", "completion_swap_false", "completion_swap_true")
VERDICT = {"1": "A", "2": "B"}


# ---------------------------------------------------------------------------------------------- reading
def read_instances(folder: Path, subsets: tuple[str, ...] = SUBSETS) -> pd.DataFrame:
    """One row per instance of the given subsets: subset, idx, item_id, label (1/2), length_1, length_2
    (whitespace tokens of output_1 / output_2)."""
    rows = []
    for sub in subsets:
        f = Path(folder) / "datasets" / sub / "dataset.json"
        if not f.is_file():
            raise GoldSetError(f"LLMBar: {str(f)!r} is missing; the adapter reads datasets/<subset>/dataset.json "
                               "for every selected subset (SOURCE.md layout; LLMEval^2 is renamed LLMEval2).")
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GoldSetError(f"LLMBar: {str(f)!r} is not a JSON list of instances ({exc}).") from exc
        for idx, inst in enumerate(data):
            missing = [k for k in ("output_1", "output_2", "label") if k not in inst]
            if missing:
                raise GoldSetError(f"LLMBar: instance {idx} of {str(f)!r} lacks {missing}.")
            if inst["label"] not in (1, 2):
                raise GoldSetError(f"LLMBar: instance {idx} of {str(f)!r} has label {inst['label']!r}; "
                                   "expected 1 or 2.")
            rows.append({"subset": sub, "idx": idx, "item_id": f"{sub}#{idx}", "label": int(inst["label"]),
                         "length_1": len(str(inst["output_1"]).split()),
                         "length_2": len(str(inst["output_2"]).split())})
    return pd.DataFrame(rows, columns=["subset", "idx", "item_id", "label", "length_1", "length_2"])


def read_judgments(folder: Path) -> pd.DataFrame:
    """``judgments.parquet`` with its columns checked (the completion texts are not read)."""
    path = Path(folder) / "judgments.parquet"
    if not path.is_file():
        raise GoldSetError(f"LLMBar: {str(path)!r} is missing (SOURCE.md layout: judgments.parquet beside "
                           "datasets/).")
    import pyarrow.parquet as pq

    have = pq.read_schema(path).names
    missing = [c for c in COLUMNS if c not in have]
    if missing:
        raise GoldSetError(f"LLMBar: {str(path)!r} lacks columns {missing} (it has {have}); the adapter reads "
                           "the layout documented in SOURCE.md.")
    cols = [c for c in COLUMNS if not c.startswith("completion")]
    d = pd.read_parquet(path, columns=cols)
    d["item_id"] = d["subset"].astype(str) + "#" + d["idx"].astype(int).astype(str)
    for c in ("winner_swap_false", "winner_swap_true"):
        v = d[c].astype(object).where(d[c].notna(), None)
        bad = sorted({str(x) for x in v.dropna()} - set(VERDICT))
        if bad:
            raise GoldSetError(f"LLMBar: column {c} holds {bad}; expected '1', '2' or null.")
        d[c] = v
    return d


def _pick(value: Any, known: tuple[str, ...], what: str, groups: dict[str, tuple[str, ...]] | None = None,
          ) -> tuple[str, ...]:
    """Resolve an option value: 'all', a group name, or a comma-separated list of names (case-insensitive;
    a subset may also be named by its last path part, e.g. 'Neighbor')."""
    groups = dict(groups or {})
    groups.setdefault("all", known)
    out: list[str] = []
    for part in [p.strip() for p in str(value).split(",") if p.strip()]:
        key = part.lower().replace("^", "")
        if key in groups:
            out += [k for k in groups[key] if k not in out]
            continue
        hits = [k for k in known if k.lower() == key] or [k for k in known if k.lower().rsplit("/", 1)[-1] == key]
        if len(hits) != 1:
            choices = ", ".join(list(groups) + list(known))
            raise GoldSetError(f"LLMBar option {what}: {part!r} is not {'one' if not hits else 'a unique one'} of "
                               f"{choices}. Give one of them, or several separated by commas.")
        if hits[0] not in out:
            out.append(hits[0])
    if not out:
        raise GoldSetError(f"LLMBar option {what} is empty; give 'all' or a name ({', '.join(known)}).")
    return tuple(out)


def select(judgments: pd.DataFrame, *, subset: Any = "LLMBar", evaluator: Any = "all",
           strategy: Any = ",".join(DEFAULT_STRATEGIES)) -> tuple[pd.DataFrame, tuple[str, ...], list[str]]:
    """The judgment rows of the selected subsets × evaluators × strategies, the subsets, and notes on
    combinations that were asked for but never run."""
    subs = _pick(subset, SUBSETS, "subset", {k: v for k, v in GROUPS.items()})
    evs = _pick(evaluator, EVALUATORS, "evaluator")
    sts = _pick(strategy, STRATEGIES, "strategy")
    d = judgments[judgments["subset"].isin(subs) & judgments["evaluator"].isin(evs)
                  & judgments["strategy"].isin(sts)]
    if d.empty:
        raise GoldSetError(f"LLMBar: no judgments for subset={subset!r}, evaluator={evaluator!r}, "
                           f"strategy={strategy!r}; not every evaluator ran every strategy on every subset (the "
                           "Processed subsets have Vanilla_NoRules and Metrics_Reference only, CaseStudy five "
                           "strategies); metajudge gold show llmbar lists the options.")
    ran = set(zip(d["evaluator"], d["strategy"]))
    notes = []
    absent = [f"{e}/{s}" for e in evs for s in sts if (e, s) not in ran]
    if absent and (evaluator != "all" or strategy != "all"):
        notes.append(f"{len(absent)} requested evaluator/strategy combination(s) were never run on the selected "
                     f"subsets: {', '.join(absent[:8])}{' …' if len(absent) > 8 else ''}")
    return d, subs, notes


# ---------------------------------------------------------------------------------------------- frames
def _rating_special(d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rating rows whose verdicts come from the authors' tie-break: (tied scores, non-integer scores)."""
    rating = d["strategy"].astype(str).str.startswith("Rating").to_numpy()
    # the authors parse each score with int(text): an optionally signed integer, surrounding blanks allowed
    ints = [d[c].astype(object).where(d[c].notna(), "").astype(str).str.fullmatch(r"\s*[+-]?\d+\s*").to_numpy(bool)
            for c in ("score_1", "score_2")]
    integral = ints[0] & ints[1]
    s1 = pd.to_numeric(d["score_1"].where(integral), errors="coerce").to_numpy(dtype=float)
    s2 = pd.to_numeric(d["score_2"].where(integral), errors="coerce").to_numpy(dtype=float)
    tied = rating & integral & (s1 == s2)
    bad = rating & ~integral
    return tied, bad


def frames(instances: pd.DataFrame, judgments: pd.DataFrame, *, rating_ties: str = "stored",
           ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, int]]:
    """Gold (long) and judge frames (one per evaluator/strategy, two rows per instance) for the given rows."""
    inst = instances.set_index("item_id")
    d = judgments.copy()
    unknown = ~d["item_id"].isin(inst.index)
    if unknown.any():
        raise GoldSetError(f"LLMBar: {int(unknown.sum())} judgment rows name instances that are not in "
                           f"datasets/ (e.g. {d.loc[unknown, 'item_id'].iloc[0]!r}); the two files do not match.")
    mismatch = d["label"].astype(int).to_numpy() != inst.loc[d["item_id"], "label"].to_numpy()
    if mismatch.any():
        raise GoldSetError(f"LLMBar: judgments.parquet repeats a label that differs from dataset.json on "
                           f"{int(mismatch.sum())} rows (e.g. {d.loc[mismatch, 'item_id'].iloc[0]!r}); the files "
                           "do not come from one release.")
    counts: dict[str, int] = {}
    tied, bad = _rating_special(d)
    counts["rating_rows"] = int(d["strategy"].astype(str).str.startswith("Rating").sum())
    counts["rating_tied"] = int(tied.sum())
    counts["rating_unscored"] = int(bad.sum())
    f = d["winner_swap_false"].to_numpy(dtype=object)
    t = d["winner_swap_true"].to_numpy(dtype=object)
    raw_f = np.array([f"winner {v}" if v is not None else "no verdict" for v in f], dtype=object)
    raw_t = np.array([f"winner {v} (mapped back)" if v is not None else "no verdict" for v in t], dtype=object)
    if rating_ties == "exclude":
        special = tied | bad
        why = np.where(tied, "scores tied", "scores not integers")
        sc = "score_1=" + d["score_1"].astype(str) + ", score_2=" + d["score_2"].astype(str)
        f = np.where(special, None, f)
        t = np.where(special, None, t)
        raw_f = np.where(special, why + " (" + sc + "): authors' tie-break verdict left out", raw_f)
        raw_t = np.where(special, why + " (" + sc + "): authors' tie-break verdict left out", raw_t)
    if rating_ties == "tie":
        # equal scores are a tie (METRICS.md trap 10); a non-integer score has no verdict (counted)
        sc = "score_1=" + d["score_1"].astype(str) + ", score_2=" + d["score_2"].astype(str)
        f = np.where(tied, "tie", np.where(bad, None, f))
        t = np.where(tied, "tie", np.where(bad, None, t))
        raw_f = np.where(tied, "scores tied (" + sc + "): a tie", np.where(bad, "scores not integers (" + sc + ")",
                                                                          raw_f))
        raw_t = np.where(tied, "scores tied (" + sc + "): a tie", np.where(bad, "scores not integers (" + sc + ")",
                                                                          raw_t))
    nf = pd.isna(pd.Series(f, dtype=object)).to_numpy()
    nt = pd.isna(pd.Series(t, dtype=object)).to_numpy()
    counts["null_verdicts"] = int(nf.sum() + nt.sum())
    counts["pairs"] = len(d)
    counts["pairs_one_null"] = int((nf ^ nt).sum())
    counts["pairs_both_null"] = int((nf & nt).sum())
    judge = (d["evaluator"].astype(str) + "/" + d["strategy"].astype(str)).to_numpy()
    long = pd.DataFrame({
        "judge": np.concatenate([judge, judge]),
        "item_id": np.concatenate([d["item_id"].to_numpy(), d["item_id"].to_numpy()]),
        "order": ["AB"] * len(d) + ["BA"] * len(d),
        "label": pd.Series(np.concatenate([f, t]), dtype=object).map({**VERDICT, "tie": "tie"}).to_numpy(dtype=object),
        "raw": np.concatenate([raw_f, raw_t]),
    })
    long["parse_ok"] = long["label"].notna()
    judges = {str(name): part.drop(columns="judge").reset_index(drop=True)
              for name, part in long.groupby("judge", sort=False)}
    order = sorted(judges, key=lambda j: (EVALUATORS.index(j.split("/")[0]), STRATEGIES.index(j.split("/", 1)[1])))
    judges = {j: judges[j] for j in order}
    items = instances[instances["subset"].isin(d["subset"].unique())]
    gold = pd.DataFrame({"item_id": items["item_id"].to_numpy(), "rater": "gold",
                         "label": items["label"].map({1: "A", 2: "B"}).to_numpy(),
                         "length_a": items["length_1"].to_numpy(dtype=float),
                         "length_b": items["length_2"].to_numpy(dtype=float),
                         "subset": items["subset"].to_numpy()})
    return gold, judges, counts


def load(folder: Path | str, *, subset: str = "LLMBar", evaluator: str = "all",
         strategy: str = ",".join(DEFAULT_STRATEGIES), rating_ties: str = "stored") -> GoldSet:
    """Read LLMBar from ``folder`` (the ``llmbar`` folder of SOURCE.md) and align it (module docstring)."""
    if rating_ties not in ("stored", "exclude", "tie"):
        raise GoldSetError(f"LLMBar option rating_ties must be stored, exclude or tie, not {rating_ties!r}.")
    folder = Path(folder)
    judgments = read_judgments(folder)
    d, subs, notes = select(judgments, subset=subset, evaluator=evaluator, strategy=strategy)
    instances = read_instances(folder, subs)
    gold, judges, counts = frames(instances, d, rating_ties=rating_ties)
    n_items = gold["item_id"].nunique()
    notes = [
        f"{n_items:,} instances of {len(subs)} subset(s) ({', '.join(subs)}); A = output_1, B = output_2, the "
        "gold label (LLMBar: author-curated; Processed/*: the original human label) is one rater 'gold'",
        f"{len(judges)} judge(s) = evaluator/strategy, each instance in both orders: AB = outputs shown in the "
        "original order, BA = swapped; LLMBar stores the swapped verdict already mapped back to the original "
        "numbering (order_frame item)",
        *notes,
        "length_a / length_b are whitespace tokens of output_1 / output_2",
    ]
    if counts["null_verdicts"]:
        notes.append(
            f"{counts['null_verdicts']} of {2 * counts['pairs']:,} verdicts are null (no parseable answer"
            + (" or a Rating tie-break left out" if rating_ties == "exclude" else "")
            + f"): {counts['pairs_one_null']} pair(s) with one null, {counts['pairs_both_null']} with two; they are "
            "counted as unparseable and left out (the paper counts a null as a wrong verdict and two nulls as "
            "agreeing positions: analyses/llmbar.py --convention authors)")
    if counts["rating_rows"]:
        what = {"stored": "kept as stored (rating_ties=stored), so each tied pair has one right and one wrong "
                          "verdict and counts as position-inconsistent",
                "exclude": "left out as unparseable (rating_ties=exclude)",
                "tie": "read as ties in both orders (rating_ties=tie; the non-integer ones are unparseable)"
                }[rating_ties]
        notes.append(
            f"Rating strategies ({counts['rating_rows']:,} pairs): {counts['rating_tied']} pair(s) with equal "
            f"scores and {counts['rating_unscored']} with a non-integer score get the authors' tie-break verdicts "
            f"(output_2 for swap=False, output_1 for swap=True, or the reverse when unscored); {what}")
    table = align(gold, judges, Scale("pairwise", ties=rating_ties == "tie"), order_frame={j: "item" for j in judges},
                  slices=["subset"], sources={"gold": "LLMBar datasets/*/dataset.json",
                                              **{j: f"LLMBar judgments.parquet ({j})" for j in judges}})
    return GoldSet(name="llmbar", table=table, files=file_hashes(folder, FILES), notes=notes,
                   title=f"LLMBar: LLM evaluators vs gold labels ({', '.join(subs) if len(subs) <= 2 else subset})",
                   options={"subset": str(subset), "evaluator": str(evaluator), "strategy": str(strategy),
                            "rating_ties": rating_ties})


SPEC = register(GoldSetSpec(
    name="llmbar",
    title="LLMBar",
    paper="Zeng, Yu, Gao, Meng, Goyal, Chen (2024). Evaluating Large Language Models at Evaluating Instruction "
          "Following. ICLR 2024 (arXiv:2310.07641)",
    license="MIT (repository LICENSE); Processed/* re-package FairEval, LLMEval², MT-Bench human judgments "
            "(CC-BY-4.0): cite those papers",
    location=REPOSITORY + ", Dataset/<subset>/dataset.json and evaluators/<LLM>/<strategy>/result.json",
    folder="llmbar",
    files=FILES,
    task="pairwise: which of two outputs follows the instruction (no ties), judged by 6 LLMs x up to 15 "
         "prompting strategies in both presentation orders",
    scale="pairwise A / B (A = output_1); gold 1/2",
    options={
        "subset": "LLMBar (default: Natural + 4 Adversarial, 419 instances), natural, adversarial, processed, "
                  "casestudy, all, or subset names separated by commas (e.g. Neighbor,GPTInst)",
        "evaluator": "all (default) or names separated by commas: " + ", ".join(EVALUATORS),
        "strategy": f"{','.join(DEFAULT_STRATEGIES)} (default: the paper's Vanilla and Rules+Metrics+Reference), "
                    "all, or names separated by commas: " + ", ".join(STRATEGIES),
        "rating_ties": "stored (default, as the paper), exclude, or tie (equal scores read as a tie, METRICS.md "
                       "trap 10): Rating-strategy verdicts set by the authors' tie-break for equal or non-integer "
                       "scores",
    },
    layout_note="judgments.parquet is one row per (subset, evaluator, strategy, instance) reduced from every "
                "result.json (final verdict per order; completions kept, prompts dropped); datasets/ holds the "
                "dataset.json files verbatim (LLMEval^2 renamed LLMEval2)",
    loader=load,
))
