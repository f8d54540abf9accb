"""Label scales: the declared kind and order of the labels, and encoding raw labels to codes.

A scale is declared by the user (config ``scale:`` section or the ``levels=`` argument of a metric).
The order of an ordinal scale is **declared, never inferred by sorting strings** (METRICS.md §7 trap 1).
Numeric labels are compared by value: ``3``, ``3.0`` and ``"3"`` are the same label.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import ScaleError

ScaleKind = Literal["binary", "nominal", "ordinal", "interval", "pairwise"]
SCALE_KINDS: tuple[str, ...] = ("binary", "nominal", "ordinal", "interval", "pairwise")

#: Raw spellings accepted for the three pairwise levels (compared case-insensitively, stripped).
PAIRWISE_SYNONYMS: dict[str, str] = {
    "a": "A", "model_a": "A", "response_a": "A", "output_a": "A", "output (a)": "A", "[[a]]": "A", "1": "A",
    "b": "B", "model_b": "B", "response_b": "B", "output_b": "B", "output (b)": "B", "[[b]]": "B", "2": "B",
    "tie": "tie", "c": "tie", "[[c]]": "tie", "draw": "tie", "equal": "tie", "0": "tie",
    "tie (bothbad)": "tie", "tie (bothgood)": "tie", "both": "tie", "neither": "tie",
}


def canonical_label(value: Any) -> str | None:
    """Canonical string form of a raw label; ``None`` for missing values.

    Integral numbers lose their decimal part (``3.0`` -> ``"3"``), booleans become ``"true"``/``"false"``,
    strings are stripped.

    >>> canonical_label(3.0), canonical_label(" good "), canonical_label(float("nan")), canonical_label(True)
    ('3', 'good', None, 'true')
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
        return repr(float(value))
    s = str(value).strip()
    if s == "" or s.lower() in {"nan", "none", "null", "<na>"}:
        return None
    try:
        f = float(s)
    except ValueError:
        return s
    if math.isfinite(f) and f.is_integer() and not s.lower().startswith(("inf", "nan")):
        return str(int(f))
    return repr(f) if math.isfinite(f) else s


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Scale:
    """A declared label scale.

    Parameters
    ----------
    kind : {"binary", "nominal", "ordinal", "interval", "pairwise"}
    levels : sequence, optional
        The levels in their declared order. Required for ordinal scales unless ``minimum`` and ``maximum``
        are integers (then ``minimum..maximum``). For pairwise scales ``("A", "tie", "B")`` or ``("A", "B")``.
    positive : optional
        The positive class of a binary scale (default: the second level).
    ties : bool
        Whether a pairwise scale has a tie level.
    minimum, maximum : float, optional
        Range of an interval scale; values outside are counted as out of scale.
    synonyms : mapping, optional
        Extra raw spellings mapped to a level (case-insensitive), e.g. ``{"yes": "pass"}``.

    Examples
    --------
    >>> s = Scale("ordinal", levels=["poor", "fair", "good", "great"])
    >>> s.encode(["good", "poor", "excellent", None]).tolist()
    [2.0, 0.0, nan, nan]
    """

    kind: str
    levels: tuple[str, ...] | None = None
    positive: str | None = None
    ties: bool = True
    minimum: float | None = None
    maximum: float | None = None
    synonyms: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in SCALE_KINDS:
            raise ScaleError(
                f"unknown scale kind {self.kind!r}; expected one of {', '.join(SCALE_KINDS)}. "
                "Set scale.kind in the config."
            )
        levels = self.levels
        if self.kind == "pairwise":
            if levels is None:
                levels = ("A", "tie", "B") if self.ties else ("A", "B")
            else:
                levels = tuple(canonical_label(v) or "" for v in levels)
        elif levels is not None:
            levels = tuple(canonical_label(v) or "" for v in levels)
            if len(set(levels)) != len(levels) or "" in levels:
                raise ScaleError(f"scale levels {list(self.levels or [])} contain duplicates or empty values; "
                                 "list each level once, in order.")
        elif self.kind == "ordinal":
            if (self.minimum is not None and self.maximum is not None
                    and float(self.minimum).is_integer() and float(self.maximum).is_integer()):
                levels = tuple(str(i) for i in range(int(self.minimum), int(self.maximum) + 1))
            else:
                raise ScaleError(
                    "an ordinal scale needs a declared order, and none was given: metajudge never infers the "
                    "order by sorting labels (alphabetical order is not the scale order). Declare it, e.g. "
                    "scale: {kind: ordinal, levels: [poor, fair, good, great]} or, for integer scores, "
                    "scale: {kind: ordinal, minimum: 1, maximum: 5}."
                )
        if self.kind == "binary" and levels is not None and len(levels) != 2:
            raise ScaleError(f"a binary scale has exactly 2 levels; got {len(levels)}: {list(levels)}. "
                             "Use kind: nominal for more categories.")
        object.__setattr__(self, "levels", levels)
        syn = {str(k).strip().lower(): canonical_label(v) for k, v in dict(self.synonyms).items()}
        object.__setattr__(self, "synonyms", syn)
        if self.positive is not None:
            pos = canonical_label(self.positive)
            if levels is not None and pos not in levels:
                raise ScaleError(f"positive class {self.positive!r} is not one of the levels {list(levels)}.")
            object.__setattr__(self, "positive", pos)

    # ------------------------------------------------------------------ properties
    @property
    def categorical(self) -> bool:
        return self.kind != "interval"

    @property
    def ordered(self) -> bool:
        return self.kind in ("ordinal", "interval", "binary", "pairwise")

    @property
    def n_levels(self) -> int:
        if self.levels is None:
            raise ScaleError(f"the {self.kind} scale has no levels yet; declare scale.levels.")
        return len(self.levels)

    @property
    def positive_index(self) -> int:
        if self.levels is None:
            raise ScaleError("the binary scale has no levels yet; declare scale.levels.")
        return self.levels.index(self.positive) if self.positive is not None else 1

    def level_values(self) -> np.ndarray:
        """Numeric value of each level: the number itself when every level is numeric, else its rank."""
        assert self.levels is not None
        if all(_is_number(v) for v in self.levels):
            return np.array([float(v) for v in self.levels])
        return np.arange(len(self.levels), dtype=float)

    # ------------------------------------------------------------------ encoding
    def with_levels_from(self, labels: Iterable[Any]) -> Scale:
        """Return a scale whose levels are completed from data (nominal and binary scales only).

        Numeric labels are ordered by value; other labels keep their order of first appearance.
        Raises :class:`ScaleError` for ordinal scales (the order must be declared).
        """
        if self.levels is not None or self.kind == "interval":
            return self
        seen: dict[str, None] = {}
        for v in labels:
            c = canonical_label(v)
            if c is not None:
                seen.setdefault(self.synonyms.get(c.lower(), c), None)
        found = list(seen)
        if all(_is_number(v) for v in found):
            found.sort(key=float)
        elif set(found) <= {"true", "false"}:
            found = ["false", "true"]
        if (self.kind == "binary" and self.positive is None and len(found) == 2
                and not all(_is_number(v) for v in found) and found != ["false", "true"]):
            raise ScaleError(
                f"the binary labels {found} have no natural positive class, and which one is positive changes "
                "precision, recall and F1. Declare it: scale: {kind: binary, levels: [" + ", ".join(sorted(found))
                + "], positive: " + sorted(found)[-1] + "} (or whichever label is positive)."
            )
        if self.kind == "binary" and len(found) != 2:
            raise ScaleError(
                f"a binary scale needs exactly 2 labels but the data hold {len(found)}: {found[:10]}. "
                "Declare scale.levels (e.g. [fail, pass]) and map other spellings with scale.synonyms."
            )
        return Scale(self.kind, tuple(found), self.positive, self.ties, self.minimum, self.maximum,
                     dict(self.synonyms))

    def encode(self, labels: Iterable[Any] | pd.Series | np.ndarray) -> np.ndarray:
        """Codes of raw labels: level index (float) for categorical scales, the value for interval scales.

        Missing labels and labels outside the scale both give NaN; use :meth:`classify` to tell them apart.
        """
        codes, _ = self.classify(labels)
        return codes

    def classify(self, labels: Iterable[Any] | pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(codes, out_of_scale)``: codes as in :meth:`encode`, and a boolean mask of labels that
        are present but not on the scale."""
        if isinstance(labels, (pd.Series, np.ndarray, pd.Index)) and len(labels) > 256:
            # dictionary encoding: classify each distinct label once (judge logs repeat a few labels)
            inv, uniq = pd.factorize(pd.Series(np.asarray(labels, dtype=object) if isinstance(labels, np.ndarray)
                                               else labels), use_na_sentinel=True)
            if len(uniq) < len(inv) // 2:
                ucodes, ubad = self.classify(list(uniq))
                codes = np.where(inv >= 0, ucodes[np.maximum(inv, 0)], np.nan)
                return codes, np.where(inv >= 0, ubad[np.maximum(inv, 0)], False)
        values = list(labels.tolist() if isinstance(labels, (pd.Series, np.ndarray, pd.Index)) else labels)
        n = len(values)
        codes = np.full(n, np.nan)
        bad = np.zeros(n, dtype=bool)
        if self.kind == "interval":
            for i, v in enumerate(values):
                c = canonical_label(v)
                if c is None:
                    continue
                c = self.synonyms.get(c.lower(), c)
                try:
                    f = float(c)
                except ValueError:
                    bad[i] = True
                    continue
                if not math.isfinite(f) or (self.minimum is not None and f < self.minimum) or (
                        self.maximum is not None and f > self.maximum):
                    bad[i] = True
                    continue
                codes[i] = f
            return codes, bad
        if self.levels is None:
            raise ScaleError(f"the {self.kind} scale has no levels; declare scale.levels.")
        index = {lv: k for k, lv in enumerate(self.levels)}
        lower = {lv.lower(): k for k, lv in enumerate(self.levels)}
        cache: dict[str, float] = {}
        for i, v in enumerate(values):
            c = canonical_label(v)
            if c is None:
                continue
            if c in cache:
                code = cache[c]
            else:
                key = c.lower()
                target = self.synonyms.get(key)
                if target is None and self.kind == "pairwise":
                    target = PAIRWISE_SYNONYMS.get(key)
                if target is not None:
                    code = float(index.get(target, lower.get(target.lower(), np.nan)))
                elif c in index:
                    code = float(index[c])
                else:
                    code = float(lower.get(key, np.nan))
                cache[c] = code
            if math.isnan(code):
                bad[i] = True
            else:
                codes[i] = code
        return codes, bad

    def decode(self, codes: Sequence[float] | np.ndarray) -> list[str | None]:
        """Inverse of :meth:`encode` for categorical scales."""
        assert self.levels is not None
        return [None if (c is None or (isinstance(c, float) and math.isnan(c))) else self.levels[int(c)]
                for c in codes]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "levels": list(self.levels) if self.levels else None,
                "positive": self.positive, "ties": self.ties, "minimum": self.minimum, "maximum": self.maximum}
