"""Coverage of the nominal 95% intervals by simulation from known populations (METRICS.md §3).

1,000 data sets per check, fixed seeds, so the result is deterministic. With 1,000 sets the Monte Carlo
standard error of a 95% coverage is 0.7 points; the accepted band 92.5–97.5% is about ±3.6 SE.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import metajudge as mj

N_SETS = 1000
N_ITEMS = 200


def population_kappa(p: np.ndarray, weights: str | None = None) -> float:
    """κ of a joint probability table (reference on rows), from the definition in METRICS.md §2."""
    k = p.shape[0]
    i, j = np.indices((k, k))
    if weights is None:
        w = (i != j).astype(float)
    elif weights == "linear":
        w = np.abs(i - j) / (k - 1)
    else:
        w = ((i - j) / (k - 1)) ** 2
    r, c = p.sum(axis=1), p.sum(axis=0)
    return 1.0 - (w * p).sum() / (w * np.outer(r, c)).sum()


def _coverage_kappa(p: np.ndarray, weights, seed: int, n_resamples: int) -> tuple[float, float]:
    k = p.shape[0]
    truth = population_kappa(p, weights)
    rng = np.random.default_rng(seed)
    hits = 0
    for s in range(N_SETS):
        counts = rng.multinomial(N_ITEMS, p.ravel())
        cells = np.repeat(np.arange(k * k), counts)
        rng.shuffle(cells)
        ref, cand = cells // k, cells % k
        e = mj.cohen_kappa(ref, cand, weights=weights, levels=list(range(k)), n_resamples=n_resamples, rng=s)
        assert e.confidence_level == 0.95
        hits += e.ci_low <= truth <= e.ci_high
    return hits / N_SETS, truth


P4 = np.array([
    [0.15, 0.04, 0.01, 0.00],
    [0.04, 0.20, 0.05, 0.01],
    [0.01, 0.05, 0.20, 0.04],
    [0.00, 0.01, 0.04, 0.15],
])

# 5 levels, a lenient judge (mass above the diagonal) and a rare top level
P5 = np.array([
    [0.06, 0.03, 0.01, 0.00, 0.00],
    [0.01, 0.12, 0.06, 0.01, 0.00],
    [0.00, 0.03, 0.25, 0.08, 0.01],
    [0.00, 0.00, 0.03, 0.18, 0.04],
    [0.00, 0.00, 0.00, 0.02, 0.06],
])


def test_population_tables_are_distributions():
    assert P4.sum() == pytest.approx(1.0) and P5.sum() == pytest.approx(1.0)
    assert 0.3 < population_kappa(P4) < 0.8
    assert 0.3 < population_kappa(P5, "quadratic") < 0.95


def test_cohen_kappa_interval_coverage_4_levels():
    cov, truth = _coverage_kappa(P4, None, seed=2024, n_resamples=1000)
    assert 0.925 <= cov <= 0.975, f"coverage {cov:.3f} of population κ = {truth:.4f}"


def test_quadratic_kappa_interval_coverage_5_levels():
    cov, truth = _coverage_kappa(P5, "quadratic", seed=2025, n_resamples=1000)
    assert 0.925 <= cov <= 0.975, f"coverage {cov:.3f} of population κ_q = {truth:.4f}"


def test_spearman_interval_coverage_bivariate_normal():
    rho = 0.5
    truth = 6 / math.pi * math.asin(rho / 2)  # population Spearman of a bivariate normal
    cov_matrix = np.array([[1.0, rho], [rho, 1.0]])
    rng = np.random.default_rng(2026)
    hits = 0
    for s in range(N_SETS):
        xy = rng.multivariate_normal([0.0, 0.0], cov_matrix, size=N_ITEMS)
        e = mj.spearman(xy[:, 0], xy[:, 1], n_resamples=500, rng=s)
        assert e.method == "bootstrap"  # continuous path, not Fisher-z
        hits += e.ci_low <= truth <= e.ci_high
    cov = hits / N_SETS
    assert 0.925 <= cov <= 0.975, f"coverage {cov:.3f} of population ρ_S = {truth:.4f}"
