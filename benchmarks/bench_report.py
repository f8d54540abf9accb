"""Report at scale (issue 4): 10 judges × 20,000 items × 3 slices, 1,000 resamples.

Times the whole path a user runs after reading the data (align → analyze with every probe the data allows →
write_report) on a seeded simulation (metajudge.simulate), and prints the wall time of each step, the size of
report.html, and whether the targets hold: the report renders in under 30 s and the HTML stays under 5 MB.

Usage::

    python benchmarks/bench_report.py            # 10 judges × 20,000 items, 1,000 resamples
    python benchmarks/bench_report.py --quick    # 3 judges × 2,000 items, 200 resamples
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
import metajudge as mj  # noqa: E402
from metajudge.simulate import JudgeSpec, simulate_pointwise  # noqa: E402

TARGET_S = 30.0
TARGET_MB = 5.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--judges", type=int, default=10)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--n-resamples", type=int, default=1000)
    args = ap.parse_args(argv)
    n_judges, n_items, n_res = (3, 2_000, 200) if args.quick else (args.judges, args.items, args.n_resamples)
    rng = np.random.default_rng(0)
    specs = [JudgeSpec(f"judge-{i:02d}", noise=float(rng.uniform(0.3, 1.5)), leniency=float(rng.uniform(-0.5, 0.5)))
             for i in range(n_judges)]
    t0 = time.perf_counter()
    sim = simulate_pointwise(n_items, specs, seed=0)
    gold = sim.gold.copy()
    codes = gold["item_id"].str.extract(r"(\d+)$")[0].astype(int).to_numpy() % 3
    gold["domain"] = np.asarray(["code", "math", "writing"])[codes]
    t1 = time.perf_counter()
    table = mj.align(gold, sim.judges, sim.scale, slices=["domain"])
    t2 = time.perf_counter()
    analysis = mj.analyze(table, n_resamples=n_res, seed=0, probes=None)
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        mj.write_report(analysis, tmp)
        t4 = time.perf_counter()
        size_mb = (Path(tmp) / "report.html").stat().st_size / 1e6
    render_s = t4 - t1
    print(f"report at scale: {n_judges} judges × {n_items:,} items × 3 slices, {n_res} resamples")
    print(f"  simulate  {t1 - t0:7.2f} s (not counted)")
    print(f"  align     {t2 - t1:7.2f} s")
    print(f"  analyze   {t3 - t2:7.2f} s (agreement, ceiling, baselines, slices, comparisons, probes)")
    print(f"  write     {t4 - t3:7.2f} s (report.html, results.json, tables)")
    print(f"  total     {render_s:7.2f} s   target < {TARGET_S:.0f} s: {'MET' if render_s < TARGET_S else 'NOT MET'}")
    print(f"  report.html {size_mb:.2f} MB   target < {TARGET_MB:.0f} MB: {'MET' if size_mb < TARGET_MB else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
