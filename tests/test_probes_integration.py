"""Bias probes end to end: the demo's planted biases fire, unavailable probes are explained (not fatal) in a
report and a clear error when asked for by name, and the probe rows carry the fixed metric names."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import metajudge as mj
from metajudge.cli import app
from metajudge.demo import simulate_demo
from metajudge.probes import PROBE_METRICS, ProbeUnavailable


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return simulate_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def pairwise(demo):
    return mj.run_config(demo["pairwise"], n_resamples=200)


@pytest.fixture(scope="module")
def pointwise(demo):
    return mj.run_config(demo["pointwise"], n_resamples=200)


def _probe(a, judge, metric):
    r = a.probe_results.query("judge == @judge and metric == @metric")
    assert len(r) == 1, (judge, metric, len(r))
    return r.iloc[0]


def test_each_planted_bias_fires_in_its_judge_only(pairwise, pointwise):
    # position: primacy-judge picks the first shown slot; fair-judge does not
    assert _probe(pairwise, "primacy-judge", "first_position_rate")["p_adjusted"] < 0.01
    assert _probe(pairwise, "fair-judge", "first_position_rate")["p_adjusted"] > 0.05
    # length: verbose-judge prefers the longer answer beyond what the humans do
    r = _probe(pairwise, "verbose-judge", "prefer_longer_excess")
    assert r["ci_low"] > 0 and r["p_adjusted"] < 0.01
    assert _probe(pairwise, "fair-judge", "prefer_longer_excess")["p_adjusted"] > 0.05
    # self-preference: basalt-judge favours its own family
    r = _probe(pairwise, "basalt-judge", "self_preference_eo")
    assert r["ci_low"] > 0 and r["p_adjusted"] < 0.01
    assert _probe(pairwise, "fair-judge", "self_preference_eo")["p_adjusted"] > 0.05
    # leniency: lenient-judge scores higher than the humans
    r = _probe(pointwise, "lenient-judge", "leniency_shift")
    assert r["ci_low"] > 0.3 and r["p_adjusted"] < 0.01
    # system-level validity is measured on the pointwise task
    assert not pointwise.probe_results.query("metric == 'system_rank_spearman'").empty


def test_probe_rows_use_the_fixed_names_and_holm_within_probes(pairwise, pointwise):
    names = set(pairwise.probe_results["metric"]) | set(pointwise.probe_results["metric"])
    fixed = set(PROBE_METRICS) - {"repetition_stability", "leniency_p_plus"}  # no repeats / not binary here
    assert fixed <= names
    from statsmodels.stats.multitest import multipletests

    pr = pairwise.probe_results.dropna(subset=["p_value"])
    expected = multipletests(pr["p_value"], method="holm")[1]
    assert pr["p_adjusted"].to_numpy() == pytest.approx(expected)


def test_unavailable_probes_are_explained_in_the_report(pointwise, tmp_path):
    skipped = {p.probe: p.skipped for p in pointwise.probes}
    assert any("pairwise" in s or "order" in s for s in skipped["position"])
    mj.write_report(pointwise, tmp_path / "r")
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "Bias probes" in html and "could not be measured" in html.lower()
    data = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    assert {p["probe"] for p in data["probes"]} >= {"position", "length", "self_preference", "leniency", "system"}


def test_probe_asked_for_by_name_is_a_clear_error(demo):
    res = CliRunner().invoke(app, ["probe", str(demo["pointwise"]), "--probe", "position", "-q",
                                   "--n-resamples", "20"])
    assert res.exit_code == 1
    assert "error:" in res.output and "Traceback" not in res.output


def test_self_preference_and_length_name_the_missing_columns(demo):
    from metajudge.config import apply_overrides, load_config
    from metajudge.pipeline import load_table
    from metajudge.probes import get_probe

    cfg = load_config(demo["pairwise"])
    cfg = apply_overrides(cfg, {"gold.columns.generator_a": "null", "gold.columns.generator_b": "null",
                                "gold.columns.length_a": "null", "gold.columns.length_b": "null"})
    table = load_table(cfg)
    with pytest.raises(ProbeUnavailable, match="generator"):
        get_probe("self_preference")(table, options={"families": {"basalt-judge": "basalt"}},
                                     confidence_level=0.95, n_resamples=10, rng=None)
    with pytest.raises(ProbeUnavailable, match="length_a"):
        get_probe("length")(table, options={}, confidence_level=0.95, n_resamples=10, rng=None)


def test_probe_command_prints_probe_rows(demo):
    res = CliRunner().invoke(app, ["probe", str(demo["pairwise"]), "--probe", "position,length", "-q",
                                   "--n-resamples", "30", "--format", "csv"])
    assert res.exit_code == 0, res.output
    from io import StringIO

    df = pd.read_csv(StringIO(res.output))
    assert set(df["probe"]) == {"position", "length"}
    assert (df["section"] == "probe").all()
    bad = CliRunner().invoke(app, ["probe", str(demo["pairwise"]), "--probe", "postion"])
    assert bad.exit_code == 2
