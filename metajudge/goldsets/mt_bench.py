"""MT-Bench human judgments (Zheng et al., 2023; HF ``lmsys/mt_bench_human_judgments``, CC-BY-4.0).

Two splits with one schema: ``human`` (3,355 votes of experts and authors) and ``gpt4_pair`` (2,400 GPT-4
pairwise verdicts, each already combined over both presentation orders: ``tie (inconsistent)`` marks a verdict
that flipped when the answers were swapped). Columns: ``question_id`` (int), ``model_a``, ``model_b``,
``winner`` (``model_a``/``model_b``/``tie``), ``judge`` (annotator id, or the judge), ``conversation_a`` and
``conversation_b`` (lists of ``{role, content}``), ``turn`` (1 or 2).

An item is (question, turn, the unordered model pair): the two models are put in sorted order, so "A" is the
alphabetically first model of the pair in every row, human or GPT-4, and a vote for ``model_b`` when
``model_b`` sorts first becomes "A". Several human votes on one item form its reference by majority (ties
among annotators leave the item without a reference, counted). GPT-4's ``tie (inconsistent)`` is a tie by
default, as the paper counts it (option ``inconsistent=exclude`` leaves those verdicts out, counted).

The data directory holds either ``human.parquet`` and ``gpt4_pair.parquet`` (or ``.jsonl``; one file per split, e.g. written
by ``datasets``' ``to_parquet``), or a ``datasets`` folder saved with ``save_to_disk`` (a DatasetDict with both
splits). With ``data_dir="hub"`` the adapter loads the hub name ``lmsys/mt_bench_human_judgments`` (needs the
network, or a populated Hugging Face cache).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..align import align
from ..scales import Scale
from .base import GoldSet, GoldSetError, GoldSetSpec, file_hashes, register

HUB_ID = "lmsys/mt_bench_human_judgments"
SPLITS = ("human", "gpt4_pair")
COLUMNS = ("question_id", "model_a", "model_b", "winner", "judge", "conversation_a", "conversation_b", "turn")
WINNERS = {"model_a", "model_b", "tie", "tie (inconsistent)"}


def _split_files(folder: Path) -> dict[str, Any]:
    """Find the two splits under ``folder``: parquet/jsonl files named after the split, or a save_to_disk
    DatasetDict (a ``dataset_dict.json`` beside one folder per split)."""
    if (folder / "dataset_dict.json").is_file():
        return {s: folder / s for s in SPLITS}
    out: dict[str, Any] = {}
    for s in SPLITS:
        for ext in (".parquet", ".jsonl", ".json"):  # not CSV: the conversations are lists
            p = folder / f"{s}{ext}"
            if p.is_file():
                out[s] = p
                break
        else:
            for p in sorted((folder / "data").glob(f"{s}-*.parquet")) if (folder / "data").is_dir() else []:
                out[s] = p  # the hub's own parquet layout: data/<split>-00000-of-00001.parquet
                break
    return out


def _read_split(source: Any, split: str) -> pd.DataFrame:
    from ..io import read_frame

    if isinstance(source, Path) and source.is_dir():
        try:
            from datasets import load_from_disk
        except ImportError as exc:  # pragma: no cover - datasets is a test dependency
            raise GoldSetError("reading a datasets folder needs the `datasets` package: pip install "
                               "'metajudge[hf]'") from exc
        df = load_from_disk(str(source)).to_pandas()
    elif isinstance(source, Path):
        df = read_frame(source)
    else:
        df = source
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise GoldSetError(f"MT-Bench human judgments, split {split!r}: columns {missing} are missing (it has "
                           f"{list(df.columns)}); the adapter reads the schema of {HUB_ID}.")
    bad = sorted(set(df["winner"].astype(str)) - WINNERS)
    if bad:
        raise GoldSetError(f"MT-Bench human judgments, split {split!r}: winner values {bad} are not one of "
                           f"{sorted(WINNERS)}.")
    return df


def _load_hub() -> dict[str, pd.DataFrame]:
    try:
        from datasets import load_dataset
    except ImportError as exc:  # pragma: no cover
        raise GoldSetError("loading from the hub needs the `datasets` package: pip install 'metajudge[hf]'") from exc
    try:
        ds = load_dataset(HUB_ID)
    except Exception as exc:  # offline, or the hub refused
        raise GoldSetError(f"could not load {HUB_ID} from the Hugging Face hub ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else ''}). Offline, save the dataset once with "
                           "datasets' save_to_disk (or each split as human.parquet / gpt4_pair.parquet) and give "
                           "that folder as the data directory.") from exc
    return {s: ds[s].to_pandas() for s in SPLITS}


def _answer_length(conv: Any, turn: int) -> float:
    """Characters of the assistant's answer in ``turn`` (1-based) of a ``[{role, content}, ...]`` list."""
    if conv is None or (isinstance(conv, float) and np.isnan(conv)):
        return float("nan")
    answers = [m.get("content") for m in list(conv) if isinstance(m, dict) and m.get("role") == "assistant"]
    if len(answers) < turn or answers[turn - 1] is None:
        return float("nan")
    return float(len(str(answers[turn - 1])))


