"""The run configuration: pydantic models, loading from YAML / TOML, CLI overrides.

A configuration names the label scale, the gold set (human labels) and one or more judges (LLM outputs),
and how to read each of them. Every model forbids unknown keys, so a typo such as ``colums:`` is an error
with a suggestion, never silently ignored.

Example (YAML)::

    task: pairwise
    scale: {kind: pairwise, ties: true}
    gold:
      path: data/human_votes.jsonl
      columns: {item: question_id, rater: annotator, label: winner}
    judges:
      - name: gpt-judge
        path: runs/gpt_judge.jsonl
        columns: {item: question_id, text: judgment, order: shown_order}
        extract: mt-bench
    bootstrap: {n_resamples: 2000, confidence_level: 0.95, seed: 0}

Relative paths are resolved against the folder of the configuration file (:meth:`Config.resolve_path`).

YAML is read with YAML 1.2 booleans: only ``true`` / ``false`` are booleans, so labels such as ``yes``,
``no``, ``on`` and ``off`` stay strings (PyYAML's default YAML 1.1 rules would turn them into booleans).
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError
from .extract import PRESETS, compile_user_regex
from .scales import Scale

__all__ = [
    "BootstrapConfig",
    "Config",
    "ExtractConfig",
    "FallbackConfig",
    "GoldColumns",
    "GoldConfig",
    "JudgeColumns",
    "JudgeConfig",
    "ScaleConfig",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "load_config",
]

Format = Literal["auto", "csv", "tsv", "json", "jsonl", "parquet", "hf"]
LabelValue = str | int | float | bool

_FORBID = ConfigDict(extra="forbid")


def _str_key_value_map(value: Any) -> Any:
    """Coerce the keys and values of a mapping to strings (YAML turns ``1: good`` into an int key)."""
    if isinstance(value, Mapping):
        return {_scalar_to_str(k): _scalar_to_str(v) for k, v in value.items()}
    return value


def _scalar_to_str(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


# ---------------------------------------------------------------------------------------------- scale


class ScaleConfig(BaseModel):
    """The declared label scale (see :class:`metajudge.scales.Scale`).

    Attributes
    ----------
    kind : {"binary", "nominal", "ordinal", "interval", "pairwise"}
    levels : list, optional
        Levels in their declared order. Ordinal scales need them (or integer ``minimum``/``maximum``).
    positive : optional
        Positive class of a binary scale.
    ties : bool
        Whether a pairwise scale has a tie level.
    minimum, maximum : float, optional
        Range of an interval scale, or the integer range of an ordinal score scale.
    synonyms : dict
        Extra raw spellings mapped to a level, e.g. ``{"yes": "pass"}``.
    """

    model_config = _FORBID

    kind: Literal["binary", "nominal", "ordinal", "interval", "pairwise"]
    levels: list[LabelValue] | None = None
    positive: LabelValue | None = None
    ties: bool = True
    minimum: float | None = None
    maximum: float | None = None
    synonyms: dict[str, str] = Field(default_factory=dict)

    @field_validator("synonyms", mode="before")
    @classmethod
    def _coerce_synonyms(cls, value: Any) -> Any:
        return _str_key_value_map(value)

    @model_validator(mode="after")
    def _check_range(self) -> ScaleConfig:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"scale.minimum ({self.minimum}) is larger than scale.maximum ({self.maximum}); "
                             "swap them.")
        return self

    def to_scale(self) -> Scale:
        """Build the :class:`~metajudge.scales.Scale`.

        Raises
        ------
        ScaleError
            For an ordinal scale without declared order, duplicate levels, or a positive class that is not
            a level (raised by :class:`~metajudge.scales.Scale`).
        """
        return Scale(
            self.kind,
            levels=tuple(self.levels) if self.levels is not None else None,  # type: ignore[arg-type]
            positive=self.positive,  # type: ignore[arg-type]
            ties=self.ties,
            minimum=self.minimum,
            maximum=self.maximum,
            synonyms=dict(self.synonyms),
        )


# ---------------------------------------------------------------------------------------------- columns


class GoldColumns(BaseModel):
    """Column names in the gold file.

    ``rater`` may be ``None`` (one implicit rater called ``"gold"``). ``rater`` and ``label`` are ignored in
    the wide layout, where the annotator columns are listed in ``gold.raters``.
    """

    model_config = _FORBID

    item: str | list[str] = "item_id"
    rater: str | None = "rater"
    label: str | None = "label"
    system: str | None = None
    generator_a: str | None = None
    generator_b: str | None = None
    text_a: str | None = None
    text_b: str | None = None
    length_a: str | None = None
    length_b: str | None = None
    group: str | None = None
    order: str | None = None


class JudgeColumns(BaseModel):
    """Column names in a judge file.

    Set at most one of ``label`` (the verdict as a value) and ``text`` (raw judge output, from which
    ``extract`` pulls the verdict). Decision: when neither is set and the judge has no ``extract``, the
    verdict is read from a column called ``"label"``; when neither is set and ``extract`` is given, that is an
    error (metajudge does not guess which column holds the raw text). See :attr:`JudgeConfig.verdict_column`.

    ``order`` holds the shown order of a pairwise item (``AB`` / ``BA`` and synonyms), ``repeat`` the repetition
    index when the same item was judged several times.
    """

    model_config = _FORBID

    item: str | list[str] = "item_id"
    label: str | None = None
    text: str | None = None
    order: str | None = None
    repeat: str | None = None
    system: str | None = None
    generator_a: str | None = None
    generator_b: str | None = None
    text_a: str | None = None
    text_b: str | None = None
    length_a: str | None = None
    length_b: str | None = None

    @model_validator(mode="after")
    def _one_verdict_source(self) -> JudgeColumns:
        if self.label is not None and self.text is not None:
            raise ValueError(
                f"both columns.label ({self.label!r}) and columns.text ({self.text!r}) are set; set only one: "
                "label for a column that already holds the verdict, text for raw judge output to extract "
                "the verdict from (with extract:)."
            )
        return self


# ---------------------------------------------------------------------------------------------- extract


class ExtractConfig(BaseModel):
    """How to extract a verdict from raw judge text: a named preset or a user regular expression.

    Attributes
    ----------
    preset : str, optional
        One of :data:`metajudge.extract.PRESETS` (``mt-bench``, ``rating``, ``output-ab``, ...).
    regex : str, optional
        A regular expression with one capture group (or a group named ``verdict``) holding the verdict.
    map : dict
        Captured text -> label (e.g. ``{"1": "A", "2": "B"}``); matched exactly, then case-insensitively.
        Captures not in the map are kept as captured (the scale then counts them as out of scale).
    flags : str
        Regex flags: any of ``i`` (ignore case), ``m`` (multiline), ``s`` (dot matches newline),
        ``x`` (verbose).
    """

    model_config = _FORBID

    preset: str | None = None
    regex: str | None = None
    map: dict[str, str] = Field(default_factory=dict)
    flags: str = ""

    @field_validator("map", mode="before")
    @classmethod
    def _coerce_map(cls, value: Any) -> Any:
        return _str_key_value_map(value)

    @model_validator(mode="after")
    def _check(self) -> ExtractConfig:
        if (self.preset is None) == (self.regex is None):
            raise ValueError("set exactly one of extract.preset (a named preset: "
                             f"{', '.join(sorted(PRESETS))}) and extract.regex (a regular expression with one "
                             "capture group).")
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(_unknown_preset_message(self.preset))
        if self.regex is not None or self.flags:
            compile_user_regex(self.regex or "(x)", self.flags)  # raises ValueError with a readable message
        return self


def _unknown_preset_message(name: str) -> str:
    close = difflib.get_close_matches(name, list(PRESETS), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (f"unknown extract preset {name!r}; the presets are: {', '.join(sorted(PRESETS))}.{hint} "
            "Or give a regular expression: extract: {regex: '...', map: {...}}.")


def _extract_tag(value: Any) -> str:
    return "preset" if isinstance(value, str) else "ExtractConfig"


ExtractSpec = Annotated[
    Annotated[str, Tag("preset")] | Annotated[ExtractConfig, Tag("ExtractConfig")],
    Discriminator(_extract_tag),
]


class FallbackConfig(BaseModel):
    """Score unparseable judge output as the named label (``unparseable: {fallback: tie}``).

    There is no default: the label must be named explicitly (metajudge never imputes 0 or -1).
    """

    model_config = _FORBID

    fallback: LabelValue


def _unparseable_tag(value: Any) -> str:
    return "exclude" if isinstance(value, str) else "FallbackConfig"


UnparseableSpec = Annotated[
    Annotated[Literal["exclude"], Tag("exclude")] | Annotated[FallbackConfig, Tag("FallbackConfig")],
    Discriminator(_unparseable_tag),
]


# ---------------------------------------------------------------------------------------------- sources


def _check_source(path: str | None, dataset: str | None, fmt: str, where: str) -> None:
    if path is not None and dataset is not None:
        raise ValueError(f"both {where}.path ({path!r}) and {where}.dataset ({dataset!r}) are set; set only one: "
                         "path for a local file or save_to_disk folder, dataset for a Hugging Face hub name.")
    if dataset is not None and fmt not in ("auto", "hf"):
        raise ValueError(f"{where}.dataset is a Hugging Face hub name, so {where}.format must be 'hf' or "
                         f"'auto'; found {fmt!r}.")


class GoldConfig(BaseModel):
    """Where the gold set (human labels) is and how to read it.

    ``path`` (a file or a ``save_to_disk`` folder) or ``dataset`` (a Hugging Face hub name); neither is
    allowed here because the Python API may pass the data directly, and :func:`metajudge.io.load_gold` then
    complains if no data arrives. ``layout: wide`` means one column per annotator, listed in ``raters``.
    ``aggregate`` (majority / median / mean) combines several humans into one reference; ``None`` means the
    default for the scale.
    """

    model_config = _FORBID

    path: str | None = None
    dataset: str | None = None
    format: Format = "auto"
    split: str | None = None
    layout: Literal["long", "wide"] = "long"
    columns: GoldColumns = Field(default_factory=GoldColumns)
    raters: list[str] | None = None
    aggregate: Literal["majority", "median", "mean"] | None = None
    slices: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> GoldConfig:
        _check_source(self.path, self.dataset, self.format, "gold")
        if self.layout == "wide":
            if not self.raters:
                raise ValueError("gold.layout is 'wide' but gold.raters is not set; list the annotator columns, "
                                 "e.g. raters: [annotator_1, annotator_2].")
            if len(set(self.raters)) != len(self.raters):
                raise ValueError(f"gold.raters lists a column more than once: {self.raters}.")
        elif self.raters is not None:
            raise ValueError("gold.raters only applies to layout: wide (one column per annotator); for the long "
                             "layout set gold.columns.rater instead, or set gold.layout: wide.")
        return self


class JudgeConfig(BaseModel):
    """One judge: where its outputs are, how to read them and how to extract verdicts.

    Attributes
    ----------
    name : str
        Unique judge name (used as its rater id and in every table).
    path, dataset, format, split :
        As in :class:`GoldConfig`.
    columns : JudgeColumns
    extract : str or ExtractConfig, optional
        Preset name or extraction spec; applied to ``columns.text`` (or to ``columns.label`` if that is set).
    order_frame : {"item", "shown"}
        Pairwise only: whether the verdict names the shown slots (``shown``: A = first shown) or is already
        mapped back to the item's own A / B (``item``).
    unparseable : "exclude" or FallbackConfig
        What to do with output from which no verdict could be extracted: leave it out (counted), or score it
        as the named ``fallback`` label (counted too).
    slices : list of str
        Slice columns read from this judge's file.
    """

    model_config = _FORBID

    name: str = Field(min_length=1)
    path: str | None = None
    dataset: str | None = None
    format: Format = "auto"
    split: str | None = None
    columns: JudgeColumns = Field(default_factory=JudgeColumns)
    extract: ExtractSpec | None = None
    order_frame: Literal["shown", "item"] = "item"
    unparseable: UnparseableSpec = "exclude"
    slices: list[str] = Field(default_factory=list)

    @field_validator("extract")
    @classmethod
    def _known_preset(cls, value: str | ExtractConfig | None) -> str | ExtractConfig | None:
        if isinstance(value, str) and value not in PRESETS:
            raise ValueError(_unknown_preset_message(value))
        return value

    @model_validator(mode="after")
    def _check(self) -> JudgeConfig:
        _check_source(self.path, self.dataset, self.format, "judge")
        if self.extract is not None and self.columns.label is None and self.columns.text is None:
            raise ValueError(f"judge {self.name!r} has extract: but no column of raw output; set columns.text to "
                             "the column that holds the judge's raw text.")
        if self.extract is None and self.columns.text is not None:
            raise ValueError(f"judge {self.name!r} reads raw text from columns.text ({self.columns.text!r}) but "
                             f"has no extract: set extract to a preset ({', '.join(sorted(PRESETS))}) or to "
                             "{regex: ...}; or, if the column already holds the verdict, use columns.label.")
        return self

    @property
    def verdict_column(self) -> str:
        """The column the verdict (or the raw text to extract it from) is read from."""
        return self.columns.text or self.columns.label or "label"

    @property
    def fallback(self) -> LabelValue | None:
        """The fallback label for unparseable output, or ``None`` when such output is excluded."""
        return self.unparseable.fallback if isinstance(self.unparseable, FallbackConfig) else None


class BootstrapConfig(BaseModel):
    """Bootstrap settings: number of resamples (0 = no intervals), confidence level, seed."""

    model_config = _FORBID

    n_resamples: int = Field(default=1000, ge=0)
    confidence_level: float = Field(default=0.95, gt=0.0, lt=1.0)
    seed: int = 0


PROBE_NAMES: tuple[str, ...] = ("position", "length", "self_preference", "leniency", "system")


class PositionOptions(BaseModel):
    """Options of the position probe. The defaults count missing mirrors and unparseable verdicts apart;
    the alternatives reproduce two published conventions."""

    model_config = _FORBID

    missing_mirror: Literal["exclude", "consistent"] = "exclude"
    both_unparseable: Literal["exclude", "agree"] = "exclude"


class LengthOptions(BaseModel):
    """Options of the length probe: the feature compared between the two responses (or the response)."""

    model_config = _FORBID

    feature: Literal["tokens", "chars"] = "tokens"
    columns: list[str] | None = Field(default=None, min_length=1, max_length=2)
    name: str = "length"


class SelfPreferenceOptions(BaseModel):
    """Judge -> model family, and generator (system) -> model family (default: the generator name)."""

    model_config = _FORBID

    families: dict[str, str] = Field(default_factory=dict)
    generator_families: dict[str, str] = Field(default_factory=dict)


class ProbesConfig(BaseModel):
    """Which bias probes run (default: every probe the data allows) and their options."""

    model_config = _FORBID

    run: list[Literal["position", "length", "self_preference", "leniency", "system"]] | None = None
    position: PositionOptions = Field(default_factory=PositionOptions)
    length: LengthOptions = Field(default_factory=LengthOptions)
    self_preference: SelfPreferenceOptions = Field(default_factory=SelfPreferenceOptions)


class Config(BaseModel):
    """A complete metajudge run configuration.

    ``task`` defaults to ``pairwise`` for a pairwise scale and ``pointwise`` otherwise (filled in on
    validation). Relative paths resolve against :attr:`base_dir` (the configuration file's folder, or the
    current directory for a configuration built in Python).
    """

    model_config = _FORBID

    title: str = "metajudge report"
    task: Literal["pointwise", "pairwise"] | None = None
    scale: ScaleConfig
    gold: GoldConfig
    judges: list[JudgeConfig] = Field(min_length=1)
    bootstrap: BootstrapConfig = Field(default_factory=BootstrapConfig)
    slices: list[str] = Field(default_factory=list)
    metrics: list[str] | None = None
    compare_judges: bool = True
    probes: ProbesConfig = Field(default_factory=ProbesConfig)

    _base_dir: Path | None = PrivateAttr(default=None)
    _source_path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check(self) -> Config:
        names = [j.name for j in self.judges]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"judge names must be unique; repeated: {', '.join(map(repr, dup))}. Rename them "
                             "(judges[i].name).")
        if self.task is None:
            self.task = "pairwise" if self.scale.kind == "pairwise" else "pointwise"
        elif self.task == "pointwise" and self.scale.kind == "pairwise":
            raise ValueError("task is 'pointwise' but scale.kind is 'pairwise'; set task: pairwise (or leave task "
                             "out and it follows the scale).")
        return self

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths resolve against (the config file's folder, else the cwd)."""
        return self._base_dir if self._base_dir is not None else Path.cwd()

    @base_dir.setter
    def base_dir(self, value: str | Path | None) -> None:
        self._base_dir = Path(value).expanduser().resolve() if value is not None else None

    def resolve_path(self, p: str | Path) -> Path:
        """Resolve ``p`` (``~`` expanded) against :attr:`base_dir` unless it is absolute."""
        path = Path(p).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)


