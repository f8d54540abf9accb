"""The gold-set registry: public human-label sets and the adapters that turn their files into an AlignedTable.

An adapter is a function ``load(folder: Path, **options) -> GoldSet`` registered with :func:`register` and a
:class:`GoldSetSpec` describing the set (paper, license, where the data lives, the files it reads). The data
directory is always given by the caller (``data_dir``): either the set's own folder (holding its files) or a
folder that holds it under the spec's ``folder`` name (e.g. ``../shared/realdata`` holding ``llmbar/``).
Nothing is downloaded unless an adapter says so (MT-Bench human judgments may read the hub when online).
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..align import AlignedTable
from ..errors import MetajudgeError

__all__ = ["GoldSetSpec", "GoldSet", "GoldSetError", "register", "registry", "get_spec", "resolve_dir",
           "load_gold_set", "run_gold_set", "card_text", "parse_options", "select_names", "require_files"]


class GoldSetError(MetajudgeError):
    """A gold set that is unknown, or whose files are missing or malformed."""


@dataclass(frozen=True)
class GoldSetSpec:
    """What the registry knows about one public gold set."""

    name: str                       # registry key, e.g. "llmbar"
    title: str
    paper: str                      # citation (authors, year, venue)
    license: str                    # license of the data, not of metajudge
    location: str                   # where the public data lives: repository path or hub dataset id
    folder: str                     # conventional folder name inside a data directory
    files: tuple[str, ...]          # files (or folders) the adapter reads, relative to the set's folder
    task: str                       # what is judged
    scale: str                      # the scale of the labels, in words
    options: Mapping[str, str] = field(default_factory=dict)   # option -> description (with default)
    layout_note: str = ""           # how the staged layout reduces the original release, if it does
    loader: Callable[..., "GoldSet"] | None = None
    hub_id: str = ""                # a Hugging Face dataset id the adapter can load when data_dir is "hub"

    def card_path(self) -> Path | None:
        return _card_file(self.name)


@dataclass
class GoldSet:
    """An adapter's output: the aligned table plus what the run should know about it."""

    name: str
    table: AlignedTable
    title: str
    files: dict[str, str]                       # file (relative to the data folder) -> sha256
    options: dict[str, Any] = field(default_factory=dict)
    metrics: list[str] | None = None            # table metrics suited to the set (None: the scale's default)
    probes: list[str] | None = None             # probes to run (None: every probe the data allows)
    probe_options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    folder: Path | None = None

    @property
    def fingerprint(self) -> str:
        """SHA-256 over the files read (names and hashes), the identity of the gold set in a run's provenance."""
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode("utf-8") + b"\0" + str(self.files[name]).encode("ascii") + b"\0")
        return h.hexdigest()


_REGISTRY: dict[str, GoldSetSpec] = {}
_LOADED = False


def register(spec: GoldSetSpec) -> GoldSetSpec:
    """Add a spec (with its loader) to the registry; returns it."""
    if spec.loader is None:
        raise ValueError(f"gold set {spec.name!r} has no loader")
    _REGISTRY[spec.name] = spec
    return spec


def _ensure_loaded() -> None:
    global _LOADED
    if not _LOADED:
        from . import adapters  # noqa: F401  (registers every adapter)

        _LOADED = True


def registry() -> dict[str, GoldSetSpec]:
    """Every registered gold set, by name (sorted)."""
    _ensure_loaded()
    return dict(sorted(_REGISTRY.items()))


def get_spec(name: str) -> GoldSetSpec:
    reg = registry()
    key = name.strip().lower().replace("-", "_")
    aliases = {s.folder.lower(): s.name for s in reg.values()}
    key = aliases.get(key, key)
    if key not in reg:
        close = difflib.get_close_matches(key, list(reg) + list(aliases), n=1)
        hint = f" Did you mean {aliases.get(close[0], close[0])!r}?" if close else ""
        raise GoldSetError(f"unknown gold set {name!r}.{hint} Known gold sets: {', '.join(reg)} "
                           "(metajudge gold list shows them).")
    return reg[key]


def resolve_dir(spec: GoldSetSpec, data_dir: str | Path | None) -> Path:
    """The folder holding ``spec.files``: ``data_dir`` itself or ``data_dir/spec.folder``."""
    if (data_dir is None or str(data_dir) == "") and spec.hub_id:
        return Path("hub")  # a set published on the Hugging Face hub: loaded by name when online
    if data_dir is None or str(data_dir) == "":
        raise GoldSetError(f"gold set {spec.name!r} needs its data directory: give --data-dir DIR (the folder "
                           f"holding {', '.join(spec.files)}, or a folder holding {spec.folder}/). The data is "
                           f"not bundled with metajudge; it lives at {spec.location}.")
    if str(data_dir) == "hub" and spec.hub_id:
        return Path("hub")
    base = Path(data_dir).expanduser()
    if not base.is_dir():
        raise GoldSetError(f"data directory {str(base)!r} for gold set {spec.name!r} does not exist or is not a "
                           "folder; give the folder that holds the set's files.")
    candidates = [base, base / spec.folder]
    if not spec.files:  # the adapter finds its files itself (several accepted layouts)
        return base / spec.folder if (base / spec.folder).is_dir() else base
    for c in candidates:
        if spec.files and all((c / f).exists() for f in spec.files):
            return c
    c = base / spec.folder if (base / spec.folder).is_dir() else base
    missing = [f for f in spec.files if not (c / f).exists()]
    raise GoldSetError(f"gold set {spec.name!r}: {str(c)!r} lacks {', '.join(missing)}. The adapter reads "
                       f"{', '.join(spec.files)} in the layout documented by its data card (metajudge gold show "
                       f"{spec.name}); get the data from {spec.location} and point --data-dir at its folder.")


