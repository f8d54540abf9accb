"""Validate and join gold labels and judge outputs into one long :class:`AlignedTable`.

Nothing is dropped silently: every row that does not enter the analysis is counted in the coverage table
(by source and reason) and a few examples are kept, with the raw text, in ``problems``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import AlignmentError, InputError, ScaleError
from .results import COVERAGE_COLUMNS, PROBLEM_COLUMNS
from .scales import Scale

#: How many example rows of each problem are kept for the report.
MAX_EXAMPLES = 5
AGGREGATES = ("majority", "median", "mean")
PAIRWISE_SWAP = {0: 2, 2: 0, 1: 1}  # A <-> B on levels (A, tie, B)


def default_aggregate(scale: Scale) -> str:
    return {"interval": "mean", "ordinal": "median"}.get(scale.kind, "majority")


@dataclass
class AlignedTable:
    """Long table of every usable judgment: one row per (item, rater, order, repeat).

    Columns: ``item_id`` (str), ``rater``, ``rater_kind`` (human / judge), ``label`` (raw), ``value`` (code
    on the declared scale for categorical scales, the number for interval scales), and where they apply
    ``order`` ("AB"/"BA"), ``shown`` (pairwise verdict code in the shown frame: A = first slot), ``repeat``,
    ``system``, ``generator_a``, ``generator_b``, ``length_a``, ``length_b``, ``group`` and slice columns.
    """

    data: pd.DataFrame
    scale: Scale
    coverage: pd.DataFrame
    problems: pd.DataFrame
    humans: list[str]
    judges: list[str]
    reference: pd.Series            # item_id -> aggregated human value (NaN where undefined)
    aggregate: str
    slices: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    item_attrs: pd.DataFrame | None = None  # item_id-indexed item attributes (system, group, slices)
    excluded: pd.DataFrame | None = None    # judge rows left out: item_id, rater, order, repeat, reason, raw

    def wide(self, kind: str | None = None) -> pd.DataFrame:
        """Items × raters matrix of values (NaN for missing); repeated rows of one rater are averaged for
        interval scales and take their most frequent value otherwise."""
        d = self.data if kind is None else self.data[self.data["rater_kind"] == kind]
        if self.scale.kind == "interval":
            return d.pivot_table(index="item_id", columns="rater", values="value", aggfunc="mean", sort=True)
        # most frequent value per (item, rater); ties: the smallest code
        cnt = d.dropna(subset=["value"]).groupby(["item_id", "rater", "value"], sort=True).size().rename("n")
        cnt = cnt.reset_index().sort_values(["item_id", "rater", "n", "value"],
                                            ascending=[True, True, False, True], kind="stable")
        top = cnt.drop_duplicates(["item_id", "rater"])
        return top.pivot(index="item_id", columns="rater", values="value").sort_index()

    def rows(self, rater: str) -> pd.DataFrame:
        return self.data[self.data["rater"] == rater]


def aggregate_values(values: pd.Series, items: pd.Series, how: str, scale: Scale) -> tuple[pd.Series, int]:
    """Aggregate several human values per item. Returns (item -> value, number of items left undefined).

    majority: the most frequent value; a tie for the top is undefined (NaN, counted).
    median: the median of the codes; an even split between two levels takes the lower one (median_low).
    mean: the arithmetic mean (interval scales).
    """
    df = pd.DataFrame({"item": items.to_numpy(), "v": values.to_numpy(dtype=float)}).dropna()
    if how == "mean":
        return df.groupby("item", sort=True)["v"].mean(), 0
    if how == "median":
        def med_low(x: pd.Series) -> float:
            s = np.sort(x.to_numpy())
            return float(s[(len(s) - 1) // 2])
        return df.groupby("item", sort=True)["v"].agg(med_low), 0
    cnt = df.groupby(["item", "v"], sort=True).size().rename("c").reset_index()
    top = cnt.groupby("item")["c"].transform("max")
    winners = cnt[cnt["c"] == top]
    n_win = winners.groupby("item").size()
    val = winners.groupby("item")["v"].first()
    undefined = n_win > 1
    val[undefined] = np.nan
    return val.sort_index(), int(undefined.sum())


def _examples(rows: pd.DataFrame, source: str, problem: str, raw_col: str) -> list[dict[str, Any]]:
    out = []
    for _, r in rows.head(MAX_EXAMPLES).iterrows():
        raw = r.get(raw_col)
        out.append({"source": source, "problem": problem, "item_id": str(r["item_id"]),
                    "row": int(r["row"]) if "row" in r and pd.notna(r["row"]) else -1,
                    "raw": "" if raw is None or (isinstance(raw, float) and np.isnan(raw)) else str(raw)})
    return out


def _encode(scale: Scale, labels: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    return scale.classify(labels)


ITEM_ATTRS = ("system", "generator_a", "generator_b", "length_a", "length_b", "text_a", "text_b", "group")


def align(
    gold: pd.DataFrame,
    judges: Mapping[str, pd.DataFrame],
    scale: Scale,
    *,
    aggregate: str | None = None,
    order_frame: Mapping[str, str] | None = None,
    fallback: Mapping[str, Any] | None = None,
    slices: Sequence[str] = (),
    sources: Mapping[str, str] | None = None,
) -> AlignedTable:
    """Join a standardised gold frame and judge frames on ``item_id``.

    Parameters
    ----------
    gold : DataFrame
        Long frame with ``item_id, rater, label`` (+ ``row`` and optional item attributes and slice columns),
        as returned by :func:`metajudge.io.load_gold`.
    judges : mapping of name -> DataFrame
        Frames from :func:`metajudge.io.load_judge`: ``item_id, label`` and optionally ``raw, parse_ok,
        order, repeat, row``.
    scale : Scale
    aggregate : {"majority", "median", "mean"}, optional
        How several human labels form the reference (default: majority for categorical scales, median for
        ordinal, mean for interval).
    order_frame : mapping judge -> {"shown", "item"}
        Pairwise only: whether a judge's verdicts refer to the shown slots or are already mapped back.
    fallback : mapping judge -> label or None
        Label given to unparseable outputs (counted as ``fallback_rows``); None excludes them (counted).
    slices : sequence of str
        Slice columns (looked up in the gold frame, then in each judge frame).
    sources : mapping name -> display path (for messages); the gold set is ``"gold"``.
    """
    sources = dict(sources or {})
    order_frame = dict(order_frame or {})
    fallback = dict(fallback or {})
    aggregate = aggregate or default_aggregate(scale)
    if aggregate not in AGGREGATES:
        raise ScaleError(f"aggregate must be one of {AGGREGATES}; got {aggregate!r}.")
    if aggregate == "mean" and scale.kind != "interval":
        raise ScaleError("aggregate: mean needs an interval scale; use majority or median for categories.")
    notes: list[str] = []
    problems: list[dict[str, Any]] = []
    coverage: list[dict[str, Any]] = []

    g = gold.copy()
    if len(g) == 0:
        raise InputError(f"gold set ({sources.get('gold', 'gold')}): no rows to analyse.")
    g["item_id"] = g["item_id"].astype(str)
    if "row" not in g:
        g["row"] = np.arange(1, len(g) + 1)
    # complete undeclared levels: binary from the gold labels; nominal from gold and judge labels, so that a
    # category only a judge used counts as a disagreement instead of being set aside
    if scale.levels is None and scale.kind == "binary":
        scale = scale.with_levels_from(g["label"])
        notes.append(f"binary levels not declared; taken from the gold labels: {list(scale.levels or [])}, "
                     f"positive class {scale.levels[scale.positive_index]!r}")
    elif scale.levels is None and scale.kind == "nominal":
        gold_only = scale.with_levels_from(g["label"])
        judge_labels = [v for jdf in judges.values() for v, ok in
                        zip(jdf["label"].tolist(), jdf.get("parse_ok", pd.Series(True, index=jdf.index)).tolist())
                        if ok]
        scale = scale.with_levels_from(list(g["label"]) + judge_labels)
        extra = [lv for lv in (scale.levels or ()) if lv not in (gold_only.levels or ())]
        notes.append(f"nominal levels not declared; taken from the labels in the data: {list(scale.levels or [])}"
                     + (f" ({extra} used by judges only)" if extra else ""))
    gsrc = sources.get("gold", "gold")
    dup = g.duplicated(["item_id", "rater"], keep="first")
    problems += _examples(g[dup], "gold", "duplicate row (first kept)", "label")
    gcodes, gbad = _encode(scale, g["label"])
    g["value"] = gcodes
    missing_lab = g["label"].isna().to_numpy() & ~gbad
    problems += _examples(g[gbad], "gold", "label outside the scale", "label")
    g_ok = g[~dup.to_numpy() & ~np.isnan(gcodes)].copy()
    g_ok["rater_kind"] = "human"
    g_ok["rater"] = g_ok["rater"].astype(str)
    humans = sorted(g_ok["rater"].unique().tolist())
    ref, n_undef = aggregate_values(g_ok["value"], g_ok["item_id"], aggregate, scale)
    gold_items = pd.Index(sorted(g["item_id"].unique()))
    ref = ref.reindex(gold_items)
    coverage.append({
        "source": "gold", "kind": "gold", "path": gsrc, "rows": len(g), "items": len(gold_items),
        "matched_items": int(ref.notna().sum()), "missing_in_gold": 0, "missing_in_judge": 0,
        "duplicate_rows": int(dup.sum()), "unparseable": 0, "out_of_scale": int(gbad.sum()),
        "missing_label": int(missing_lab.sum()) + int(gold.attrs.get("missing_cells", 0) or 0),
        "excluded_rows": int(len(g) - len(g_ok)), "fallback_rows": 0,
        "reference_undefined": int(ref.isna().sum()),
    })
    if n_undef:
        notes.append(f"{n_undef} item(s) have no {aggregate} human label (a tie among annotators) and are left "
                     "out of judge-vs-human agreement; they are counted as reference_undefined")
    attr_cols = [c for c in ITEM_ATTRS if c in g.columns] + [c for c in slices if c in g.columns]
    item_attrs = g.drop_duplicates("item_id").set_index("item_id")[attr_cols] if attr_cols else None

    frames = [g_ok]
    excluded: list[pd.DataFrame] = []
    unusable: list[str] = []
    unusable_msgs: list[str] = []
    if scale.kind == "pairwise" and "order" in g_ok and g_ok["order"].notna().any():
        # the humans saw one recorded order per item: their verdict in the shown frame
        g_ok["shown"] = np.where((g_ok["order"] == "BA").to_numpy(), _swap(g_ok["value"].to_numpy(), scale.n_levels),
                                 g_ok["value"].to_numpy())
    for name, jdf in judges.items():
        src = sources.get(name, name)
        j = jdf.copy()
        if len(j) == 0:
            raise InputError(f"judge '{name}' ({src}): no rows to analyse.")
        j["item_id"] = j["item_id"].astype(str)
        j["rater"] = name
        if "row" not in j:
            j["row"] = np.arange(1, len(j) + 1)
        if "parse_ok" not in j:
            j["parse_ok"] = True
        raw_col = "raw" if "raw" in j else "label"
        key = ["item_id"] + [c for c in ("order", "repeat") if c in j and j[c].notna().any()]
        dup = j.duplicated(key, keep="first").to_numpy()
        problems += _examples(j[dup], name, "duplicate row (first kept)", raw_col)
        unparse = ~j["parse_ok"].astype(bool).to_numpy() & ~dup
        problems += _examples(j[unparse], name, "unparseable output", raw_col)
        n_fallback = 0
        labels = j["label"].copy()
        if fallback.get(name) is not None:
            labels[unparse] = fallback[name]
            n_fallback = int(unparse.sum())
        codes, bad = _encode(scale, labels)
        bad &= ~dup
        problems += _examples(j[bad], name, "label outside the scale", raw_col)
        missing = j["label"].isna().to_numpy() & ~unparse & ~dup
        in_gold = j["item_id"].isin(gold_items).to_numpy()
        problems += _examples(j[~in_gold & ~dup], name, "item not in the gold set", raw_col)
        usable = ~dup & ~np.isnan(codes) & in_gold
        j["value"] = codes
        if scale.kind == "pairwise":
            frame = order_frame.get(name, "item")
            has_order = "order" in j and j["order"].notna().any()
            if frame == "shown":
                if not has_order:
                    notes.append(f"judge '{name}': verdicts are in shown order but no order column was given; "
                                 "A is taken to be shown first")
                    j["order"] = "AB"
                swapped = (j["order"] == "BA").to_numpy()
                j["shown"] = codes
                j["value"] = np.where(swapped, _swap(codes, scale.n_levels), codes)
                no_order = j["order"].isna().to_numpy() & ~dup
                if no_order.any():  # a shown-frame verdict without its order cannot be mapped back
                    problems += _examples(j[no_order & usable], name, "presentation order missing", raw_col)
                    usable &= ~no_order
                    notes.append(f"judge '{name}': {int(no_order.sum())} row(s) have no presentation order, so "
                                 "their shown-order verdict cannot be mapped to A/B; they are excluded")
            elif has_order:
                swapped = (j["order"] == "BA").to_numpy()
                j["shown"] = np.where(swapped, _swap(codes, scale.n_levels), codes)
        judged = set(j.loc[usable, "item_id"])
        coverage.append({
            "source": name, "kind": "judge", "path": src, "rows": len(j), "items": int(j["item_id"].nunique()),
            "matched_items": len(judged & set(ref.dropna().index)),
            "missing_in_gold": int(j.loc[~in_gold, "item_id"].nunique()),
            "missing_in_judge": int(len(set(gold_items) - set(j["item_id"]))),
            "duplicate_rows": int(dup.sum()), "unparseable": int(unparse.sum()),
            "out_of_scale": int(bad.sum()), "missing_label": int(missing.sum()),
            "excluded_rows": int((~usable).sum()), "fallback_rows": n_fallback, "reference_undefined": 0,
        })
        if n_fallback:
            notes.append(f"judge '{name}': {n_fallback} unparseable output(s) scored as "
                         f"{fallback[name]!r} (configured fallback)")
        if not in_gold.any():  # no row names a gold item: almost surely a wrong item column or file
            raise AlignmentError(
                f"judge '{name}' ({src}) has no item in common with the gold set, so no usable judgment: none of "
                f"its {len(j)} rows names a gold item (e.g. gold '{gold_items[0]}' vs judge "
                f"'{j['item_id'].iloc[0]}'). Check that judges[].columns.item names the column holding the same "
                "ids as gold.columns.item, and that the file is the right one."
            )
        if not judged:
            unusable.append(name)
            notes.append(f"judge '{name}' ({src}) has no usable judgment on any gold item "
                         f"({int(in_gold.sum())} of {len(j)} rows name a gold item, {int(unparse.sum())} are "
                         f"unparseable, {int(bad.sum())} are outside the scale); its estimates are undefined")
            example = ("" if in_gold.any() else f" (e.g. gold '{gold_items[0]}' vs judge '{j['item_id'].iloc[0]}')")
            unusable_msgs.append(
                f"judge '{name}' ({src}) has no usable judgment on any gold item: "
                f"{int(in_gold.sum())} of {len(j)} rows name a gold item, {int(unparse.sum())} are unparseable, "
                f"{int(bad.sum())} are outside the scale. Check that the item column holds the same ids as the "
                f"gold set{example} and that the verdict extraction matches the outputs."
            )
        ju = j[usable].copy()
        ju["rater_kind"] = "judge"
        frames.append(ju)
        reason = np.select([dup, unparse, ~in_gold, bad, missing],
                           ["duplicate", "unparseable", "not in gold", "out of scale", "missing label"],
                           "missing order")
        ex = j.loc[~usable, ["item_id", "rater"]].copy()
        for c in ("order", "repeat"):
            ex[c] = j.loc[~usable, c] if c in j else None
        ex["reason"] = reason[~usable]
        ex["raw"] = j.loc[~usable, raw_col].astype(object) if raw_col in j else None
        excluded.append(ex)

    if judges and len(unusable) == len(judges):
        raise AlignmentError(" ".join(unusable_msgs))
    keep = ["item_id", "rater", "rater_kind", "label", "value", "order", "shown", "repeat", "raw"]
    data = pd.concat([f[[c for c in keep if c in f.columns] + [c for c in slices if c in f.columns
                                                                 and c not in keep]] for f in frames],
                     ignore_index=True)
    for c in keep:
        if c not in data:
            data[c] = np.nan if c in ("value", "shown") else None
    if item_attrs is not None:
        data = data.join(item_attrs[[c for c in item_attrs.columns if c not in data.columns]], on="item_id")
        for c in item_attrs.columns:  # item attributes from the gold set also describe the judges' rows
            gaps = data[c].isna()
            if gaps.any():
                data.loc[gaps, c] = data.loc[gaps, "item_id"].map(item_attrs[c])
    missing_slices = [s for s in slices if s not in data.columns]
    if missing_slices:
        raise InputError(f"slice column(s) {missing_slices} not found in the gold set or any judge output; "
                         f"columns present: {sorted(set(gold.columns))}. Fix `slices:` in the config.")
    cov = pd.DataFrame(coverage, columns=COVERAGE_COLUMNS)
    prob = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
    excl = (pd.concat(excluded, ignore_index=True) if excluded
            else pd.DataFrame(columns=["item_id", "rater", "order", "repeat", "reason", "raw"]))
    return AlignedTable(data=data, scale=scale, coverage=cov, problems=prob, humans=humans,
                        judges=list(judges), reference=ref, aggregate=aggregate, slices=list(slices),
                        notes=notes, item_attrs=item_attrs, excluded=excl)


def _swap(codes: np.ndarray, k: int) -> np.ndarray:
    """Swap A and B codes on a pairwise scale of ``k`` levels ((A, tie, B) or (A, B)); ties stay ties."""
    c = np.asarray(codes, dtype=float)
    out = c.copy()
    ok = ~np.isnan(c)
    out[ok] = (k - 1) - c[ok]
    return out