# ---------------------------------------------------------------------------------------------- YAML


class _Yaml12Loader(yaml.SafeLoader):
    """Safe loader with YAML 1.2 booleans: only true/false (any case) are booleans."""


_Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _yaml_load(text: str) -> Any:
    return yaml.load(text, Loader=_Yaml12Loader)  # a SafeLoader subclass: no arbitrary objects


# ---------------------------------------------------------------------------------------------- error formatting


def _unwrap(ann: Any) -> list[tuple[Any, str | None]]:
    """Flatten Optional / Union / Annotated into ``(annotation, tag)`` candidates, without NoneType."""
    out: list[tuple[Any, str | None]] = []
    tag: str | None = None
    origin = typing.get_origin(ann)
    if origin is Annotated:
        base, *meta = typing.get_args(ann)
        for m in meta:
            if isinstance(m, Tag):
                tag = m.tag
        inner = _unwrap(base)
        return [(a, t if t is not None else tag) for a, t in inner]
    if origin is Union or origin is types.UnionType:
        for arg in typing.get_args(ann):
            out.extend(_unwrap(arg))
        return out
    if ann is type(None):
        return []
    return [(ann, None)]


def _is_model(a: Any) -> bool:
    return isinstance(a, type) and issubclass(a, BaseModel)


def _type_name(a: Any) -> str:
    origin = typing.get_origin(a)
    if origin is Literal:
        return f"literal[{', '.join(repr(x) for x in typing.get_args(a))}]"
    return getattr(a, "__name__", str(a))


