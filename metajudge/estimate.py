"""The :class:`Estimate` result type returned by every metric."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval.

    Attributes
    ----------
    metric : str
        snake_case metric name, e.g. ``"cohen_kappa_quadratic"``.
    estimate : float
        The point estimate on the full data; NaN when undefined (``note`` says why).
    ci_low, ci_high : float
        Confidence interval bounds; NaN when no interval could be computed.
    confidence_level : float
        Two-sided confidence level of the interval, e.g. 0.95.
    n : int
        Number of independent units (items) that went into the estimate.
    method : str
        How the interval was computed, e.g. ``"bootstrap-multinomial"``, ``"bootstrap-cluster"``,
        ``"wilson"``, ``"fisher-z"``, ``"none"``.
    note : str
        Empty, or why a value is undefined / what was left out.
    """

    metric: str
    estimate: float
    ci_low: float
    ci_high: float
    confidence_level: float
    n: int
    method: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def defined(self) -> bool:
        return not math.isnan(self.estimate)

    def __str__(self) -> str:  # pragma: no cover - display only
        pct = f"{self.confidence_level:.0%}"
        s = f"{self.metric} = {self.estimate:.4f} [{self.ci_low:.4f}, {self.ci_high:.4f}] ({pct} CI, {self.method}, n={self.n})"
        return s + (f"  note: {self.note}" if self.note else "")
