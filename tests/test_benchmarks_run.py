"""benchmarks/run.py on toy sizes (``--tiny``): every workload runs and the JSON rows keep their schema.

Timings are not asserted: the benchmark is a measurement, and the toy sizes mean nothing.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys

from pathlib import Path

import pytest

RUN_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
KEYS = {"workload", "metajudge_s", "peer_s", "ratio", "target", "passed"}


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("metajudge_bench_run", RUN_PY)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up by name
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def tiny_rows(bench, tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "rows.json"
    assert bench.main(["--tiny", "--json", str(path)]) == 0
    return json.loads(path.read_text())


def test_every_workload_has_a_row_in_order(bench, tiny_rows):
    assert [r["workload"] for r in tiny_rows] == list(bench.WORKLOADS)
    assert [f"P{i}" for i in range(1, 12)] + ["R1"] == list(bench.WORKLOADS)


def test_json_schema(tiny_rows):
    for row in tiny_rows:
        assert KEYS <= set(row), row
        assert isinstance(row["workload"], str) and isinstance(row["target"], str)
        if row["workload"] in ("P5", "P6"):  # not defined in PERFORMANCE.md: nothing measured, nothing to pass
            assert row["passed"] is None and row["metajudge_s"] is None and row["peer_s"] is None
            assert row["ratio"] is None and "not defined" in row["target"]
            continue
        assert isinstance(row["passed"], bool)
        for key in ("metajudge_s", "peer_s", "ratio"):
            assert isinstance(row[key], float) and math.isfinite(row[key]) and row[key] > 0, (key, row)
        assert row["ratio"] == pytest.approx(row["peer_s"] / row["metajudge_s"])
        assert row["passed"] == all(row["checks"].values())
        assert row["mode"] == "tiny"


def test_p10_reports_peak_rss_from_a_child(tiny_rows):
    (p10,) = [r for r in tiny_rows if r["workload"] == "P10"]
    assert isinstance(p10["peak_rss_mb"], float) and p10["peak_rss_mb"] > 0
    assert "rss" in p10["checks"] and "RSS" in p10["target"]
    assert p10["peak_rss_mb"] >= p10["import_rss_mb"] * 0.9  # the run imports, then works


def test_only_and_output(bench, tmp_path, capsys):
    path = tmp_path / "sub.json"
    assert bench.main(["--tiny", "--only", "p11,P5", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "SIZES ARE REDUCED" in out and "not defined in PERFORMANCE.md" in out
    assert [r["workload"] for r in json.loads(path.read_text())] == ["P5", "P11"]
    with pytest.raises(SystemExit):
        bench.main(["--tiny", "--only", "P12"])