def _step(ann: Any, el: str | int) -> tuple[Any, str | None, bool]:
    """One step of an error location. Returns ``(next_annotation, display_piece, known)``.

    ``display_piece`` is ``None`` for union-branch tags that pydantic puts in locations.
    """
    cands = _unwrap(ann) if ann is not None else []
    if isinstance(el, int):
        for a, _ in cands:
            if typing.get_origin(a) is list:
                return typing.get_args(a)[0], f"[{el}]", True
            if typing.get_origin(a) is dict:
                return typing.get_args(a)[1], f"[{el!r}]", True
        return None, f"[{el}]", False
    for a, _ in cands:
        if _is_model(a) and el in a.model_fields:
            return a.model_fields[el].annotation, f".{el}", True
    for a, tag in cands:
        if el in (tag, _type_name(a)) or (el.startswith(("literal[", "function-", "lax-", "strict-"))):
            return a, None, True
        if el == "[key]":
            return None, None, True
    for a, _ in cands:
        if typing.get_origin(a) is dict:
            return typing.get_args(a)[1], f"[{el!r}]", True
    return None, f".{el}", False


def _walk(loc: tuple[str | int, ...], root: type[BaseModel]) -> tuple[str, Any, Any, Any]:
    """Walk a pydantic error location.

    Returns the display path, the annotation holding the last displayed key (for key suggestions), the
    annotation of that key (before union branches are chosen) and the final annotation.
    """
    ann: Any = root
    parent: Any = root
    field_ann: Any = root
    pieces: list[str] = []
    for el in loc:
        nxt, piece, _ = _step(ann, el)
        if piece is not None:
            parent = ann
            field_ann = nxt
            pieces.append(piece)
        ann = nxt
    path = "".join(pieces).lstrip(".")
    return path, parent, field_ann, ann


