"""Agreement between a reference and a candidate on a categorical scale (METRICS.md §2).

Every metric here is a function of the K×K contingency table of (reference, candidate) codes on the declared
level order. The table is built once; bootstrap replicates are multinomial tables (one row per item) or sums
of resampled per-item tables (``clusters=``), evaluated by the vectorised kernels in
:mod:`metajudge.metrics.kernels`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import MetricInputError
from ..estimate import Estimate
from . import kernels as K
from ._inputs import dropped_note, join_notes, pair_codes
from .bootstrap import (RNGLike, as_generator, bootstrap_stats, evaluate_replicates, percentile_interval,
                        warn_undefined, wilson_interval)


@dataclass(frozen=True)
class TableMetric:
    """A metric of the K×K table: ``fn(tables, ctx) -> values`` vectorised over leading axes."""

    name: str
    fn: Callable[[np.ndarray, dict[str, Any]], np.ndarray]
    ordered: bool = False          # needs the declared order (weights, ordinal distances)
    binary: bool = False           # needs exactly two levels and a positive class
    proportion: str | None = None  # "diag" / "tpr" / ... : Wilson interval when unclustered
    undefined: str = "a denominator is zero"


def _alpha(level: str) -> Callable[[np.ndarray, dict[str, Any]], np.ndarray]:
    from .multirater import alpha_from_coincidence

    def fn(t: np.ndarray, ctx: dict[str, Any]) -> np.ndarray:
        return alpha_from_coincidence(t + np.swapaxes(t, -1, -2), level, ctx["values"])

    return fn


def _bin(key: str) -> Callable[[np.ndarray, dict[str, Any]], np.ndarray]:
    return lambda t, ctx: K.binary_metrics(t, ctx["positive"])[key]


_PE1 = "chance agreement is 1 (all ratings fall in one category), so the chance-corrected value is 0/0"

#: Registry of table metrics (name -> TableMetric). Plain dict: the config and CLI name metrics from it.
TABLE_METRICS: dict[str, TableMetric] = {
    m.name: m
    for m in [
        TableMetric("percent_agreement", lambda t, ctx: K.percent_agreement(t), proportion="diag",
                    undefined="no pairs"),
        TableMetric("cohen_kappa", lambda t, ctx: K.cohen_kappa(t), undefined=_PE1),
        TableMetric("cohen_kappa_linear", lambda t, ctx: K.cohen_kappa(t, "linear"), ordered=True, undefined=_PE1),
        TableMetric("cohen_kappa_quadratic", lambda t, ctx: K.cohen_kappa(t, "quadratic"), ordered=True,
                    undefined=_PE1),
        TableMetric("scott_pi", lambda t, ctx: K.scott_pi(t), undefined=_PE1),
        TableMetric("gwet_ac1", lambda t, ctx: K.gwet_ac(t), undefined="fewer than two levels on the scale"),
        TableMetric("gwet_ac2_linear", lambda t, ctx: K.gwet_ac(t, "linear"), ordered=True,
                    undefined="fewer than two levels on the scale"),
        TableMetric("gwet_ac2_quadratic", lambda t, ctx: K.gwet_ac(t, "quadratic"), ordered=True,
                    undefined="fewer than two levels on the scale"),
        TableMetric("pabak", lambda t, ctx: K.pabak(t), undefined="fewer than two levels on the scale"),
        TableMetric("krippendorff_alpha_nominal", _alpha("nominal"),
                    undefined="no disagreement is possible: every value is the same"),
        TableMetric("krippendorff_alpha_ordinal", _alpha("ordinal"), ordered=True,
                    undefined="no disagreement is possible: every value is the same"),
        TableMetric("krippendorff_alpha_interval", _alpha("interval"), ordered=True,
                    undefined="no disagreement is possible: every value is the same"),
        TableMetric("pearson", lambda t, ctx: K.pearson_table(t, ctx["values"], ctx["values"]), ordered=True,
                    undefined="one side is constant, so the correlation is 0/0"),
        TableMetric("spearman", lambda t, ctx: K.spearman_table(t), ordered=True,
                    undefined="one side is constant, so the correlation is 0/0"),
        TableMetric("kendall_tau", lambda t, ctx: K.kendall_tau_b_table(t), ordered=True,
                    undefined="one side is constant, so the correlation is 0/0"),
        TableMetric("kendall_tau_c", lambda t, ctx: K.kendall_tau_c_table(t), ordered=True,
                    undefined="one side is constant, so the correlation is 0/0"),
        TableMetric("accuracy", lambda t, ctx: K.percent_agreement(t), proportion="diag", undefined="no pairs"),
        TableMetric("balanced_accuracy", lambda t, ctx: K.balanced_accuracy(t), undefined="no pairs"),
        TableMetric("mcc", lambda t, ctx: K.mcc(t),
                    undefined="one side uses a single category, so the correlation is 0/0"),
        TableMetric("precision", _bin("precision"), binary=True, proportion="precision",
                    undefined="the candidate never predicts the positive class"),
        TableMetric("recall", _bin("recall"), binary=True, proportion="tpr",
                    undefined="the reference has no positive items"),
        TableMetric("f1", _bin("f1"), binary=True, undefined="no positive items on either side"),
        TableMetric("tpr", _bin("tpr"), binary=True, proportion="tpr",
                    undefined="the reference has no positive items"),
        TableMetric("tnr", _bin("tnr"), binary=True, proportion="tnr",
                    undefined="the reference has no negative items"),
        TableMetric("youden_j", _bin("youden_j"), binary=True,
                    undefined="the reference lacks positive or negative items"),
    ]
}

#: Default metric sets by scale kind.
DEFAULT_TABLE_METRICS: dict[str, list[str]] = {
    "binary": ["percent_agreement", "cohen_kappa", "scott_pi", "gwet_ac1", "pabak", "krippendorff_alpha_nominal",
               "accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc", "tpr", "tnr", "youden_j"],
    "nominal": ["percent_agreement", "cohen_kappa", "scott_pi", "gwet_ac1", "pabak", "krippendorff_alpha_nominal",
                "balanced_accuracy", "mcc"],
    "ordinal": ["percent_agreement", "cohen_kappa", "cohen_kappa_linear", "cohen_kappa_quadratic", "scott_pi",
                "gwet_ac1", "gwet_ac2_quadratic", "pabak", "krippendorff_alpha_nominal",
                "krippendorff_alpha_ordinal", "krippendorff_alpha_interval"],
    "pairwise": ["percent_agreement", "cohen_kappa", "scott_pi", "gwet_ac1", "pabak", "krippendorff_alpha_nominal",
                 "balanced_accuracy", "mcc"],
}


def contingency_table(ref: np.ndarray, cand: np.ndarray, k: int) -> np.ndarray:
    """K×K table of integer codes (reference on rows), counted in cache-sized blocks.

    >>> contingency_table(np.array([0, 1, 1]), np.array([0, 1, 0]), 2).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    n = len(ref)
    step = 1 << 18
    if n <= step:
        return np.bincount(ref.astype(np.intp) * k + cand, minlength=k * k).reshape(k, k).astype(float)
    out = np.zeros(k * k, dtype=np.int64)
    for start in range(0, n, step):
        cell = ref[start:start + step].astype(np.intp)
        cell *= k
        cell += cand[start:start + step]
        out += np.bincount(cell, minlength=k * k)
    return out.reshape(k, k).astype(float)


