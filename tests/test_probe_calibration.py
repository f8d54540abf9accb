"""Calibration of the position, length, leniency and system probes on seeded simulations.

The issue's criterion, probe by probe: with a planted bias the 95% interval covers the population value
(:meth:`metajudge.simulate.Simulation.true_effects`, or the planted value where the model gives it exactly) in
at least 90% of 200 seeded simulations, and on simulations where the bias is absent (population value 0, or
0.5 for a rate) the 5%-level test rejects in at most 7.5% of 400 seeded simulations.

Design notes
------------
- Tables come from :meth:`Simulation.table` (the fast path), 250 items (pairs) per simulation, 200 bootstrap
  resamples for the coverage runs.
- The tests of these probes do not use the bootstrap (position: exact sign test over items; length: Wald test
  with an item-clustered SE; leniency: one-sample t-test; system: exact permutation test over systems), so the
  400 null simulations run with ``n_resamples=0``: the p-values are identical and the file stays fast.
- Each design simulates only the judge(s) it checks: the simulator draws every judge from its own stream
  (``[seed, 2, crc32(name)]``), so this changes nothing in the checked judge's verdicts.
- Seeds are fixed (data ``1000 + i`` for coverage, ``5000 + i`` for the null runs; bootstrap ``rng = i``).
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from metajudge.probes.length import length_probe
from metajudge.probes.leniency import leniency_probe
from metajudge.probes.position import position_probe
from metajudge.probes.system import system_probe
from metajudge.simulate import JudgeSpec, SystemSpec, simulate_pairwise, simulate_pointwise

N_COVERAGE = 200
N_NULL = 400
N_RESAMPLES = 200
N_ITEMS = 250
MIN_COVERAGE = 0.90
MAX_REJECTION = 0.075
ALPHA = 0.05

HUMAN_LENGTH = 0.5  # the annotators' own log-odds per unit log length ratio in the length designs
#: Six systems of distinct quality for the system-level null (with 4 systems the exact Spearman test cannot
#: reach p < 0.05: its smallest two-sided p is 1/12).
SIX_SYSTEMS = tuple(SystemSpec(f"sys{i}", q, None, 250.0) for i, q in enumerate((-0.5, -0.3, -0.1, 0.1, 0.3, 0.5)))

PROBE_FUNCS = {"position": position_probe, "length": length_probe, "leniency": leniency_probe,
               "system": system_probe}

# design -> (probe, judges, simulate(seed, judges))
DESIGNS = {
    # position: a judge answering "first shown slot" in 20% of runs, each pair judged in both orders
    "position-planted": ("position", (JudgeSpec("primacy", position=0.2),),
                         lambda s, j: simulate_pairwise(N_ITEMS, j, seed=s)),
    "position-null": ("position", (JudgeSpec("fair"),), lambda s, j: simulate_pairwise(N_ITEMS, j, seed=s)),
    # length: humans prefer longer answers (0.5 per unit log ratio); the judge more so (1.5)
    "length-planted": ("length", (JudgeSpec("wordy", length=1.5),),
                       lambda s, j: simulate_pairwise(N_ITEMS, j, human_length_preference=HUMAN_LENGTH, seed=s)),
    # the unbiased judge weighs length exactly as the humans do; it also has their accuracy, tie threshold and
    # no item noise, so its item-frame verdict probabilities equal the annotators' and the population excess is
    # exactly 0 (with item noise the excess is not 0: noise attenuates the length and quality effects)
    "length-null": ("length", (JudgeSpec("humanlike", accuracy=2.0, noise=0.0, length=HUMAN_LENGTH, tie=0.5),),
                    lambda s, j: simulate_pairwise(N_ITEMS, j, human_length_preference=HUMAN_LENGTH,
                                                   human_accuracy=2.0, human_tie=0.5, seed=s)),
    # leniency: interval scores (levels=None), slope 1, so the population shift is exactly the planted 0.3
    "leniency-planted": ("leniency", (JudgeSpec("lenient", leniency=0.3),),
                         lambda s, j: simulate_pointwise(N_ITEMS, j, levels=None, seed=s)),
    "leniency-null": ("leniency", (JudgeSpec("fair"),),
                      lambda s, j: simulate_pointwise(N_ITEMS, j, levels=None, seed=s)),
    # system: a judge whose scores ignore quality (slope 0): its per-system means are exchangeable (every
    # prompt has one response from each of the six systems), so its ranking is independent of the humans'
    "system-null": ("system", (JudgeSpec("blind", slope=0.0),),
                    lambda s, j: simulate_pointwise(50, j, levels=None, responses_per_prompt=6, systems=SIX_SYSTEMS,
                                                    seed=s)),
}


@lru_cache(maxsize=None)
def _runs(design: str, n_sims: int, n_resamples: int, seed0: int) -> pd.DataFrame:
    """Probe rows of ``n_sims`` seeded simulations of a design (column ``seed`` = simulation index)."""
    probe, judges, make = DESIGNS[design]
    fn = PROBE_FUNCS[probe]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. statsmodels' notes on the length GLM; not under test here
        for i in range(n_sims):
            table = make(seed0 + i, judges).table()
            res = fn(table, options={}, confidence_level=0.95, n_resamples=n_resamples,
                     rng=np.random.default_rng(i))
            out += [dict(r, seed=i) for r in res.rows]
    return pd.DataFrame(out)


@lru_cache(maxsize=None)
def _truth(design: str) -> pd.Series:
    """Population values (judge, metric) -> value of a design (they do not depend on the data seed)."""
    _, judges, make = DESIGNS[design]
    return make(0, judges).true_effects().set_index(["judge", "metric"])["value"]


def _select(df: pd.DataFrame, judge: str, metric: str, n: int) -> pd.DataFrame:
    d = df[(df["judge"] == judge) & (df["metric"] == metric) & (df["slice"] == "all")]
    assert len(d) == n and d["seed"].is_unique, f"{judge}/{metric}: expected {n} rows, got {len(d)}"
    return d


def _check_coverage(design: str, judge: str, metric: str, truth: float) -> float:
    df = _select(_runs(design, N_COVERAGE, N_RESAMPLES, 1000), judge, metric, N_COVERAGE)
    assert np.isfinite(df[["ci_low", "ci_high"]].to_numpy()).all(), f"{design} {metric}: undefined interval"
    covered = float(((df["ci_low"] <= truth) & (truth <= df["ci_high"])).mean())
    assert covered >= MIN_COVERAGE, (
        f"{design}: 95% CI of {metric} covers the true value {truth:.4f} in {covered:.3f} of {N_COVERAGE} "
        f"simulations (need ≥ {MIN_COVERAGE}); mean estimate {df['estimate'].mean():.4f}, mean CI width "
        f"{(df['ci_high'] - df['ci_low']).mean():.4f}")
    return covered


def _check_rejection(design: str, judge: str, metric: str) -> float:
    df = _select(_runs(design, N_NULL, 0, 5000), judge, metric, N_NULL)
    p = df["p_value"].to_numpy(dtype=float)
    assert np.isfinite(p).all(), f"{design} {metric}: {int((~np.isfinite(p)).sum())} undefined p-values"
    rate = float((p < ALPHA).mean())
    assert rate <= MAX_REJECTION, (
        f"{design}: the {metric} test rejects at the {ALPHA} level in {rate:.4f} of {N_NULL} simulations without "
        f"the bias (need ≤ {MAX_REJECTION})")
    return rate


# ---------------------------------------------------------------------------------------------- position
def test_position_planted_first_position_rate_and_consistency_covered() -> None:
    truth = _truth("position-planted")
    fp, pc = truth[("primacy", "first_position_rate")], truth[("primacy", "position_consistency")]
    assert fp > 0.58, fp  # the planted bias is visible in the population value
    _check_coverage("position-planted", "primacy", "first_position_rate", fp)
    _check_coverage("position-planted", "primacy", "position_consistency", pc)
    # the planted bias is also found: the pair-level test rejects in most simulations
    df = _select(_runs("position-planted", N_COVERAGE, N_RESAMPLES, 1000), "primacy", "first_position_rate",
                 N_COVERAGE)
    power = float((df["p_value"] < ALPHA).mean())
    assert power >= 0.8, f"the first-position test finds a 20% primacy in only {power:.3f} of simulations"


def test_position_null_pair_level_test_is_calibrated() -> None:
    # no position bias: both orders are exchangeable, so the population first-position rate is exactly 0.5
    assert _truth("position-null")[("fair", "first_position_rate")] == 0.5
    _check_rejection("position-null", "fair", "first_position_rate")
    _check_rejection("position-null", "fair", "preference_fairness")


# ---------------------------------------------------------------------------------------------- length
def test_length_planted_excess_covered() -> None:
    truth = _truth("length-planted")[("wordy", "prefer_longer_excess")]
    assert truth > 0.05, truth
    _check_coverage("length-planted", "wordy", "prefer_longer_excess", truth)


def test_length_null_excess_test_is_calibrated() -> None:
    assert abs(_truth("length-null")[("humanlike", "prefer_longer_excess")]) < 1e-9
    _check_rejection("length-null", "humanlike", "prefer_longer_excess")


# ---------------------------------------------------------------------------------------------- leniency
def test_leniency_planted_shift_covered() -> None:
    truth = _truth("leniency-planted")[("lenient", "leniency_shift")]
    assert math.isclose(truth, 0.3, abs_tol=1e-9), truth  # slope 1 on an interval scale: exactly the planted shift
    _check_coverage("leniency-planted", "lenient", "leniency_shift", 0.3)


def test_leniency_null_shift_test_is_calibrated() -> None:
    assert abs(_truth("leniency-null")[("fair", "leniency_shift")]) < 1e-9
    _check_rejection("leniency-null", "fair", "leniency_shift")


# ---------------------------------------------------------------------------------------------- system
def test_system_null_rank_test_is_calibrated() -> None:
    """A judge with no system-level signal: the exact permutation test of Spearman's ρ over six systems (and
    Kendall's τ) rejects at the nominal rate. (No coverage check: the population ρ of four to six systems is a
    discrete value, often the boundary 1, for which a percentile interval has no meaningful coverage.)"""
    _check_rejection("system-null", "blind", "system_rank_spearman")
    _check_rejection("system-null", "blind", "system_rank_kendall")