def _model_fields_of(ann: Any) -> list[str]:
    for a, _ in _unwrap(ann) if ann is not None else []:
        if _is_model(a):
            return list(a.model_fields)
    return []


def _literal_choices(ann: Any) -> list[Any]:
    choices: list[Any] = []
    for a, _ in _unwrap(ann) if ann is not None else []:
        if typing.get_origin(a) is Literal:
            choices.extend(typing.get_args(a))
    return choices


def _expected_for(ann: Any) -> str:
    """Plain-words description of what a key accepts (for union / literal / mapping errors)."""
    alts: list[str] = []
    for a, _ in _unwrap(ann) if ann is not None else []:
        if typing.get_origin(a) is Literal:
            alts.extend(repr(c) for c in typing.get_args(a))
        elif _is_model(a):
            alts.append(f"a mapping with key(s) {', '.join(a.model_fields)}")
        elif a is str:
            alts.append("text")
        elif typing.get_origin(a) is dict:
            alts.append("a mapping (key: value pairs)")
        else:
            alts.append(_type_name(a))
    if not alts:
        return "a mapping (key: value pairs)"
    if len(alts) == 1:
        return alts[0]
    lead = "one of " if all(a.startswith("'") for a in alts) else ""
    return lead + ", ".join(alts[:-1]) + " or " + alts[-1]


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _problem(err: Mapping[str, Any], root: type[BaseModel]) -> tuple[str, str, str | None]:
    """``(path, text, found)`` for one pydantic error; ``found`` is the offending value's repr, if useful."""
    loc = tuple(err.get("loc", ()))
    path, parent, field_ann, _ = _walk(loc, root)
    etype = err.get("type", "")
    msg = str(err.get("msg", ""))
    found = _short(err.get("input"))
    if etype == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        valid = _model_fields_of(parent)
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return path, f"unknown key; {hint}valid keys here: {', '.join(valid)}", None
    if etype == "missing":
        return path, "required key is missing", None
    if etype in ("literal_error", "model_type", "model_attributes_type", "dict_type"):
        expected = _expected_for(field_ann)
        choices = [str(c) for c in _literal_choices(field_ann)]
        close = difflib.get_close_matches(str(err.get("input")), choices, n=1, cutoff=0.6) if choices else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return path, f"expected {expected}{hint}", found
    if etype == "too_short":
        least = err.get("ctx", {}).get("min_length", 1)
        return path, f"expected at least {least} entr{'y' if least == 1 else 'ies'}", found
    if etype in ("value_error", "assertion_error"):
        return path, msg.removeprefix("Value error, ").removeprefix("Assertion failed, "), None
    if etype == "union_tag_invalid":
        return path, "invalid value", found
    text = msg[:1].lower() + msg[1:]
    return path, text.removeprefix("input should be ").join(("expected ", "")) if text.startswith(
        "input should be ") else text, found