def cluster_tables(ref: np.ndarray, cand: np.ndarray, cluster: np.ndarray, k: int) -> np.ndarray:
    """Per-cluster tables, flattened: an (n_clusters, K²) array of counts."""
    n_cl = int(cluster.max()) + 1 if cluster.size else 0
    flat = np.bincount(cluster * (k * k) + ref * k + cand, minlength=n_cl * k * k)
    return flat.reshape(n_cl, k * k)


def _resolve_positive(positive: Any, levels: list[str], inferred: bool, numeric: bool, name: str) -> int:
    from ..scales import canonical_label

    if len(levels) > 2:
        raise MetricInputError(f"{name} is defined for a binary scale; the data have {len(levels)} levels "
                               f"{levels[:10]}. Binarise the labels first or use a multi-class metric.")
    if positive is None:
        if inferred and not numeric and set(levels) - {"true", "false"}:
            raise MetricInputError(
                f"{name} needs the positive class, and it cannot be guessed from the labels {levels}. "
                f"Pass positive=..., e.g. positive={levels[-1]!r}."
            )
        return len(levels) - 1 if len(levels) == 2 else 0
    pos = canonical_label(positive)
    if pos not in levels:
        raise MetricInputError(f"{name}: positive class {positive!r} is not among the levels {levels}.")
    return levels.index(pos)


