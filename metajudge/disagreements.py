"""The items on which a judge and the humans differ most, for the report's "worst disagreements" table.

For each judge and each item with a defined human reference, the judge's rows of that item (both
presentation orders, all repeats) are summarised by their mean code and compared with the reference:

``distance = |mean(judge values of the item) − reference|`` in scale units:

- ordinal and binary scales: level-index distance on the declared order (a judge saying 5 where the
  reference is 2 on a 1–5 scale is 3; with repeats 5, 5, 4 it is 2.67). For binary scales this is the
  share of the judge's rows that disagree with the reference;
- pairwise scales, on the levels (A, tie, B): A against B is 2, A or B against a tie is 1 (verdicts are in
  the item's own frame, so a judge that answers "A" when shown (A, B) and "A" when shown (B, A) — i.e. A,
  then B in the item frame — is at distance 1 from either label on average);
- nominal scales (more than two unordered categories): the share of the judge's rows whose category differs
  from the reference (level indices carry no distance there), in [0, 1];
- interval scales: the absolute difference of the numbers.

Only items with a positive distance are listed (up to ``per_judge`` per judge), ordered by distance
(largest first), then by item id, so the table is deterministic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .align import AlignedTable

__all__ = ["DISAGREEMENT_COLUMNS", "disagreement_distance_unit", "worst_disagreements",
           "worst_disagreements_or_empty"]

#: Columns of :func:`worst_disagreements`.
DISAGREEMENT_COLUMNS: list[str] = [
    "judge", "item_id", "reference_label", "human_labels", "judge_label", "distance", "n_rows", "raw",
    "text_a", "text_b",
]


def disagreement_distance_unit(kind: str, n_levels: int = 0) -> str:
    """What the ``distance`` column measures, in words, for a scale kind (used in the report)."""
    if kind == "interval":
        return "absolute difference between the judge's mean score for the item and the reference score"
    if kind == "pairwise":
        if n_levels == 3:
            return ("level distance on (A, tie, B) between the judge's mean verdict (item frame, both orders and "
                    "repeats averaged) and the reference: A against B is 2, A or B against a tie is 1")
        return "share of the judge's verdicts (item frame) that differ from the reference"
    if kind == "nominal" and n_levels > 2:
        return "share of the judge's rows whose category differs from the reference"
    if kind == "binary":
        return "share of the judge's rows that differ from the reference"
    return ("distance in levels on the declared order between the judge's mean level for the item (repeats "
            "averaged) and the reference level")


def _label_of(code: Any, levels: tuple[Any, ...] | None) -> str:
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return ""
    if levels is None:  # interval: the number itself
        f = float(code)
        return f"{f:g}"
    f = float(code)
    if f.is_integer() and 0 <= int(f) < len(levels):
        return str(levels[int(f)])
    return f"{f:g}"  # a non-integer aggregate (should not happen for categorical references)


def _text(x: Any) -> str:
    if x is None:
        return ""
    try:
        if pd.isna(x):
            return ""
    except (TypeError, ValueError):
        pass
    return str(x)


def _tag(x: Any) -> str:
    """A repeat or order value as text: whole floats (repeats made float by alignment) without ".0"."""
    if isinstance(x, (float, np.floating)) and not np.isnan(x) and float(x).is_integer():
        return str(int(x))
    return _text(x)


def _natural(x: Any) -> str:
    """A sort key that orders numbers numerically ("2" before "10") and other text as text."""
    t = _text(x)
    try:
        return f"0{float(t):030.6f}"
    except ValueError:
        return "1" + t


def _row_tag(row: pd.Series, has_order: bool, has_repeat: bool) -> str:
    parts = []
    if has_order and _tag(row.get("order")):
        parts.append(f"shown {_tag(row.get('order'))}")
    if has_repeat and _tag(row.get("repeat")):
        parts.append(f"repeat {_tag(row.get('repeat'))}")
    return ", ".join(parts)


def _empty() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype=float if c == "distance" else ("int64" if c == "n_rows" else object))
                       for c in DISAGREEMENT_COLUMNS})
    return df


def worst_disagreements(table: AlignedTable, *, per_judge: int = 10) -> pd.DataFrame:
    """The items where each judge differs most from the human reference.

    Parameters
    ----------
    table : AlignedTable
        The aligned data (usable judge rows and the aggregated human reference).
    per_judge : int
        At most this many items per judge (those with the largest distance; only distances > 0).

    Returns
    -------
    DataFrame
        Columns :data:`DISAGREEMENT_COLUMNS`: ``judge``, ``item_id``, ``reference_label`` (the aggregated
        human label), ``human_labels`` (each annotator's label, by annotator id), ``judge_label`` (the judge's
        label on each of its rows, in the item's frame, tagged with the shown order / repeat where there are
        several), ``distance`` (see the module docstring), ``n_rows`` (the judge's rows on the item), ``raw``
        (the judge's raw output text on each row where the aligned table carries it, else ""), ``text_a`` and
        ``text_b`` (the item texts where the data has them, else ""). Judges in the table's order; within a
        judge, distance descending then item id ascending. Strings only from the data: escape them when
        displaying.
    """
    if per_judge <= 0 or not table.judges:
        return _empty()
    scale = table.scale
    levels = tuple(scale.levels) if scale.categorical and scale.levels is not None else None
    k = scale.n_levels if scale.categorical else 0
    share = scale.kind == "binary" or (scale.kind == "nominal" and k > 2) or (scale.kind == "pairwise" and k == 2)
    ref = table.reference.dropna()
    data = table.data
    humans = data[data["rater_kind"] == "human"]
    attrs = table.item_attrs
    has_raw = "raw" in data.columns
    out: list[dict[str, Any]] = []
    for judge in table.judges:
        rows = data[(data["rater"] == judge).to_numpy()]
        r = ref.reindex(rows["item_id"].to_numpy()).to_numpy(dtype=float)
        rows, r = rows[~np.isnan(r)], r[~np.isnan(r)]  # items with a defined reference only
        if rows.empty:
            continue
        vals = rows["value"].to_numpy(dtype=float)
        if share:
            per_row = (vals != r).astype(float)
        else:
            per_row = vals - r
        frame = pd.DataFrame({"item_id": rows["item_id"].to_numpy(), "d": per_row})
        g = frame.groupby("item_id", sort=True)["d"]
        dist = g.mean().abs() if not share else g.mean()
        dist = dist[dist > 1e-12]
        if dist.empty:
            continue
        top = (pd.DataFrame({"item_id": dist.index.astype(str), "distance": dist.to_numpy()})
               .sort_values(["distance", "item_id"], ascending=[False, True], kind="stable")
               .head(per_judge))
        has_order = "order" in rows and rows["order"].dropna().astype(str).nunique() > 1
        has_repeat = "repeat" in rows and rows["repeat"].dropna().astype(str).nunique() > 1
        chosen = rows[rows["item_id"].astype(str).isin(set(top["item_id"]))]
        chosen = chosen.assign(_pos=np.arange(len(chosen)),  # each item's rows by shown order, then repeat
                               _o=chosen["order"].map(_text) if "order" in chosen else "",
                               _r=chosen["repeat"].map(_natural) if "repeat" in chosen else "")
        chosen = chosen.sort_values(["item_id", "_o", "_r", "_pos"], kind="stable")
        by_item = {str(item): part for item, part in chosen.groupby("item_id", sort=False)}
        for item, distance in zip(top["item_id"], top["distance"], strict=True):
            part = by_item[item]
            labels, raws = [], []
            for _, row in part.iterrows():
                tag = _row_tag(row, has_order, has_repeat)
                lab = _label_of(row["value"], levels)
                labels.append(f"{lab} ({tag})" if tag and len(part) > 1 else lab)
                raw = _text(row.get("raw")) if has_raw else ""
                if raw:
                    raws.append(f"[{tag}] {raw}" if tag and len(part) > 1 else raw)
            hum = humans[humans["item_id"].astype(str) == item].sort_values("rater", kind="stable")
            human_labels = ", ".join(f"{h}: {_label_of(v, levels)}" for h, v in zip(hum["rater"], hum["value"],
                                                                                  strict=True))
            texts = {}
            for col in ("text_a", "text_b"):
                v = ""
                if attrs is not None and col in attrs.columns and item in attrs.index:
                    v = _text(attrs.at[item, col])
                if not v and col in part.columns:
                    v = next((t for t in map(_text, part[col]) if t), "")
                texts[col] = v
            out.append({
                "judge": str(judge), "item_id": str(item), "reference_label": _label_of(ref[item], levels),
                "human_labels": human_labels, "judge_label": " / ".join(labels), "distance": float(distance),
                "n_rows": int(len(part)), "raw": "\n\n".join(raws),
                "text_a": texts["text_a"], "text_b": texts["text_b"],
            })
    if not out:
        return _empty()
    df = pd.DataFrame(out, columns=DISAGREEMENT_COLUMNS)
    df["n_rows"] = df["n_rows"].astype("int64")
    return df


def worst_disagreements_or_empty(table: AlignedTable, *, per_judge: int = 10) -> pd.DataFrame:
    """:func:`worst_disagreements`, but never raises: on an error the result is empty and
    ``df.attrs["error"]`` says what went wrong (the report shows it), so a report is never lost to it."""
    try:
        return worst_disagreements(table, per_judge=per_judge)
    except Exception as exc:  # noqa: BLE001 - a display table must never fail the analysis
        df = _empty()
        df.attrs["error"] = f"{type(exc).__name__}: {exc}"
        return df