def _format_validation_error(exc: ValidationError, where: str, root: type[BaseModel] | None = None,
                             prefix: str = "") -> ConfigError:
    root = root if root is not None else Config
    merged: dict[str, tuple[list[str], str | None]] = {}
    for err in exc.errors():
        path, text, found = _problem(err, root)
        if prefix:
            path = f"{prefix}.{path}" if path and not path.startswith("[") else prefix + path
        texts, prev = merged.setdefault(path, ([], found))
        if text not in texts:
            texts.append(text)
        if prev is None and found is not None:
            merged[path] = (texts, found)
    problems = []
    for path, (texts, found) in merged.items():
        if len(texts) > 1 and all(t.startswith("expected ") for t in texts):
            body = "expected " + " or ".join(t.removeprefix("expected ").removeprefix("a valid ") for t in texts)
        else:
            body = " or ".join(texts)
        if found is not None:
            body += f"; found {found}"
        problems.append(f"{path}: {body}" if path else body)
    n = len(problems)
    numbered = " ".join(f"({i}) {p}{'' if p.endswith(('.', '?')) else '.'}" for i, p in enumerate(problems, 1))
    noun = "problem" if n == 1 else "problems"
    return ConfigError(f"{where}: invalid configuration, {n} {noun}: {numbered} Fix the key(s) named above "
                       "(dotted path, judges[0] = the first judge) and run again.")