def frames(human: pd.DataFrame, gpt4: pd.DataFrame, *, inconsistent: str = "tie",
           turn: str = "all") -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Gold (long: item_id, rater, label + item attributes) and judge frames from the two splits."""
    counts: dict[str, int] = {}

    def canon(df: pd.DataFrame) -> pd.DataFrame:
        d = df.copy()
        d["turn"] = d["turn"].astype(int)
        if turn != "all":
            d = d[d["turn"] == int(turn)]
        a, b = d["model_a"].astype(str), d["model_b"].astype(str)
        swap = (a > b).to_numpy()
        lo, hi = np.where(swap, b, a), np.where(swap, a, b)
        d["item_id"] = (d["question_id"].astype(str) + "|t" + d["turn"].astype(str) + "|" + pd.Series(lo, index=d.index)
                        + "|" + pd.Series(hi, index=d.index))
        w = d["winner"].astype(str)
        first = np.where(swap, w == "model_b", w == "model_a")
        second = np.where(swap, w == "model_a", w == "model_b")
        d["label"] = np.select([first, second, w.str.startswith("tie")], ["A", "B", "tie"], default=None)
        d["generator_a"], d["generator_b"] = lo, hi
        la = np.array([_answer_length(c, t) for c, t in zip(d["conversation_a"], d["turn"])], dtype=float)
        lb = np.array([_answer_length(c, t) for c, t in zip(d["conversation_b"], d["turn"])], dtype=float)
        d["length_a"], d["length_b"] = np.where(swap, lb, la), np.where(swap, la, lb)
        d["turn_slice"] = "turn " + d["turn"].astype(str)
        return d

    h = canon(human)
    j = canon(gpt4)
    if inconsistent == "exclude":
        flip = j["winner"].astype(str) == "tie (inconsistent)"
        counts["inconsistent_excluded"] = int(flip.sum())
        j = j[~flip]
    else:
        counts["inconsistent_as_tie"] = int((j["winner"].astype(str) == "tie (inconsistent)").sum())
    attrs = ["generator_a", "generator_b", "length_a", "length_b", "turn_slice"]
    gold = h[["item_id", "judge", "label", *attrs]].rename(columns={"judge": "rater"}).reset_index(drop=True)
    return gold, j.reset_index(drop=True), counts


def load(folder: Path | str, *, inconsistent: str = "tie", turn: str = "all") -> GoldSet:
    if inconsistent not in ("tie", "exclude"):
        raise GoldSetError(f"MT-Bench option inconsistent must be tie or exclude, not {inconsistent!r}.")
    if str(turn) not in ("all", "1", "2"):
        raise GoldSetError(f"MT-Bench option turn must be all, 1 or 2, not {turn!r}.")
    if str(folder) == "hub":
        splits = _load_hub()
        files = {f"{HUB_ID}:{s}": "hub" for s in SPLITS}
    else:
        folder = Path(folder)
        found = _split_files(folder)
        missing = [s for s in SPLITS if s not in found]
        if missing:
            raise GoldSetError(f"MT-Bench human judgments: no split {missing} in {str(folder)!r}. Give a folder "
                               "holding human.parquet and gpt4_pair.parquet (or .jsonl), the hub's "
                               "data/<split>-*.parquet files, or a datasets save_to_disk folder.")
        splits = {s: _read_split(found[s], s) for s in SPLITS}
        rel = sorted({str(p.relative_to(folder)) for p in found.values()})
        files = file_hashes(folder, rel)
    for s in SPLITS:
        _read_split(splits[s], s)
    gold, gpt4, counts = frames(splits["human"], splits["gpt4_pair"], inconsistent=inconsistent, turn=str(turn))
    judges: dict[str, pd.DataFrame] = {}
    for name, part in gpt4.groupby("judge", sort=True):
        judges[str(name)] = part[["item_id", "label", "winner"]].rename(columns={"winner": "raw"})
    attrs = gold.drop_duplicates("item_id").set_index("item_id")
    extra = gpt4[~gpt4["item_id"].isin(attrs.index)].drop_duplicates("item_id")
    notes = [f"items are (question, turn, model pair) with the pair in sorted order; A is the alphabetically "
             f"first model ({gold['item_id'].nunique():,} items with human votes, {len(gold):,} votes)"]
    if counts.get("inconsistent_as_tie"):
        notes.append(f"{counts['inconsistent_as_tie']} GPT-4 verdicts that flipped between the two orders "
                     "('tie (inconsistent)') count as ties, as in Zheng et al. (2023)")
    if counts.get("inconsistent_excluded"):
        notes.append(f"{counts['inconsistent_excluded']} GPT-4 verdicts that flipped between the two orders "
                     "('tie (inconsistent)') are left out (option inconsistent=exclude)")
    if len(extra):
        notes.append(f"{len(extra):,} items judged by GPT-4 have no human vote (counted as missing in gold)")
    table = align(gold, judges, Scale("pairwise"), order_frame={j: "item" for j in judges},
                  slices=["turn_slice"], sources={"gold": "MT-Bench human split", **{j: f"MT-Bench {j}" for j in judges}})
    return GoldSet(name="mt_bench_human", table=table, files=files, notes=notes,
                   title="MT-Bench human judgments: GPT-4 pairwise verdicts vs expert votes",
                   options={"inconsistent": inconsistent, "turn": str(turn)})


SPEC = register(GoldSetSpec(
    name="mt_bench_human",
    title="MT-Bench human judgments",
    paper="Zheng et al. (2023), Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena, NeurIPS Datasets and "
          "Benchmarks",
    license="CC-BY-4.0",
    location=f"Hugging Face dataset {HUB_ID} (splits human, gpt4_pair)",
    folder="mt_bench_human_judgments",
    files=(),
    task="pairwise: which of two chatbot answers to an MT-Bench question (turn 1 or 2) is better, or a tie",
    scale="pairwise A / tie / B (A = alphabetically first model of the pair)",
    options={"inconsistent": "tie (default, as the paper) or exclude: GPT-4 verdicts that flipped between orders",
             "turn": "all (default), 1 or 2"},
    layout_note="human.parquet + gpt4_pair.parquet (or .jsonl), the hub's data/ parquet files, "
                "or a datasets save_to_disk folder; data_dir 'hub' loads the hub name",
    loader=load,
    hub_id=HUB_ID,
))
