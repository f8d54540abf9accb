"""Verdict extraction: pull a label out of raw judge text with a named preset or a user regex.

Every extractor follows one rule for several matches in one text: when every match gives the same verdict,
that is the verdict; when the matches disagree (``[[A]]`` and ``[[B]]`` both present) the output is
unparseable with reason ``"ambiguous"``. No match gives reason ``"no match"``. A missing or blank text gives
no label and reason ``"missing"``: a missing output is counted apart from an unparseable one.

Pairwise presets return the verdict **as the judge wrote it**: with ``mt-bench``, ``A`` means the response
shown first. Whether that refers to the shown slot or to the item's own A is declared per judge with
``order_frame`` in the configuration.

Examples
--------
>>> import pandas as pd
>>> extract_verdicts(pd.Series(["Clearly better. [[A]]", "[[A]] vs [[B]]", "no verdict", None]), "mt-bench")
  label     reason
0     A
1  None  ambiguous
2  None   no match
3  None    missing
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from .config import ExtractConfig

__all__ = ["PRESETS", "REASONS", "Extractor", "compile_user_regex", "extract_verdicts", "make_extractor"]

#: Values of the ``reason`` column: "" (parsed), "no match", "ambiguous", "missing".
REASONS: tuple[str, ...] = ("", "no match", "ambiguous", "missing")

_FLAG_BITS: dict[str, int] = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


@dataclass(frozen=True)
class Extractor:
    """A verdict extractor: one or more regular expressions and a normalisation of the captured text.

    Parameters
    ----------
    name : str
        Preset name, or ``"regex"`` for a user expression.
    patterns : tuple of compiled patterns
        Each has one capture group, or a group named ``verdict``. Matches of all patterns are pooled.
    description : str
        What the extractor recognises (shown in error messages and docs).
    normalize : callable, optional
        Captured text -> verdict; may return ``None`` to discard a match.
    mapping : mapping, optional
        Verdict -> label, applied after ``normalize``; looked up exactly, then case-insensitively.
        Verdicts not in the mapping are kept unchanged.
    """

    name: str
    patterns: tuple[re.Pattern[str], ...]
    description: str
    normalize: Callable[[str], str | None] | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, texts: pd.Series | list[Any] | np.ndarray) -> pd.DataFrame:
        """Extract verdicts from ``texts``; see :func:`extract_verdicts`."""
        return _run(texts, self)

    def with_mapping(self, mapping: Mapping[str, str]) -> Extractor:
        """A copy of this extractor with ``mapping`` applied to its verdicts."""
        return Extractor(self.name, self.patterns, self.description, self.normalize, dict(mapping))


# ---------------------------------------------------------------------------------------------- presets


def _pairwise_letter(captured: str) -> str:
    c = captured.strip().upper()
    return {"A": "A", "B": "B", "C": "tie"}.get(c, c)


def _number(captured: str) -> str:
    return captured.strip()


_ARENA_A = {"A>>B", "A>B", "B<A", "B<<A"}
_ARENA_B = {"B>>A", "B>A", "A<B", "A<<B"}
_ARENA_TIE = {"A=B", "B=A", "A==B", "B==A"}


def _arena(captured: str) -> str | None:
    c = re.sub(r"\s+", "", captured).upper()
    if c in _ARENA_A:
        return "A"
    if c in _ARENA_B:
        return "B"
    if c in _ARENA_TIE:
        return "tie"
    return None


_NUM = r"[-+]?\d+(?:\.\d+)?"


def _ci(word: str) -> str:
    """Case-insensitive spelling of a literal as character classes (``[Rr][Aa]...``).

    Python's ``re`` is several times slower with ``re.IGNORECASE`` on long texts; character classes keep
    the fast literal scan.
    """
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


PRESETS: dict[str, Extractor] = {
    "mt-bench": Extractor(
        "mt-bench",
        (re.compile(r"\[\[\s*([ABCabc])\s*\]\]"),),
        "MT-Bench pairwise verdict [[A]] / [[B]] / [[C]] (C = tie) -> 'A' / 'B' / 'tie'. The letters name the "
        "shown slots (A = response shown first).",
        _pairwise_letter,
    ),
    "rating": Extractor(
        "rating",
        (re.compile(_ci("rating") + r"\s*[:=]?\s*\[*\s*(" + _NUM + r")\s*\]*"),
         re.compile(r"\[\[\s*(" + _NUM + r")\s*\]\]")),
        "A score after 'Rating:' or in double brackets: 'Rating: 7', 'Rating: [[7]]', '[[7.5]]', "
        "'rating: 7.5' -> '7' / '7.5' (case-insensitive; the number as written).",
        _number,
    ),
    "output-ab": Extractor(
        "output-ab",
        (re.compile(r"^\W*" + _ci("output") + r"\s*\(\s*([ABab])\s*\)\W*$"),
         re.compile(_ci("output") + r"\s*\(\s*([ABab])\s*\)\s*is\s+(?:[Tt]he\s+)?[Bb]etter")),
        "LLMBar verdict: the whole answer 'Output (a)' / 'Output (b)', or a statement 'Output (a) is better' "
        "(also 'is the better output') -> 'A' / 'B' (shown slots). Mentions of an output elsewhere in a "
        "rationale are not verdicts.",
        lambda c: c.strip().upper(),
    ),
    "arena-hard": Extractor(
        "arena-hard",
        (re.compile(r"\[\[\s*([ABab]\s*(?:>>|>|==|=|<<|<)\s*[ABab])\s*\]\]"),),
        "Arena-Hard / JudgeBench verdict [[A>>B]], [[A>B]], [[A=B]], [[B>A]], [[B>>A]] -> 'A' / 'tie' / 'B' "
        "(strength collapsed; shown slots).",
        _arena,
    ),
    "score": Extractor(
        "score",
        (re.compile(r"^\s*(" + _NUM + r")\s*$"),),
        "The whole (stripped) text is a bare number: '8', ' 4.5 ' -> '8' / '4.5'.",
        _number,
    ),
    "yes-no": Extractor(
        "yes-no",
        (re.compile(r"^\W*(" + _ci("yes") + "|" + _ci("no") + r")\b"),),
        "The answer starts with yes / no (any case, leading punctuation ignored) -> 'yes' / 'no'.",
        lambda c: c.lower(),
    ),
}


def compile_user_regex(regex: str, flags: str = "") -> re.Pattern[str]:
    """Compile a user regex with flags given as letters (``i``, ``m``, ``s``, ``x``).

    Raises
    ------
    ValueError
        Unknown flag letter, invalid expression, or not exactly one capture group (a group named
        ``verdict`` is also accepted when there are several).
    """
    bits = 0
    for letter in flags:
        if letter not in _FLAG_BITS:
            raise ValueError(f"unknown regex flag {letter!r} in extract.flags {flags!r}; use any of "
                             "i (ignore case), m (multiline), s (dot matches newline), x (verbose).")
        bits |= _FLAG_BITS[letter]
    try:
        pattern = re.compile(regex, bits)
    except re.error as exc:
        raise ValueError(f"extract.regex {regex!r} is not a valid regular expression: {exc}.") from None
    if pattern.groups != 1 and "verdict" not in pattern.groupindex:
        raise ValueError(f"extract.regex {regex!r} has {pattern.groups} capture groups; it needs exactly one "
                         "(the verdict), or a group named verdict: (?P<verdict>...). Make other groups "
                         "non-capturing with (?:...).")
    return pattern


def make_extractor(spec: str | ExtractConfig | Mapping[str, Any] | Extractor) -> Extractor:
    """Build an :class:`Extractor` from a preset name, an ``ExtractConfig`` or an equivalent mapping.

    Raises
    ------
    ConfigError
        Unknown preset (listing the presets) or invalid regex / mapping.
    """
    if isinstance(spec, Extractor):
        return spec
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise ConfigError(_unknown_preset(spec))
        return PRESETS[spec]
    from pydantic import ValidationError

    from .config import ExtractConfig, _format_validation_error

    if isinstance(spec, Mapping):
        try:
            spec = ExtractConfig.model_validate(dict(spec))
        except ValidationError as exc:
            raise _format_validation_error(exc, "extract specification", root=ExtractConfig,
                                               prefix="extract") from None
    if not isinstance(spec, ExtractConfig):
        raise ConfigError(f"extract must be a preset name, a mapping {{regex: ..., map: ...}} or an "
                          f"ExtractConfig; found {type(spec).__name__}.")
    if spec.preset is not None:
        if spec.preset not in PRESETS:
            raise ConfigError(_unknown_preset(spec.preset))
        base = PRESETS[spec.preset]
        return base.with_mapping(spec.map) if spec.map else base
    if spec.regex is None:  # pragma: no cover - ExtractConfig validation prevents it
        raise ConfigError("extract needs preset or regex.")
    try:
        pattern = compile_user_regex(spec.regex, spec.flags)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return Extractor("regex", (pattern,), f"user regex {spec.regex!r}", None, dict(spec.map))


def _unknown_preset(name: str) -> str:
    lines = "; ".join(f"{k}: {v.description.split('.')[0]}" for k, v in PRESETS.items())
    return (f"unknown extract preset {name!r}. The presets are {lines}. Set extract to one of "
            f"{', '.join(PRESETS)}, or to {{regex: '...', map: {{...}}}}.")


# ---------------------------------------------------------------------------------------------- running


def _as_text(value: Any) -> str | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bytes):
        text = value.decode("utf-8", errors="replace")
        return text if text.strip() else None
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value)


def _run(texts: pd.Series | list[Any] | np.ndarray, ex: Extractor) -> pd.DataFrame:
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    values = [_as_text(v) for v in series.astype(object).tolist()]
    n = len(values)
    label = np.full(n, None, dtype=object)
    reason = np.full(n, "no match", dtype=object)
    lookup: dict[str, str | None] = {}
    finders = [(p.findall if p.groups == 1 else _group_finder(p)) for p in ex.patterns]
    for i, text in enumerate(values):
        if text is None:
            reason[i] = "missing"
            continue
        found: set[str] = set()
        for find in finders:
            for cap in find(text):
                if not cap:
                    continue
                verdict = lookup.get(cap, _UNSEEN)
                if verdict is _UNSEEN:
                    verdict = lookup[cap] = _finish(cap, ex)
                if verdict is not None:
                    found.add(verdict)
        if len(found) == 1:
            label[i] = found.pop()
            reason[i] = ""
        elif found:
            reason[i] = "ambiguous"
    return pd.DataFrame({"label": pd.Series(label, index=series.index, dtype=object),
                         "reason": pd.Series(reason, index=series.index, dtype=object)})


_UNSEEN: Any = object()


def _group_finder(pattern: re.Pattern[str]) -> Callable[[str], list[str]]:
    group: int | str = "verdict" if "verdict" in pattern.groupindex else 1

    def find(text: str) -> list[str]:
        return [m.group(group) for m in pattern.finditer(text)]

    return find


def _finish(captured: str, ex: Extractor) -> str | None:
    verdict = ex.normalize(captured) if ex.normalize is not None else captured.strip()
    if verdict is None:
        return None
    if ex.mapping:
        if verdict in ex.mapping:
            return ex.mapping[verdict]
        folded = {str(k).strip().casefold(): v for k, v in ex.mapping.items()}
        return folded.get(verdict.strip().casefold(), verdict)
    return verdict


def extract_verdicts(texts: pd.Series | list[Any] | np.ndarray,
                     spec: str | ExtractConfig | Mapping[str, Any] | Extractor) -> pd.DataFrame:
    """Extract a verdict from each raw judge output.

    Parameters
    ----------
    texts : Series or sequence
        Raw judge outputs; ``None`` / NaN / blank entries are missing outputs.
    spec : str, ExtractConfig, mapping or Extractor
        A preset name from :data:`PRESETS`, or ``{"regex": ..., "map": {...}, "flags": "i"}``, or
        ``{"preset": ..., "map": {...}}``.

    Returns
    -------
    DataFrame
        Same index as ``texts``, columns ``label`` (object; ``None`` when no verdict) and ``reason``
        (``""``, ``"no match"``, ``"ambiguous"`` or ``"missing"``).

    Raises
    ------
    ConfigError
        Unknown preset or invalid regex.

    Examples
    --------
    >>> extract_verdicts(["Rating: [[7]]", "rating: 7.5 ... Rating: 3"], "rating")["label"].tolist()
    ['7', None]
    >>> extract_verdicts(["Verdict: good", "VERDICT: Bad"],
    ...                  {"regex": r"verdict:\\s*(\\w+)", "flags": "i", "map": {"good": "pass", "bad": "fail"}}
    ...                  )["label"].tolist()
    ['pass', 'fail']
    """
    return make_extractor(spec)(texts)
