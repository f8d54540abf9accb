"""Bias probes: position, length, self-preference, leniency and system-level validity (METRICS.md §5–6).

:data:`PROBES` maps a probe name to ``module:function``; every function has the signature
``probe(table, *, options: dict, confidence_level: float, n_resamples: int, rng) -> ProbeResult``.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError
from .base import PROBE_METRICS, ProbeResult, ProbeUnavailable, probe_row

#: Registry: probe name -> "module:function" (imported when run).
PROBES: dict[str, str] = {
    "position": "metajudge.probes.position:position_probe",
    "length": "metajudge.probes.length:length_probe",
    "self_preference": "metajudge.probes.selfpref:self_preference_probe",
    "leniency": "metajudge.probes.leniency:leniency_probe",
    "system": "metajudge.probes.system:system_probe",
}


def get_probe(name: str) -> Callable[..., ProbeResult]:
    if name not in PROBES:
        raise ConfigError(f"unknown probe {name!r}; known probes: {', '.join(PROBES)}.")
    mod, fn = PROBES[name].split(":")
    return getattr(importlib.import_module(mod), fn)


def run_probes(table: Any, *, probes: Sequence[str] | None = None, options: Mapping[str, Any] | None = None,
               confidence_level: float = 0.95, n_resamples: int = 1000, rng: np.random.Generator | None = None,
               strict: bool = False) -> list[ProbeResult]:
    """Run the named probes (default: all) on an aligned table.

    A probe the data cannot support is skipped with its reason (``ProbeResult.skipped``), unless
    ``strict`` is true (the probes were asked for by name), in which case :class:`ProbeUnavailable` is raised.
    """
    names = list(PROBES) if probes is None else list(probes)
    options = dict(options or {})
    gen = rng if rng is not None else np.random.default_rng(0)
    out: list[ProbeResult] = []
    for name in names:
        try:
            fn = get_probe(name)
        except ModuleNotFoundError as exc:  # a probe module not shipped in this build
            if strict or exc.name != PROBES[name].split(":")[0]:
                raise
            out.append(ProbeResult(probe=name, skipped=[f"the {name} probe is not available in this build"]))
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = fn(table, options=dict(options.get(name) or {}), confidence_level=confidence_level,
                         n_resamples=n_resamples, rng=gen)
        except ProbeUnavailable as exc:
            if strict:
                raise
            res = ProbeResult(probe=name, skipped=[str(exc)])
        out.append(res)
    return out


__all__ = ["PROBES", "PROBE_METRICS", "ProbeResult", "ProbeUnavailable", "get_probe", "probe_row", "run_probes"]
