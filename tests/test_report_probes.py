"""Tests of the bias-probe presentation: the report section, results.json, probes.csv and LaTeX, on synthetic
ProbeResults for all five probes (the probes themselves are tested elsewhere)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

import metajudge.results as results_mod
from metajudge.probes.base import ProbeResult, estimate, probe_row
from metajudge.report import render_html, results_to_json, to_latex, write_report, write_tables
from metajudge.report.html import PROBE_FRAME_KINDS
from metajudge.results import COVERAGE_COLUMNS, PROBLEM_COLUMNS, RESULT_COLUMNS, Analysis, display_name
from metajudge.scales import Scale

NAN = float("nan")
LEVELS = ["poor", "fair", "good", "great"]  # declared order, not alphabetical
EVIL_JUDGE = "<img src=x onerror=alert(1)>"
EVIL_SYSTEM = "<script>alert('sys')</script>"
EVIL_NOTE = "<b>bold</b> & note"
EVIL_SKIP = "no <generator> column & no judge_family map; add `generator` to enable"
JUDGES = ["gpt-judge", EVIL_JUDGE]

#: The DISPLAY_NAMES entries proposed for metajudge/results.py (tested here by patching them in).
PROPOSED_DISPLAY_NAMES: dict[str, str] = {
    "position_consistency": "Position consistency",
    "preference_fairness": "Preference fairness",
    "first_position_rate": "First-position rate",
    "flip_rate": "Flip rate",
    "both_order_accuracy": "Both-order accuracy",
    "repetition_stability": "Repetition stability",
    "prefer_longer_rate": "Prefer-longer rate",
    "prefer_longer_excess": "Prefer-longer excess (judge − human)",
    "length_coef": "Δ log-length coefficient",
    "length_odds_ratio": "Δ log-length odds ratio",
    "length_controlled_win_rate": "Length-controlled win rate",
    "self_preference_eo": "Self-preference (equal opportunity)",
    "self_preference_inflation": "Self-preference win-rate inflation",
    "leniency_shift": "Leniency shift (judge − human)",
    "leniency_p_plus": "P₊ (lenient guess rate)",
    "leniency_p_c": "P_c (probability correct)",
    "false_positive_rate": "False-positive rate",
    "false_negative_rate": "False-negative rate",
    "tie_rate": "Tie rate",
    "tie_rate_excess": "Tie-rate excess (judge − human)",
    "marginal_homogeneity": "Marginal homogeneity",
    "loa_lower": "Lower limit of agreement",
    "loa_upper": "Upper limit of agreement",
    "system_rank_spearman": "System ranking Spearman ρ",
    "system_rank_kendall": "System ranking Kendall τ",
    "system_score_deviation": "Mean |judge − human| per system",
}

PROBE_METRICS = {
    "position": ["position_consistency", "preference_fairness", "first_position_rate", "both_order_accuracy"],
    "length": ["prefer_longer_rate", "prefer_longer_excess", "length_coef", "length_controlled_win_rate"],
    "self_preference": ["self_preference_eo", "self_preference_inflation"],
    "leniency": ["leniency_shift", "leniency_p_plus"],
    "system": ["system_rank_spearman", "system_rank_kendall"],
}
FRAME_NAMES = {
    "position": ["classes"],
    "length": ["prefer_longer"],
    "self_preference": ["bars"],
    "leniency": ["bland_altman", "distribution"],
    "system": ["ranking"],
}
TITLES = ["Position bias", "Length bias", "Self-preference", "Leniency", "System-level validity"]


def _rows(probe: str) -> list[dict]:
    out = []
    for k, judge in enumerate(JUDGES):
        for m_idx, metric in enumerate(PROBE_METRICS[probe]):
            est = 0.1 * (m_idx + 1) - 0.05 * k
            e = estimate(metric, est, est - 0.05, est + 0.05, n=200 + k, confidence_level=0.9,
                         method="bootstrap-cluster", note=EVIL_NOTE if (k == 1 and m_idx == 0) else "")
            level = "system" if probe == "system" else "item"
            out.append(probe_row(probe, judge, e, p_value=0.002 * (m_idx + 1), level=level))
    if probe == "leniency":  # Bland–Altman limits of the first judge (its shift row is above), drawn from rows
        for metric, value in (("bland_altman_lower", -1.23), ("bland_altman_upper", 1.45)):
            out.append(probe_row(probe, JUDGES[0], estimate(metric, value, value - 0.1, value + 0.1, n=200,
                                                            confidence_level=0.9, method="bootstrap")))
    if probe == "length":  # the humans' own rate, beside the judges
        e = estimate("prefer_longer_rate", 0.55, 0.5, 0.6, n=400, confidence_level=0.9, method="bootstrap")
        out.append(probe_row(probe, "humans", e, rater_kind="human"))
    return out


def _frames(probe: str) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(1)
    if probe == "position":
        return {"classes": pd.DataFrame({"judge": np.repeat(JUDGES, 3), "cls": ["consistent", "primacy", "recency"] * 2,
                                         "count": [140, 40, 20, 90, 10, 100]})}
    if probe == "length":
        bins = np.linspace(-1.5, 1.5, 7)
        parts = [pd.DataFrame({"rater": r, "bin": bins, "rate": np.clip(0.5 + s * bins, 0, 1), "n": 30})
                 for r, s in (("humans", 0.05), ("gpt-judge", 0.15), (EVIL_JUDGE, 0.25))]
        return {"prefer_longer": pd.concat(parts, ignore_index=True)}
    if probe == "self_preference":  # as the probe gives it: the components of each metric
        bars = pd.DataFrame({"judge": np.tile(np.repeat(JUDGES, 2), 2),
                             "metric": np.repeat(["self_preference_eo", "self_preference_inflation"], 4),
                             "group": ["own", "other"] * 2 + ["judge", "human"] * 2,
                             "value": [0.62, 0.5, 0.55, 0.51, 0.7, 0.6, 0.52, 0.5]})
        bars["ci_low"], bars["ci_high"] = bars["value"] - 0.05, bars["value"] + 0.05
        return {"bars": bars}
    if probe == "leniency":
        ba = pd.DataFrame({"judge": np.repeat(JUDGES, 40), "mean": rng.integers(0, 7, 80) / 2,
                           "diff": rng.integers(-2, 3, 80)})
        dist = pd.DataFrame({"rater": np.repeat(["humans", *JUDGES], 4), "value": LEVELS * 3,
                             "share": [0.1, 0.2, 0.4, 0.3, 0.05, 0.15, 0.5, 0.3, 0.0, 0.1, 0.5, 0.4]})
        return {"bland_altman": ba, "distribution": dist}
    systems = ["sys-a", "sys-b", EVIL_SYSTEM, "sys-d"]
    human = [3.1, 2.4, 3.8, 1.9]
    frame = pd.DataFrame({"judge": np.repeat(JUDGES, 4), "system": systems * 2, "human_score": human * 2,
                          "judge_score": [3.3, 2.2, 3.9, 2.5, 2.9, 3.0, 3.5, 2.0]})
    frame["human_rank"] = frame.groupby("judge")["human_score"].rank(ascending=False)
    frame["judge_rank"] = frame.groupby("judge")["judge_score"].rank(ascending=False)
    return {"ranking": frame}


def _probe(probe: str) -> ProbeResult:
    counts = {j: {"items": 200 + k, "unparseable": k, "table": [[1, 2], [3, 4]]} for k, j in enumerate(JUDGES)}
    if probe == "position":
        counts = {j: {"consistent": c, "primacy": p, "recency": r, "missing_mirror": 3}
                  for j, (c, p, r) in zip(JUDGES, ((140, 40, 20), (90, 10, 100)), strict=True)}
    skipped = ["3 pairs lack their mirrored order and were not classified."] if probe == "position" else []
    return ProbeResult(probe=probe, rows=_rows(probe), counts=counts, skipped=skipped, frames=_frames(probe),
                       description=f"The {probe} probe on 200 items <i>synthetic</i>.")


def make_analysis(probes: list[ProbeResult]) -> Analysis:
    agreement = [dict(section="agreement", judge=j, rater_kind="judge", reference="majority(humans)",
                      metric="cohen_kappa_quadratic", level="item", slice="all", estimate=0.7, ci_low=0.65,
                      ci_high=0.75, confidence_level=0.95, n=200, method="bootstrap", note="", p_value=NAN,
                      p_adjusted=NAN, probe="") for j in JUDGES]
    rows = agreement + [r for p in probes for r in p.rows]
    results = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    probe_mask = results["section"] == "probe"
    results.loc[probe_mask, "p_adjusted"] = np.minimum(results.loc[probe_mask, "p_value"] * 3, 1.0)
    return Analysis(results=results, coverage=pd.DataFrame(columns=COVERAGE_COLUMNS),
                    problems=pd.DataFrame(columns=PROBLEM_COLUMNS), confusion={},
                    scale=Scale("ordinal", levels=LEVELS), provenance={"seed": 0, "created_at": "2025-01-02"},
                    title="Probe report", probes=probes)


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    # given in a shuffled order: the report puts them in the fixed order
    return make_analysis([_probe(p) for p in ("system", "leniency", "position", "self_preference", "length")])


@pytest.fixture(scope="module")
def html(analysis) -> str:
    return render_html(analysis)


def _visible(html: str) -> str:
    """The page without the embedded results JSON."""
    return re.sub(r'<script type="application/json" id="metajudge-results">.*?</script>', "", html, flags=re.DOTALL)


def _probe_section(html: str) -> str:
    start = html.index('<section id="probes">')
    return html[start:html.index('<section id="all-estimates">', start)]


# ----------------------------------------------------------------------------------------------- HTML
def test_probe_section_renders_in_order(html):
    assert '<a href="#probes">Bias probes</a>' in html
    sec = _probe_section(html)
    positions = [sec.index(f"<h3>{escape(t)}</h3>") for t in TITLES]
    assert positions == sorted(positions)
    # after the agreement sections, before the list of every estimate
    assert html.index('id="agreement"') < html.index('id="probes"') < html.index('id="all-estimates"')
    for probe in PROBE_METRICS:
        assert f'<section id="probe-{probe}" class="probe">' in sec
    assert "The position probe on 200 items &lt;i&gt;synthetic&lt;/i&gt;." in sec


def test_probe_tables_show_metrics_ci_level_and_p(html):
    sec = _probe_section(html)
    for metrics in PROBE_METRICS.values():
        for m in metrics:
            assert str(escape(display_name(m))) in sec, m
    assert "Estimate<span class=\"ci\">[90% CI]</span>" in sec
    assert "p (Holm-adjusted)" in sec
    assert "0.006" in sec  # Holm-adjusted p of the first metric (0.002 × 3)
    assert "0.100 <span class=\"ci\">[0.050, 0.150]</span>" in sec
    assert "humans" in sec  # the human rate beside the judges
    assert "Level" in sec.split('id="probe-system"')[1]  # system-level rows say so


def test_probe_display_names(monkeypatch):
    for k, v in PROPOSED_DISPLAY_NAMES.items():
        monkeypatch.setitem(results_mod.DISPLAY_NAMES, k, v)
    a = make_analysis([_probe(p) for p in PROBE_METRICS])
    sec = _probe_section(render_html(a))
    for label in ("Position consistency", "Preference fairness", "Prefer-longer excess (judge − human)",
                  "Δ log-length coefficient", "Self-preference (equal opportunity)",
                  "Leniency shift (judge − human)", "P₊ (lenient guess rate)", "System ranking Spearman ρ"):
        assert label in sec, label
    assert "position_consistency" not in _visible(sec)


def test_probe_counts_and_skipped(html):
    sec = _probe_section(html)
    pos = sec[sec.index('id="probe-position"'):sec.index('id="probe-length"')]
    assert "Counts that went into the estimates" in pos
    assert "missing mirror" in pos and ">140<" in pos and ">100<" in pos
    assert "<h4>Could not be measured</h4>" in pos
    assert "3 pairs lack their mirrored order and were not classified." in pos


def test_nested_counts_stay_in_json(html, analysis):
    sec = _probe_section(html)
    assert "[[1, 2], [3, 4]]" not in sec and ">unparseable<" in sec
    data = json.loads(results_to_json(analysis))
    assert data["probes"][0]["counts"]["gpt-judge"]["table"] == [[1, 2], [3, 4]]


def test_one_svg_per_frame_kind(html):
    sec = _probe_section(html)
    expected = ["probe_position_classes", "probe_length_prefer_longer", "probe_self_preference_bars",
                "probe_leniency_bland_altman", "probe_leniency_distribution", "probe_system_ranking"]
    ids = re.findall(r'<figure id="(probe_[^"]+)">', sec)
    assert ids == expected
    assert sec.count("<svg") == len(expected)
    for fid in expected:
        fig = sec[sec.index(f'<figure id="{fid}">'):]
        fig = fig[:fig.index("</figure>")]
        assert 'role="img"' in fig and "<title>" in fig and "<figcaption>" in fig
    kinds = {PROBE_FRAME_KINDS[n] for names in FRAME_NAMES.values() for n in names}
    assert len(kinds) == 6


def test_bland_altman_limits_from_rows(html):
    sec = _probe_section(html)
    fig = sec[sec.index('<figure id="probe_leniency_bland_altman">'):]
    fig = fig[:fig.index("</figure>")]
    # Matplotlib writes each text as an (escaped) comment before its paths: the panel titles
    assert "shift +0.10, LoA [−1.23, +1.45]" in fig  # the reported rows, not a recomputation
    assert len(re.findall(r"<!-- shift [+−]\d\.\d\d, LoA \[", fig)) == 2  # the other judge: computed


def test_peer_adjusted_and_difference_labels():
    from metajudge.report.html import _metric_label

    assert _metric_label("self_preference_eo_peer_adjusted") == display_name("self_preference_eo_peer_adjusted")
    assert _metric_label("leniency_shift_peer_adjusted") == display_name("leniency_shift") + " (peer-adjusted)"
    assert _metric_label("cohen_kappa_difference") == "Δ " + display_name("cohen_kappa")
    assert _metric_label("mean_difference") == display_name("mean_difference")


def test_skipped_probe_is_listed(tmp_path):
    reason = EVIL_SKIP
    probes = [_probe(p) for p in ("position", "length", "leniency", "system")]
    probes.insert(2, ProbeResult(probe="self_preference", skipped=[reason]))
    a = make_analysis(probes)
    html = write_report(a, tmp_path, figures=())["report.html"].read_text(encoding="utf-8")
    sec = _probe_section(html)
    sp = sec[sec.index('id="probe-self_preference"'):sec.index('id="probe-leniency"')]
    assert "<h3>Self-preference</h3>" in sp
    assert "Could not be measured" in sp and "This probe could not be run on these data." in sp
    assert str(escape(reason)) in sp
    assert "<svg" not in sp and "<table" not in sp
    assert "<generator>" not in html
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    entry = [p for p in data["probes"] if p["probe"] == "self_preference"][0]
    assert entry["skipped"] == [reason] and entry["counts"] == {}


def test_probe_data_escaped(html):
    visible = _visible(html)
    assert "<img src=x" not in html
    assert "<script>alert" not in html
    assert "<b>bold</b>" not in html and "<i>synthetic</i>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in visible
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; note" in visible
    assert html.count("<script") == 1  # only the JSON block
    # the system name is drawn in the ranking figure (as paths); Matplotlib's text comment is escaped
    ranking = visible[visible.index('<figure id="probe_system_ranking">'):].split("</figure>")[0]
    assert "&lt;script&gt;alert(" in ranking and "<script" not in ranking


def test_probe_section_absent_without_probes():
    a = make_analysis([])
    html = render_html(a)
    assert 'id="probes"' not in html and "Bias probes" not in html
    assert json.loads(results_to_json(a))["probes"] == []


def test_rows_without_probe_result_and_unnamed_frames():
    probes = [_probe("position")]
    probes[0].frames = {"pairs_by_class": probes[0].frames["classes"], "raw_table": pd.DataFrame({"x": [1]}),
                        "empty": pd.DataFrame(columns=["judge", "cls", "count"])}
    a = make_analysis(probes)
    extra = pd.DataFrame(_rows("leniency"), columns=RESULT_COLUMNS)  # rows of a probe without a ProbeResult
    a.results = pd.concat([a.results, extra], ignore_index=True)
    sec = _probe_section(render_html(a))
    assert sec.index("<h3>Position bias</h3>") < sec.index("<h3>Leniency</h3>")
    assert re.findall(r'<figure id="(probe_[^"]+)">', sec) == ["probe_position_pairs_by_class"]
    assert str(escape(display_name("leniency_shift"))) in sec


def test_pointwise_length_frame_is_drawn():
    length = _probe("length")
    frame = length.frames.pop("prefer_longer").rename(columns={"rate": "score"})
    length.frames["length_score"] = frame.assign(score=frame["score"] * 4 + 1)
    sec = _probe_section(render_html(make_analysis([length])))
    assert re.findall(r'<figure id="(probe_[^"]+)">', sec) == ["probe_length_length_score"]
    assert "mean score per log-length bin" in sec


def test_correlation_levels_exclude_probe_rows(html):
    if 'id="correlation-levels"' in html:
        levels = html[html.index('id="correlation-levels"'):html.index('id="probes"')]
        assert "system_rank" not in levels and "System ranking" not in levels


# ----------------------------------------------------------------------------------------- exports
def test_results_json_has_probes(analysis):
    data = json.loads(results_to_json(analysis))
    assert list(data)[-1] == "probes"
    assert [p["probe"] for p in data["probes"]] == ["system", "leniency", "position", "self_preference", "length"]
    pos = [p for p in data["probes"] if p["probe"] == "position"][0]
    assert set(pos) == {"probe", "description", "counts", "skipped"}
    assert pos["counts"][EVIL_JUDGE] == {"consistent": 90, "primacy": 10, "recency": 100, "missing_mirror": 3}
    assert pos["skipped"] == ["3 pairs lack their mirrored order and were not classified."]
    probe_rows = [r for r in data["results"] if r["section"] == "probe"]
    assert len(probe_rows) == sum(len(p.rows) for p in analysis.probes)
    assert {r["probe"] for r in probe_rows} == set(PROBE_METRICS)
    assert all(r["probe"] == "" for r in data["results"] if r["section"] != "probe")


def test_embedded_json_matches(html, analysis):
    m = re.search(r'<script type="application/json" id="metajudge-results">(.*?)</script>', html, re.DOTALL)
    assert json.loads(m.group(1)) == json.loads(results_to_json(analysis))


def test_probes_csv(tmp_path, analysis):
    paths = write_tables(analysis, tmp_path)
    assert [p.name for p in paths][:8] == ["results.csv", "agreement.csv", "ceiling.csv", "baselines.csv",
                                           "comparisons.csv", "coverage.csv", "problems.csv", "probes.csv"]
    probes = pd.read_csv(tmp_path / "tables" / "probes.csv", keep_default_na=False, na_values=[""])
    assert list(probes.columns) == RESULT_COLUMNS
    assert len(probes) == int((analysis.results["section"] == "probe").sum())
    assert (probes["section"] == "probe").all() and EVIL_JUDGE in set(probes["judge"])
    empty = make_analysis([])
    write_tables(empty, tmp_path / "empty")
    assert (tmp_path / "empty" / "tables" / "probes.csv").read_text(encoding="utf-8").startswith("section,judge,")


def test_to_latex_probe_rows(analysis, monkeypatch):
    monkeypatch.setitem(results_mod.DISPLAY_NAMES, "position_consistency", "Position consistency")
    tex = to_latex(analysis.probe_results, metrics=["position_consistency", "prefer_longer_excess",
                                                    "system_rank_spearman"])
    assert r"\multicolumn{4}{l}{\emph{Bias probes: Position bias}}" in tex
    assert tex.index("Position bias") < tex.index("Length bias") < tex.index("System-level validity")
    assert "Position consistency" in tex
    assert r"system\_rank\_spearman (system)" in tex or "(system)" in tex
    assert r"\textless{}img src=x onerror=alert(1)\textgreater{}" in tex
    assert r"estimate [90\% CI]" in tex
    for line in tex.splitlines():
        if line.endswith(r"\\") and "multicolumn" not in line:
            assert line.count(" & ") == 3, line
    monkeypatch.setitem(results_mod.DISPLAY_NAMES, "leniency_p_plus", "P₊ (lenient guess rate)")
    assert r"P$_{+}$ (lenient guess rate)" in to_latex(analysis.probe_results, metrics=["leniency_p_plus"])
    only = to_latex(analysis.results, sections=["probe"], metrics=["leniency_shift"])
    assert "LLM judges" not in only and "Bias probes: Leniency" in only
    both = to_latex(analysis.results)
    assert "LLM judges" in both and "Bias probes" in both


# ------------------------------------------------------------------------------------- determinism
def test_render_deterministic(analysis, html):
    assert render_html(analysis) == html
    again = make_analysis([_probe(p) for p in ("system", "leniency", "position", "self_preference", "length")])
    assert render_html(again) == html


def test_write_report_byte_identical(tmp_path, analysis):
    a = write_report(analysis, tmp_path / "a", figures=("svg", "png"))
    b = write_report(analysis, tmp_path / "b", figures=("svg", "png"))
    assert sorted(a) == sorted(b)
    assert "figures/probe_leniency_bland_altman.svg" in a and "tables/probes.csv" in a
    for key in a:
        assert a[key].read_bytes() == b[key].read_bytes(), key
    assert all(isinstance(p, Path) for p in a.values())