def table_estimates(
    reference: Any,
    candidate: Any,
    metrics: Sequence[str],
    *,
    levels: Sequence[Any] | None = None,
    positive: Any = None,
    clusters: Any = None,
    confidence_level: float = 0.95,
    n_resamples: int = 1000,
    rng: RNGLike = None,
) -> dict[str, Estimate]:
    """Several table metrics of one (reference, candidate) pair from one table and one set of replicates.

    Parameters
    ----------
    reference, candidate : array-like
        One label per row; pairs with a missing value on either side are left out together and counted.
    metrics : sequence of str
        Names from :data:`TABLE_METRICS`.
    levels : sequence, optional
        The scale's levels in their declared order. Required for ordered metrics on string labels.
    positive : optional
        Positive class for binary metrics.
    clusters : array-like, optional
        Item id of each row: rows of one item are resampled together (cluster bootstrap).
    confidence_level, n_resamples, rng
        Bootstrap settings; ``rng`` is a seed or Generator (None = seed 0).

    Returns
    -------
    dict of str to Estimate
    """
    unknown = [m for m in metrics if m not in TABLE_METRICS]
    if unknown:
        raise MetricInputError(f"unknown table metric(s) {unknown}; known: {sorted(TABLE_METRICS)}.")
    specs = [TABLE_METRICS[m] for m in metrics]
    if not 0 < confidence_level < 1:
        raise MetricInputError(f"confidence_level must be between 0 and 1; got {confidence_level}.")
    need_order = any(s.ordered for s in specs)
    what = ", ".join(metrics)
    ref, cand, info, cidx, dropped = pair_codes(reference, candidate, levels=levels, need_order=need_order,
                                                what=what, clusters=clusters)
    if any(s.binary for s in specs) and levels is None and info.inferred and len(info.levels) < 2:
        # one observed class: complete the binary scale instead of guessing which class is positive
        from ..scales import canonical_label

        fill = ["0", "1"] if info.numeric and set(info.levels) <= {"0", "1"} else None
        pos = canonical_label(positive) if positive is not None else None
        if fill is None and pos is not None:
            fill = sorted(set(info.levels) | {pos}, key=float) if info.numeric and pos.lstrip("-").replace(
                ".", "", 1).isdigit() else [*info.levels, pos] if pos not in info.levels else None
        if fill is not None and len(fill) == 2:
            ref, cand, info, cidx, dropped = pair_codes(reference, candidate, levels=fill, need_order=need_order,
                                                        what=what, clusters=clusters)
    k = max(info.k, 1)
    ctx: dict[str, Any] = {"values": info.level_values() if info.k else np.zeros(1)}
    if any(s.binary for s in specs):
        ctx["positive"] = _resolve_positive(positive, info.levels, info.inferred, info.numeric, what)
        if info.k < 2:
            k = 2
    table = contingency_table(ref, cand, k)
    n_items = int(cidx.max()) + 1 if cidx is not None and cidx.size else len(ref)
    cluster_stats = cluster_tables(ref, cand, cidx, k) if cidx is not None and len(ref) > 0 else None
    return estimates_from_table(table, metrics, ctx, confidence_level=confidence_level, n_resamples=n_resamples,
                                rng=rng, n_items=n_items, cluster_stats=cluster_stats, note=dropped_note(dropped))