def require_files(what: str, folder: Path, files: Sequence[str]) -> None:
    """Raise :class:`GoldSetError` naming the files of ``files`` missing from ``folder`` (for adapters called
    directly with a folder; :func:`load_gold_set` checks this through :func:`resolve_dir`)."""
    missing = [f for f in files if not (Path(folder) / f).exists()]
    if missing:
        raise GoldSetError(f"{what}: {str(folder)!r} lacks {', '.join(missing)}; give the folder holding "
                           f"{', '.join(files)} (the staged layout, see the data card).")


def file_hashes(folder: Path, files: Sequence[str]) -> dict[str, str]:
    from ..io import sha256_of

    return {f: str(sha256_of(folder / f)) for f in files}


def parse_options(spec: GoldSetSpec, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check option names against the spec (values are checked by the adapter)."""
    out = dict(options or {})
    unknown = [k for k in out if k not in spec.options]
    if unknown:
        known = ", ".join(f"{k} ({v})" for k, v in spec.options.items()) or "none"
        raise GoldSetError(f"gold set {spec.name!r} has no option {', '.join(map(repr, unknown))}; its options: "
                           f"{known}.")
    return out


def select_names(available: Sequence[str], wanted: str | Sequence[str], *, option: str, what: str) -> list[str]:
    """Resolve an option naming a subset of ``available``: ``"all"``, a comma-separated string or a list.
    Unknown names raise :class:`GoldSetError` with a "did you mean" hint and the valid names.

    >>> select_names(["a", "bb"], "bb, a", option="runs", what="a run")
    ['bb', 'a']
    """
    if isinstance(wanted, str):
        if wanted.strip().lower() == "all":
            return list(available)
        names = [w.strip() for w in wanted.split(",") if w.strip()]
    else:
        names = [str(w).strip() for w in wanted]
    unknown = [w for w in names if w not in available]
    if unknown or not names:
        hints = []
        for w in unknown:
            close = difflib.get_close_matches(w, list(available), n=1)
            hints.append(f"{w!r} (did you mean {close[0]!r}?)" if close else repr(w))
        raise GoldSetError(f"option {option}: {', '.join(hints) or 'empty list'} is not {what}. Give 'all' or a "
                           f"comma-separated list of: {', '.join(available)}.")
    return names


def load_gold_set(name: str, data_dir: str | Path | None, **options: Any) -> GoldSet:
    """Read a registered gold set from ``data_dir`` and align it (see :func:`registry` for the names)."""
    spec = get_spec(name)
    folder = resolve_dir(spec, data_dir)
    opts = parse_options(spec, options)
    assert spec.loader is not None
    gs = spec.loader(folder, **opts)
    gs.folder = folder
    gs.options = {**opts, **gs.options}
    return gs


def run_gold_set(name: str, data_dir: str | Path | None, *, options: Mapping[str, Any] | None = None,
                 seed: int = 0, n_resamples: int = 1000, confidence_level: float = 0.95,
                 probes: Any = "default", quiet: bool = True, compare_judges: bool = True) -> Any:
    """Load a registered gold set and run the full analysis on it; returns an :class:`~metajudge.Analysis`."""
    from ..analysis import analyze
    from ..pipeline import versions

    gs = load_gold_set(name, data_dir, **dict(options or {}))
    source = f"gold set {gs.name}"
    table = gs.table
    cov = table.coverage
    if len(cov) and "kind" in cov and "path" in cov:
        cov.loc[cov["kind"].astype(str) == "gold", "path"] = source
    inputs = {source: gs.fingerprint, **{f"{gs.name}/{k}": v for k, v in gs.files.items()}}
    prov = {"versions": versions(), "inputs": inputs, "seed": seed, "n_resamples": n_resamples,
            "confidence_level": confidence_level, "created_by": f"metajudge {versions()['metajudge']}",
            "gold_set": gs.name, "data_dir": str(gs.folder or "")}
    config = {"gold_set": {"name": gs.name, "options": {k: str(v) for k, v in gs.options.items()}},
              "gold": {"registry": gs.name, **{k: str(v) for k, v in gs.options.items()}},
              "bootstrap": {"seed": seed, "n_resamples": n_resamples, "confidence_level": confidence_level},
              "probes": gs.probe_options}
    names = gs.probes if probes == "default" else probes
    table.notes.extend(n for n in gs.notes if n not in table.notes)
    return analyze(table, metrics=gs.metrics, n_resamples=n_resamples, confidence_level=confidence_level,
                   seed=seed, compare_judges=compare_judges, quiet=quiet, config=config, provenance=prov,
                   title=gs.title, probes=names, probe_options=gs.probe_options)


def _card_file(name: str) -> Path | None:
    here = Path(__file__).resolve()
    for root in (here.parents[1] / "_gold_sets", here.parents[2] / "gold_sets"):
        p = root / name / "README.md"
        if p.is_file():
            return p
    return None


def card_text(name: str) -> str:
    """The data card (markdown) of a registered gold set."""
    spec = get_spec(name)
    p = spec.card_path()
    if p is None:
        raise GoldSetError(f"gold set {spec.name!r} has no data card installed (gold_sets/{spec.name}/README.md).")
    return p.read_text(encoding="utf-8")
