"""Vectorised metric kernels on sufficient statistics.

Every function here takes a batch of contingency tables ``t`` with shape ``(..., K, K)`` (reference levels on
axis -2, candidate levels on axis -1; raw counts, not proportions) and returns an array of shape ``(...)``.
Undefined values (a zero denominator) are NaN. The bootstrap evaluates these kernels on ``(B, K, K)`` stacks
of resampled tables, so each metric costs O(B·K²) regardless of the number of items.
"""

from __future__ import annotations

import numpy as np

WEIGHT_KINDS = (None, "linear", "quadratic")


def disagreement_weights(k: int, weights: str | None) -> np.ndarray:
    """K×K disagreement weights on the declared order: 1 off the diagonal (None), ``|i−j|/(K−1)``
    (linear) or ``((i−j)/(K−1))²`` (quadratic)."""
    i, j = np.indices((k, k))
    if weights is None:
        return (i != j).astype(float)
    if k < 2:
        return np.zeros((k, k))
    d = np.abs(i - j) / (k - 1)
    if weights == "linear":
        return d
    if weights == "quadratic":
        return d**2
    raise ValueError(f"weights must be None, 'linear' or 'quadratic'; got {weights!r}")


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    ok = np.abs(den) > 1e-15 * np.maximum(1.0, np.abs(num))
    np.divide(num, den, out=out, where=ok)
    return out[()] if out.ndim == 0 else out


def proportions(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(n, p, r, c)``: totals, proportions, reference and candidate marginals."""
    t = np.asarray(t, dtype=float)
    n = t.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = t / n[..., None, None]
    return n, p, p.sum(axis=-1), p.sum(axis=-2)


def percent_agreement(t: np.ndarray) -> np.ndarray:
    n, p, _, _ = proportions(t)
    return np.where(n > 0, np.trace(p, axis1=-2, axis2=-1), np.nan)


def cohen_kappa(t: np.ndarray, weights: str | None = None) -> np.ndarray:
    """κ = 1 − Σ w_ij o_ij / Σ w_ij r_i c_j (Cohen 1960, 1968)."""
    _, p, r, c = proportions(t)
    w = disagreement_weights(p.shape[-1], weights)
    obs = (w * p).sum(axis=(-2, -1))
    exp = np.einsum("...i,ij,...j->...", r, w, c)
    return 1.0 - _div(obs, exp)


def expected_agreement(t: np.ndarray) -> np.ndarray:
    """Cohen's chance agreement p_e = Σ r_k c_k."""
    _, _, r, c = proportions(t)
    return (r * c).sum(axis=-1)


def scott_pi(t: np.ndarray, weights: str | None = None) -> np.ndarray:
    """π: κ with pooled marginals π_k = (r_k + c_k)/2 (Scott 1955)."""
    _, p, r, c = proportions(t)
    pi = (r + c) / 2
    w = disagreement_weights(p.shape[-1], weights)
    obs = (w * p).sum(axis=(-2, -1))
    exp = np.einsum("...i,ij,...j->...", pi, w, pi)
    return 1.0 - _div(obs, exp)


def gwet_ac(t: np.ndarray, weights: str | None = None) -> np.ndarray:
    """Gwet's AC1 (unweighted) / AC2 (weighted): p_e = T_w/(K(K−1)) Σ π_k(1−π_k) (Gwet 2008, 2014)."""
    _, p, r, c = proportions(t)
    k = p.shape[-1]
    if k < 2:
        return np.full(p.shape[:-2], np.nan)[()]
    a = 1.0 - disagreement_weights(k, weights)  # agreement weights
    pa = (a * p).sum(axis=(-2, -1))
    pi = (r + c) / 2
    pe = a.sum() / (k * (k - 1)) * (pi * (1 - pi)).sum(axis=-1)
    return _div(pa - pe, 1.0 - pe)


def pabak(t: np.ndarray) -> np.ndarray:
    """Prevalence- and bias-adjusted κ: (K·p_o − 1)/(K − 1)."""
    k = np.asarray(t).shape[-1]
    if k < 2:
        return np.full(np.asarray(t).shape[:-2], np.nan)[()]
    return (k * percent_agreement(t) - 1.0) / (k - 1)


def binary_counts(t: np.ndarray, positive: int = 1) -> tuple[np.ndarray, ...]:
    """``(tp, fp, fn, tn)`` of a 2×2 table with reference on rows and candidate on columns."""
    t = np.asarray(t, dtype=float)
    neg = 1 - positive
    return t[..., positive, positive], t[..., neg, positive], t[..., positive, neg], t[..., neg, neg]


def binary_metrics(t: np.ndarray, positive: int = 1) -> dict[str, np.ndarray]:
    """Accuracy, TPR (recall), TNR, precision, F1, balanced accuracy, MCC and Youden's J of 2×2 tables."""
    tp, fp, fn, tn = binary_counts(t, positive)
    n = tp + fp + fn + tn
    tpr = _div(tp, tp + fn)
    tnr = _div(tn, tn + fp)
    return {
        "accuracy": _div(tp + tn, n),
        "balanced_accuracy": (tpr + tnr) / 2,
        "precision": _div(tp, tp + fp),
        "recall": tpr,
        "f1": _div(2 * tp, 2 * tp + fp + fn),
        "mcc": _div(tp * tn - fp * fn, np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))),
        "tpr": tpr,
        "tnr": tnr,
        "youden_j": tpr + tnr - 1,
    }