def estimates_from_table(table: np.ndarray, metrics: Sequence[str], ctx: dict[str, Any], *,
                         confidence_level: float = 0.95, n_resamples: int = 1000, rng: RNGLike = None,
                         n_items: int | None = None, cluster_stats: np.ndarray | None = None,
                         note: str = "") -> dict[str, Estimate]:
    """Table metrics and intervals from a K×K count table (what :func:`table_estimates` computes once the
    table is built; the sharded engines call it on summed shard tables).

    Without ``cluster_stats`` the rows are independent items: proportions get Wilson intervals, the other
    metrics the multinomial bootstrap of the table. With ``cluster_stats`` (one row of K² counts per item) the
    items are resampled whole. ``ctx`` holds ``values`` (level values) and, for binary metrics, ``positive``.
    """
    specs = [TABLE_METRICS[m] for m in metrics]
    table = np.asarray(table, dtype=float)
    k = table.shape[0]
    n_rows = int(table.sum())
    n_items = n_rows if n_items is None else n_items
    reps: np.ndarray | None = None
    method = "none"
    if n_resamples > 0 and n_rows > 0:
        gen = as_generator(rng)
        if cluster_stats is None:
            reps = gen.multinomial(n_rows, table.ravel() / n_rows, size=n_resamples).reshape(
                n_resamples, k, k).astype(float)
            method = "bootstrap-multinomial"
        else:
            sums = bootstrap_stats(cluster_stats, n_resamples, gen)
            reps = sums.reshape(n_resamples, k, k)
            method = "bootstrap-cluster"

    out: dict[str, Estimate] = {}
    for spec in specs:
        point = float(evaluate_replicates(lambda t: spec.fn(t, ctx), table))
        notes = [note]
        lo = hi = float("nan")
        m_method = method
        if n_rows == 0:
            notes.append("undefined: no pairs with both values")
            warn_undefined(f"{spec.name} is undefined: no pairs with both values")
        elif np.isnan(point):
            notes.append(f"undefined: {spec.undefined}")
            warn_undefined(f"{spec.name} is undefined: {spec.undefined}")
        if n_rows > 0:
            if spec.proportion is not None and cluster_stats is None:
                succ, den = _proportion_counts(table, spec.proportion, ctx)
                lo, hi = wilson_interval(succ, den, confidence_level)
                m_method = "wilson"
            elif reps is not None:
                vals = evaluate_replicates(lambda t: spec.fn(t, ctx), reps)
                lo, hi, bad = percentile_interval(vals, confidence_level)
                if bad:
                    notes.append(f"{bad} of {n_resamples} bootstrap replicates undefined and left out")
        out[spec.name] = Estimate(spec.name, point, lo, hi, confidence_level, n_items, m_method, join_notes(*notes))
    return out


def _proportion_counts(table: np.ndarray, kind: str, ctx: dict[str, Any]) -> tuple[float, float]:
    if kind == "diag":
        return float(np.trace(table)), float(table.sum())
    tp, fp, fn, tn = (float(v) for v in K.binary_counts(table, ctx["positive"]))
    return {"tpr": (tp, tp + fn), "tnr": (tn, tn + fp), "precision": (tp, tp + fp)}[kind]


def _one(name: str, reference: Any, candidate: Any, **kw: Any) -> Estimate:
    return table_estimates(reference, candidate, [name], **kw)[name]


