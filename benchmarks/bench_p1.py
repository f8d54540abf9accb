"""Benchmark P1 (docs/PERFORMANCE.md): 2 raters, 5 ordered levels, all agreement metrics with 1,000-resample CIs.

metajudge: one ``mj.table_estimates`` call over every table metric valid for an ordinal scale (levels 0..4):
the κ family, π, AC1/AC2, PABAK, α, balanced accuracy, MCC and the Pearson / Spearman / Kendall τ-b / τ-c
correlations of the 5×5 table, each with a 1,000-resample interval from one set of multinomial tables.
Peer: what a user would write instead, a loop of ``sklearn.metrics.cohen_kappa_score`` on resampled indices.
The peer loop runs for as many iterations as fit in a time budget and is scaled to 1,000 (iterations cost the
same); the output says so.

Usage::

    python benchmarks/bench_p1.py            # n = 1e4, 1e5, 1e6; 5 timed runs each
    python benchmarks/bench_p1.py --quick    # n = 1e4 only, 3 runs, short peer budget
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings

from pathlib import Path

import numpy as np
from sklearn.metrics import cohen_kappa_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
import metajudge as mj  # noqa: E402
from metajudge.metrics import TABLE_METRICS  # noqa: E402

N_RESAMPLES = 1000
K = 5
LEVELS = list(range(K))
TARGET_MS = 50.0
TARGET_RATIO = 1000.0
#: every table metric that is valid for an ordinal (non-binary) scale
ORDINAL_METRICS = [name for name, spec in TABLE_METRICS.items() if not spec.binary]


def make_data(n: int, seed: int = 20240601) -> tuple[np.ndarray, np.ndarray]:
    """Seeded synthetic int codes: a 'human' and a lenient, noisy 'judge' on 0..4."""
    rng = np.random.default_rng(seed)
    ref = rng.choice(K, size=n, p=[0.10, 0.20, 0.35, 0.25, 0.10]).astype(np.int64)
    noise = rng.choice([-1, 0, 0, 0, 1, 1], size=n)
    cand = np.clip(ref + noise * (rng.random(n) < 0.5), 0, K - 1).astype(np.int64)
    return ref, cand


def median_ms(fn, reps: int) -> float:
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run_kappa_only(ref, cand):
    return mj.cohen_kappa(ref, cand, levels=LEVELS, n_resamples=N_RESAMPLES, rng=0)


def run_all(ref, cand):
    out = mj.table_estimates(ref, cand, ORDINAL_METRICS, levels=LEVELS, n_resamples=N_RESAMPLES, rng=0)
    return out


def peer_ms_per_1000(ref, cand, budget_s: float) -> tuple[float, int]:
    """Time a loop of sklearn cohen_kappa_score on resampled indices; return (ms scaled to 1,000, iterations)."""
    rng = np.random.default_rng(1)
    n = len(ref)
    iters = 0
    t0 = time.perf_counter()
    while True:
        idx = rng.integers(0, n, n)
        cohen_kappa_score(ref[idx], cand[idx], labels=LEVELS)
        iters += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= budget_s or iters >= N_RESAMPLES:
            break
    return elapsed / iters * N_RESAMPLES * 1000, iters


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="n = 1e4 only, 3 runs, 1 s peer budget")
    ap.add_argument("--peer-budget", type=float, default=None, help="seconds for the peer loop (default 3)")
    args = ap.parse_args(argv)
    sizes = [10_000] if args.quick else [10_000, 100_000, 1_000_000]
    reps = 3 if args.quick else 5
    budget = args.peer_budget if args.peer_budget is not None else (1.0 if args.quick else 3.0)

    print(f"metajudge {mj.__version__} | numpy {np.__version__} | python {platform.python_version()} | "
          f"{os.cpu_count()} CPUs | {platform.machine()}")
    print(f"P1: 2 raters, {K} levels, {N_RESAMPLES} bootstrap resamples, median of {reps} runs")
    print(f"table metrics ({len(ORDINAL_METRICS)}): {', '.join(ORDINAL_METRICS)}")
    print("(correlations included, on the same table)\n")

    warnings.simplefilter("error", mj.UndefinedMetricWarning)  # benchmark data must give defined values
    rows = []
    for n in sizes:
        ref, cand = make_data(n)
        res = run_all(ref, cand)
        assert all(np.isfinite(e.estimate) and np.isfinite(e.ci_low) for e in res.values()), res
        kappa_ms = median_ms(lambda: run_kappa_only(ref, cand), reps)
        all_ms = median_ms(lambda: run_all(ref, cand), reps)
        peer_ms, iters = peer_ms_per_1000(ref, cand, budget)
        scaled = iters < N_RESAMPLES
        rows.append((n, kappa_ms, all_ms, peer_ms, iters, scaled, res["cohen_kappa"]))
        print(f"  n={n:>9,}: peer ran {iters} iteration(s) in the {budget:g} s budget"
              + (f", scaled to {N_RESAMPLES}" if scaled else f" (all {N_RESAMPLES}, not scaled)"))

    print()
    hdr = (f"{'n':>10} | {'mj kappa ms':>11} | {'mj all ms':>9} | {'peer ms (1000 resamples)':>24} | "
           f"{'ratio peer/kappa':>16} | {'ratio peer/all':>14}")
    print(hdr)
    print("-" * len(hdr))
    for n, kappa_ms, all_ms, peer_ms, iters, scaled, _ in rows:
        peer_s = f"{peer_ms:,.0f}{' (scaled)' if scaled else ''}"
        print(f"{n:>10,} | {kappa_ms:>11.1f} | {all_ms:>9.1f} | {peer_s:>24} | {peer_ms / kappa_ms:>15,.0f}x | "
              f"{peer_ms / all_ms:>13,.0f}x")
    print()
    e = rows[-1][6]
    print(f"check (n={rows[-1][0]:,}): {e}")

    big = [r for r in rows if r[0] == 1_000_000]
    if big:
        n, kappa_ms, all_ms, peer_ms, *_ = big[0]
        ok_time = all_ms <= TARGET_MS
        ok_ratio = peer_ms / all_ms >= TARGET_RATIO
        print(f"P1 target at n=1e6, all metrics: {all_ms:.1f} ms <= {TARGET_MS:g} ms: "
              f"{'MET' if ok_time else 'NOT MET'}; peer/metajudge = {peer_ms / all_ms:,.0f}x >= "
              f"{TARGET_RATIO:,.0f}x: {'MET' if ok_ratio else 'NOT MET'}")
        print(f"  (kappa alone: {kappa_ms:.1f} ms, {peer_ms / kappa_ms:,.0f}x)")
    else:
        print("P1 target is defined at n=1e6; run without --quick to check it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