def balanced_accuracy(t: np.ndarray) -> np.ndarray:
    """Mean recall over the reference classes that occur (as scikit-learn)."""
    t = np.asarray(t, dtype=float)
    rows = t.sum(axis=-1)
    diag = np.diagonal(t, axis1=-2, axis2=-1)
    present = rows > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = np.where(present, diag / np.where(present, rows, 1), 0.0)
    npres = present.sum(axis=-1)
    return _div(rec.sum(axis=-1), npres)


def mcc(t: np.ndarray) -> np.ndarray:
    """Matthews correlation for K classes (Gorodkin 2004), as scikit-learn's ``matthews_corrcoef``."""
    t = np.asarray(t, dtype=float)
    n = t.sum(axis=(-2, -1))
    ts = t.sum(axis=-1)  # reference (true) counts
    ps = t.sum(axis=-2)  # candidate (predicted) counts
    correct = np.trace(t, axis1=-2, axis2=-1)
    cov_tp = correct * n - (ts * ps).sum(axis=-1)
    cov_pp = n * n - (ps * ps).sum(axis=-1)
    cov_tt = n * n - (ts * ts).sum(axis=-1)
    return _div(cov_tp, np.sqrt(cov_tt * cov_pp))


# ---------------------------------------------------------------- correlations on tables
def _midranks(counts: np.ndarray) -> np.ndarray:
    """Midrank of each level given level counts (..., K)."""
    cum = np.cumsum(counts, axis=-1)
    return cum - counts + (counts + 1) / 2


def _weighted_pearson(t: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of the joint distribution ``t`` (..., Kx, Ky) over values x (..., Kx) and y (..., Ky)."""
    n = t.sum(axis=(-2, -1))
    r = t.sum(axis=-1)
    c = t.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = (r * x).sum(axis=-1) / n
        my = (c * y).sum(axis=-1) / n
    dx = x - mx[..., None]
    dy = y - my[..., None]
    sxy = np.einsum("...i,...ij,...j->...", dx, t, dy)
    sxx = (r * dx * dx).sum(axis=-1)
    syy = (c * dy * dy).sum(axis=-1)
    return np.clip(_div(sxy, np.sqrt(sxx * syy)), -1.0, 1.0)


def pearson_table(t: np.ndarray, x_values: np.ndarray, y_values: np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    return _weighted_pearson(t, np.broadcast_to(x_values, t.shape[:-1]), np.broadcast_to(y_values, t.shape[:-2] + t.shape[-1:]))


def spearman_table(t: np.ndarray) -> np.ndarray:
    """Spearman ρ (Pearson of midranks) of a table whose rows and columns are ordered levels."""
    t = np.asarray(t, dtype=float)
    return _weighted_pearson(t, _midranks(t.sum(axis=-1)), _midranks(t.sum(axis=-2)))


def concordance(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concordant and discordant pair counts (P, Q) of ordered tables."""
    t = np.asarray(t, dtype=float)
    # below_right[i, j] = Σ_{k>i, l>j} t_kl ; below_left[i, j] = Σ_{k>i, l<j} t_kl
    rev = np.flip(np.cumsum(np.cumsum(np.flip(t, axis=(-2, -1)), axis=-2), axis=-1), axis=(-2, -1))
    below_right = np.zeros_like(t)
    below_right[..., :-1, :-1] = rev[..., 1:, 1:]
    cl = np.cumsum(np.flip(np.cumsum(np.flip(t, axis=-2), axis=-2), axis=-2), axis=-1)
    # cl[i, j] = Σ_{k>=i, l<=j} t_kl
    below_left = np.zeros_like(t)
    below_left[..., :-1, 1:] = cl[..., 1:, :-1]
    p = (t * below_right).sum(axis=(-2, -1))
    q = (t * below_left).sum(axis=(-2, -1))
    return p, q


def kendall_tau_b_table(t: np.ndarray) -> np.ndarray:
    """Kendall τ-b = (P − Q)/sqrt((n0 − n1)(n0 − n2)) from an ordered table."""
    t = np.asarray(t, dtype=float)
    p, q = concordance(t)
    n = t.sum(axis=(-2, -1))
    r = t.sum(axis=-1)
    c = t.sum(axis=-2)
    n0 = n * (n - 1) / 2
    n1 = (r * (r - 1) / 2).sum(axis=-1)
    n2 = (c * (c - 1) / 2).sum(axis=-1)
    return _div(p - q, np.sqrt((n0 - n1) * (n0 - n2)))


def kendall_tau_c_table(t: np.ndarray) -> np.ndarray:
    """Stuart's τ-c = 2m(P − Q)/(n²(m − 1)), m = min(K_x, K_y) (levels that occur)."""
    t = np.asarray(t, dtype=float)
    p, q = concordance(t)
    n = t.sum(axis=(-2, -1))
    m = np.minimum((t.sum(axis=-1) > 0).sum(axis=-1), (t.sum(axis=-2) > 0).sum(axis=-1))
    return _div(2 * m * (p - q), n * n * (m - 1))