_COMMON = """
    reference, candidate : array-like
        One label per row (list, ndarray, Series). Pairs with a missing value on either side are left out
        together and counted in ``note``.
    levels : sequence, optional
        Levels in the declared order. Without it, numeric labels are ordered by value; string labels are
        accepted only by metrics that ignore order.
    clusters : array-like, optional
        Item id per row; rows of one item are resampled together.
    confidence_level : float, default 0.95
    n_resamples : int, default 1000
        Bootstrap replicates; 0 skips the interval.
    rng : int or numpy.random.Generator, optional
        Seed or generator (None means seed 0).
"""


def _doc(fn):
    """Insert the shared parameter descriptions (``__COMMON__`` marker) into a metric's docstring."""
    fn.__doc__ = (fn.__doc__ or "").replace("__COMMON__", _COMMON)
    return fn


@_doc
def percent_agreement(reference: Any, candidate: Any, *, levels: Sequence[Any] | None = None,
                      clusters: Any = None, confidence_level: float = 0.95, n_resamples: int = 1000,
                      rng: RNGLike = None) -> Estimate:
    """Observed agreement ``p_o = Σ_i o_ii``; Wilson interval (cluster bootstrap with ``clusters``).

    Parameters
    ----------__COMMON__
    Examples
    --------
    >>> percent_agreement(["a", "b", "b", "a"], ["a", "b", "a", "a"]).estimate
    0.75
    """
    return _one("percent_agreement", reference, candidate, levels=levels, clusters=clusters,
                confidence_level=confidence_level, n_resamples=n_resamples, rng=rng)


@_doc
def cohen_kappa(reference: Any, candidate: Any, *, weights: str | None = None, levels: Sequence[Any] | None = None,
                clusters: Any = None, confidence_level: float = 0.95, n_resamples: int = 1000,
                rng: RNGLike = None) -> Estimate:
    """Cohen's κ, unweighted or weighted on the declared order.

    ``κ = 1 − Σ w_ij o_ij / Σ w_ij r_i c_j`` with disagreement weights ``w_ij = [i ≠ j]`` (unweighted),
    ``|i − j|/(K − 1)`` (linear) or ``((i − j)/(K − 1))²`` (quadratic). Unused levels of a declared scale
    count in K (scikit-learn ignores them unless ``labels=`` is passed). Undefined (NaN, with a note) when
    chance agreement is 1.

    Parameters
    ----------
    weights : {None, "linear", "quadratic"}__COMMON__
    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. Educ. Psychol. Meas. 20, 37–46.
    Cohen, J. (1968). Weighted kappa. Psychol. Bull. 70, 213–220.

    Examples
    --------
    >>> ref = [0] * 5 + [1] * 8 + [2] * 6          # the table [[0, 4, 1], [0, 8, 0], [0, 1, 5]]
    >>> cand = [1, 1, 1, 1, 2] + [1] * 8 + [1] + [2] * 5
    >>> round(cohen_kappa(ref, cand).estimate, 4)
    0.4842
    >>> e = cohen_kappa(["poor", "good", "fair"], ["fair", "good", "fair"], weights="linear",
    ...                 levels=["poor", "fair", "good"], n_resamples=0)
    >>> e.metric, round(e.estimate, 4)
    ('cohen_kappa_linear', 0.5714)
    """
    if weights not in K.WEIGHT_KINDS:
        raise MetricInputError(f"weights must be None, 'linear' or 'quadratic'; got {weights!r}.")
    name = "cohen_kappa" if weights is None else f"cohen_kappa_{weights}"
    return _one(name, reference, candidate, levels=levels, clusters=clusters, confidence_level=confidence_level,
                n_resamples=n_resamples, rng=rng)


