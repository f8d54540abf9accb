"""Config in, :class:`~metajudge.results.Analysis` out: read -> validate -> align -> analyze."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from .align import AlignedTable, align
from .analysis import analyze
from .results import Analysis

_VERSIONED = ("metajudge", "numpy", "scipy", "pandas", "statsmodels", "scikit-learn", "matplotlib", "jinja2",
              "pyarrow")


def versions() -> dict[str, str]:
    """Installed versions of metajudge and the libraries its numbers depend on."""
    out = {"python": platform.python_version()}
    for pkg in _VERSIONED:
        if pkg == "metajudge":
            from . import __version__

            out[pkg] = __version__
            continue
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def load_table(cfg: Any) -> AlignedTable:
    """Read the gold set and every judge named in a :class:`~metajudge.config.Config` and align them."""
    from .io import load_gold, load_judge

    base = getattr(cfg, "base_dir", None)
    top_slices = list(cfg.slices)
    gold = load_gold(cfg.gold, base, extra_slices=top_slices)
    judges = {}
    sources = {"gold": str(gold.attrs.get("source", cfg.gold.path or cfg.gold.dataset or "gold"))}
    order_frame: dict[str, str] = {}
    fallback: dict[str, Any] = {}
    for j in cfg.judges:
        df = load_judge(j, base, extra_slices=top_slices, index=len(judges))
        judges[j.name] = df
        sources[j.name] = str(df.attrs.get("source", j.path or j.dataset or j.name))
        order_frame[j.name] = j.order_frame
        fb = j.unparseable
        fallback[j.name] = None if fb == "exclude" else getattr(fb, "fallback", None)
    slices = list(dict.fromkeys(list(cfg.slices) + list(cfg.gold.slices) + [s for j in cfg.judges for s in j.slices]))
    table = align(gold, judges, cfg.scale.to_scale(), aggregate=cfg.gold.aggregate, order_frame=order_frame,
                  fallback=fallback, slices=slices, sources=sources)
    table.inputs = {sources["gold"]: gold.attrs.get("sha256")}  # type: ignore[attr-defined]
    for j in cfg.judges:
        table.inputs[sources[j.name]] = judges[j.name].attrs.get("sha256")  # type: ignore[attr-defined]
    return table


def run(cfg: Any, *, seed: int | None = None, n_resamples: int | None = None, quiet: bool = True,
        probes: Any = "config", strict_probes: bool = False) -> Analysis:
    """Run the whole analysis described by a config.

    ``probes``: "config" (default) runs ``cfg.probes.run``, or every probe the data allows when that is
    unset; a list runs those probes; an empty list runs none.
    """
    from .config import config_to_dict

    table = load_table(cfg)
    boot = cfg.bootstrap
    seed = boot.seed if seed is None else seed
    n_res = boot.n_resamples if n_resamples is None else n_resamples
    prov = {
        "versions": versions(),
        "inputs": {k: v for k, v in getattr(table, "inputs", {}).items()},
        "seed": seed,
        "n_resamples": n_res,
        "confidence_level": boot.confidence_level,
        "created_by": f"metajudge {versions()['metajudge']}",
        "config_path": str(getattr(cfg, "_source_path", None) or ""),
    }
    pc = cfg.probes
    names = pc.run if probes == "config" else probes
    options = {"position": pc.position.model_dump(), "length": pc.length.model_dump(),
               "self_preference": pc.self_preference.model_dump()}
    return analyze(table, metrics=cfg.metrics, n_resamples=n_res, confidence_level=boot.confidence_level,
                   seed=seed, compare_judges=cfg.compare_judges, quiet=quiet, config=config_to_dict(cfg),
                   provenance=prov, title=cfg.title, probes=names, probe_options=options,
                   strict_probes=strict_probes)


def run_config(path: str | Path, **kw: Any) -> Analysis:
    """Load a YAML/TOML config file and run it (see :func:`run`)."""
    from .config import load_config

    return run(load_config(path), **kw)