# ---------------------------------------------------------------------------------------------- loading


def config_from_dict(d: Mapping[str, Any], base_dir: str | Path | None = None, *,
                     source: str = "configuration") -> Config:
    """Validate a configuration mapping.

    Parameters
    ----------
    d : mapping
        The configuration, as parsed from YAML / TOML / JSON.
    base_dir : path, optional
        Folder relative paths resolve against (default: the current directory at resolution time).
    source : str
        Name used in error messages (the file name when loading a file).

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        One paragraph listing every problem with its dotted key path.

    Examples
    --------
    >>> cfg = config_from_dict({"scale": {"kind": "binary"}, "gold": {"path": "g.csv"},
    ...                         "judges": [{"name": "j", "path": "j.csv"}]})
    >>> cfg.task, cfg.judges[0].verdict_column
    ('pointwise', 'label')
    """
    if not isinstance(d, Mapping):
        raise ConfigError(f"{source}: the configuration must be a mapping of keys (scale, gold, judges, ...); "
                          f"found {type(d).__name__}.")
    try:
        cfg = Config.model_validate(dict(d))
    except ValidationError as exc:
        raise _format_validation_error(exc, source) from None
    cfg.base_dir = base_dir
    return cfg


def load_config(path: str | Path) -> Config:
    """Read and validate a configuration file (``.yaml`` / ``.yml``, ``.toml`` or ``.json``).

    Relative paths in the file resolve against the file's folder.

    Raises
    ------
    ConfigError
        Missing file, unsupported suffix, syntax error (with its line), or invalid content.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        hint = " (it is a folder)" if p.is_dir() else ""
        raise ConfigError(f"configuration file not found: {p.resolve()}{hint}. The current directory is "
                          f"{Path.cwd()}; pass the path of a .yaml or .toml file.")
    suffix = p.suffix.lower()
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not a UTF-8 text file ({exc.reason} at byte {exc.start}); save it as UTF-8."
                          ) from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot be read ({exc.strerror}).") from None
    if suffix in (".yaml", ".yml"):
        try:
            data = _yaml_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"{p}: YAML syntax error{where}: {problem}. Check the indentation and quoting "
                              "there (quote values that contain ': ' or start with '[' or '{').") from None
    elif suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: TOML syntax error: {exc}. Fix the line named above.") from None
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{p}: JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}."
                              ) from None
    else:
        raise ConfigError(f"{p}: unsupported configuration file type {suffix or '(no suffix)'!r}; use .yaml, "
                          ".yml, .toml or .json.")
    if data is None:
        raise ConfigError(f"{p}: the configuration file is empty; it needs at least scale:, gold: and judges:.")
    cfg = config_from_dict(data, base_dir=p.resolve().parent, source=str(p))
    cfg._source_path = p.resolve()
    return cfg


def config_to_dict(cfg: Config) -> dict[str, Any]:
    """JSON-serialisable dictionary of a configuration (for provenance).

    Every key is present, with defaults filled in (``task`` as inferred). Paths are kept as written;
    ``base_dir`` is not included, so that :func:`config_from_dict` accepts the result back unchanged.

    Examples
    --------
    >>> cfg = config_from_dict({"scale": {"kind": "pairwise"}, "gold": {"path": "g.jsonl"},
    ...                         "judges": [{"name": "j", "path": "j.jsonl"}]})
    >>> d = config_to_dict(cfg)
    >>> d["task"], d["judges"][0]["unparseable"], config_from_dict(d) == cfg
    ('pairwise', 'exclude', True)
    """
    return cfg.model_dump(mode="json")


# ---------------------------------------------------------------------------------------------- overrides

_TOKEN = re.compile(r"\s*(?:\.?([^.\[\]]+)|\[([^\]]*)\])")


def _parse_override_path(key: str) -> list[str | int]:
    tokens: list[str | int] = []
    pos = 0
    key = key.strip()
    while pos < len(key):
        m = _TOKEN.match(key, pos)
        if m is None or m.end() == pos:
            raise ConfigError(f"override {key!r}: cannot parse the key path at position {pos + 1}; use a dotted "
                              "path such as gold.columns.item or judges[0].columns.text.")
        name, index = m.group(1), m.group(2)
        if name is not None:
            tokens.append(int(name) if name.isdigit() else name.strip())
        else:
            index = index.strip().strip("'\"")
            tokens.append(int(index) if index.lstrip("-").isdigit() else index)
        pos = m.end()
    if not tokens:
        raise ConfigError("override with an empty key path; use e.g. gold.columns.item=qid.")
    return tokens


def _allows_only_strings(ann: Any) -> bool:
    cands = [a for a, _ in _unwrap(ann)] if ann is not None else []
    return bool(cands) and all(a is str for a in cands)


def apply_overrides(cfg: Config, overrides: Mapping[str, str]) -> Config:
    """Return a new configuration with dotted-path overrides applied (from CLI flags).

    Parameters
    ----------
    cfg : Config
    overrides : mapping of str to str
        Key path -> value, e.g. ``{"gold.columns.item": "qid", "judges[0].columns.text": "resp",
        "bootstrap.seed": "3"}``. A judge may also be named: ``judges[gpt-judge].extract``. Values are parsed
        as YAML scalars (``3`` -> 3, ``[a, b]`` -> list, ``null`` -> None), except that a key that only
        accepts text keeps the value as written (so ``007`` stays ``"007"``).

    Returns
    -------
    Config
        Re-validated; ``base_dir`` is kept.

    Raises
    ------
    ConfigError
        Unknown key path (with a suggestion), index out of range, or a value that fails validation.

    Examples
    --------
    >>> cfg = config_from_dict({"scale": {"kind": "binary"}, "gold": {"path": "g.csv"},
    ...                         "judges": [{"name": "j", "path": "j.csv"}]})
    >>> apply_overrides(cfg, {"bootstrap.seed": "3", "gold.columns.item": "007"}).gold.columns.item
    '007'
    """
    data = cfg.model_dump(mode="python")
    for key, raw in overrides.items():
        tokens = _parse_override_path(key)
        node: Any = data
        ann: Any = Config
        shown = ""
        for i, tok in enumerate(tokens):
            last = i == len(tokens) - 1
            if isinstance(tok, str) and isinstance(node, list):
                # a judge named in brackets: judges[gpt-judge]
                names = [j.get("name") if isinstance(j, dict) else None for j in node]
                if tok not in names:
                    raise ConfigError(f"override {key!r}: no entry named {tok!r} in {shown or 'the list'}; names: "
                                      f"{', '.join(map(str, names))}.")
                tok = names.index(tok)
            nxt_ann, piece, known = _step(ann, tok)
            here = (shown + (piece or "")).lstrip(".")
            if not known:
                valid = _model_fields_of(ann)
                close = difflib.get_close_matches(str(tok), valid, n=1, cutoff=0.6)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                keys = (f" Valid keys of {shown or 'the top level'}: {', '.join(valid)}." if valid
                        else f" {shown!r} holds a single value, not keys; override it as {shown}=VALUE.")
                raise ConfigError(f"override {key!r}: unknown key {here!r}.{hint}{keys}")
            if isinstance(tok, int):
                if not isinstance(node, list):
                    raise ConfigError(f"override {key!r}: {shown or 'the top level'} is not a list.")
                if not -len(node) <= tok < len(node):
                    raise ConfigError(f"override {key!r}: index {tok} is out of range; {shown} has {len(node)} "
                                      f"entr{'y' if len(node) == 1 else 'ies'} (first is [0]).")
            if last:
                value: Any = raw
                if isinstance(raw, str):
                    try:
                        parsed = _yaml_load(raw) if raw.strip() else raw
                    except yaml.YAMLError:
                        parsed = raw
                    ann_s = str(nxt_ann)
                    text_scalar = (isinstance(parsed, (int, float, bool)) and "str" in ann_s
                                   and not any(t in ann_s for t in ("int", "float", "bool")))
                    value = raw if ((_allows_only_strings(nxt_ann) or text_scalar) and parsed is not None) else parsed
                node[tok] = value
            else:
                child = node[tok]
                if not isinstance(child, (dict, list)):
                    # e.g. extract was a preset name or unset, and a sub-key is overridden
                    child = {}
                    node[tok] = child
                node = child
            ann = nxt_ann
            shown = here
    try:
        new = Config.model_validate(data)
    except ValidationError as exc:
        raise _format_validation_error(exc, "configuration after command-line overrides") from None
    new._base_dir = cfg._base_dir
    new._source_path = cfg._source_path
    return new