@_doc
def scott_pi(reference: Any, candidate: Any, *, levels: Sequence[Any] | None = None, clusters: Any = None,
             confidence_level: float = 0.95, n_resamples: int = 1000, rng: RNGLike = None) -> Estimate:
    """Scott's π: κ with pooled marginals, ``p_e = Σ_k ((r_k + c_k)/2)²``.

    Parameters
    ----------__COMMON__
    References
    ----------
    Scott, W. A. (1955). Reliability of content analysis. Public Opinion Quarterly 19, 321–325.

    Examples
    --------
    >>> round(scott_pi([1, 1, 0, 0], [1, 0, 0, 0], n_resamples=0).estimate, 4)
    0.4667
    """
    return _one("scott_pi", reference, candidate, levels=levels, clusters=clusters,
                confidence_level=confidence_level, n_resamples=n_resamples, rng=rng)


@_doc
def gwet_ac1(reference: Any, candidate: Any, *, weights: str | None = None, levels: Sequence[Any] | None = None,
             clusters: Any = None, confidence_level: float = 0.95, n_resamples: int = 1000,
             rng: RNGLike = None) -> Estimate:
    """Gwet's AC1 (``weights=None``) or AC2 (weighted).

    ``AC = (p_a − p_e)/(1 − p_e)``, ``p_e = T_w/(K(K − 1)) Σ_k π_k(1 − π_k)``, ``π_k = (r_k + c_k)/2``,
    ``T_w`` the sum of agreement weights (K when unweighted).

    Parameters
    ----------
    weights : {None, "linear", "quadratic"}__COMMON__
    References
    ----------
    Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of high
    agreement. Br. J. Math. Stat. Psychol. 61, 29–48.

    Examples
    --------
    >>> round(gwet_ac1([1, 1, 1, 1, 0], [1, 1, 1, 1, 1], n_resamples=0).estimate, 4)  # (.8 - .18)/(1 - .18)
    0.7561
    """
    if weights not in K.WEIGHT_KINDS:
        raise MetricInputError(f"weights must be None, 'linear' or 'quadratic'; got {weights!r}.")
    name = "gwet_ac1" if weights is None else f"gwet_ac2_{weights}"
    return _one(name, reference, candidate, levels=levels, clusters=clusters, confidence_level=confidence_level,
                n_resamples=n_resamples, rng=rng)


@_doc
def pabak(reference: Any, candidate: Any, *, levels: Sequence[Any] | None = None, clusters: Any = None,
          confidence_level: float = 0.95, n_resamples: int = 1000, rng: RNGLike = None) -> Estimate:
    """Prevalence- and bias-adjusted κ, ``(K·p_o − 1)/(K − 1)`` with K the number of scale levels.

    Parameters
    ----------__COMMON__
    Examples
    --------
    >>> pabak([0, 1, 1, 0], [0, 1, 0, 0], n_resamples=0).estimate
    0.5
    """
    return _one("pabak", reference, candidate, levels=levels, clusters=clusters,
                confidence_level=confidence_level, n_resamples=n_resamples, rng=rng)


def classification_metrics(reference: Any, candidate: Any, *, positive: Any = None,
                           levels: Sequence[Any] | None = None, clusters: Any = None,
                           confidence_level: float = 0.95, n_resamples: int = 1000,
                           rng: RNGLike = None) -> dict[str, Estimate]:
    """Accuracy, balanced accuracy, precision, recall, F1, MCC, TPR, TNR and Youden's J of a binary judge.

    ``reference`` is the gold label, ``candidate`` the judge; ``positive`` names the positive class.

    Examples
    --------
    >>> m = classification_metrics([1, 1, 0, 0, 1], [1, 0, 0, 1, 1], n_resamples=0)
    >>> round(m["f1"].estimate, 4), round(m["mcc"].estimate, 4)
    (0.6667, 0.1667)
    """
    names = ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc", "tpr", "tnr", "youden_j"]
    return table_estimates(reference, candidate, names, positive=positive, levels=levels, clusters=clusters,
                           confidence_level=confidence_level, n_resamples=n_resamples, rng=rng)
