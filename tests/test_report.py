"""Tests of the HTML report and the JSON / CSV / LaTeX exports on a hand-built Analysis."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metajudge.report import (
    latex_escape,
    render_html,
    results_to_json,
    safe_filename,
    to_latex,
    write_json,
    write_report,
    write_tables,
)
from metajudge.report.html import headline_metrics
from metajudge.results import COVERAGE_COLUMNS, PROBLEM_COLUMNS, RESULT_COLUMNS, Analysis
from metajudge.scales import Scale

NAN = float("nan")
EVIL_JUDGE = "<img src=x onerror=alert(1)>"
EVIL_RAW = "<script>alert(1)</script>"
LEVELS = ["poor", "fair", "good", "great"]


def _row(section, judge, kind, metric, est, lo, hi, *, reference="majority(humans)", level="item",
         slice="all", n=1200, method="bootstrap-multinomial", note="", p=NAN, p_adj=NAN):
    return dict(section=section, judge=judge, rater_kind=kind, reference=reference, metric=metric, level=level,
                slice=slice, estimate=est, ci_low=lo, ci_high=hi, confidence_level=0.95, n=n, method=method,
                note=note, p_value=p, p_adjusted=p_adj)


def make_analysis() -> Analysis:
    rows = []
    for metric, base in (("cohen_kappa_quadratic", 0.71), ("krippendorff_alpha_ordinal", 0.69),
                         ("percent_agreement", 0.62)):
        rows.append(_row("agreement", "gpt-judge", "judge", metric, base, base - 0.04, base + 0.04))
        rows.append(_row("agreement", EVIL_JUDGE, "judge", metric, base - 0.2, base - 0.25, base - 0.15))
        rows.append(_row("ceiling", "h1", "human", metric, base - 0.05, base - 0.1, base,
                         reference="majority(humans-h1)", n=1180))
        rows.append(_row("ceiling", "gpt-judge", "judge", metric, base - 0.02, base - 0.07, base + 0.03,
                         reference="majority(humans-h1)", n=1180, note="mean over 3 of 3 references"))
        rows.append(_row("baseline", "random (prior)", "baseline", metric, 0.003, -0.04, 0.05))
    rows.append(_row("baseline", "majority class", "baseline", "cohen_kappa_quadratic", NAN, NAN, NAN,
                     method="none", note="undefined: p_e = 1"))
    rows.append(_row("comparison", f"gpt-judge vs {EVIL_JUDGE}", "comparison", "cohen_kappa_quadratic_difference", 0.2,
                     0.13, 0.27, method="paired-bootstrap", p=0.0004, p_adj=0.0008))
    rows.append(_row("agreement", "gpt-judge", "judge", "cohen_kappa_quadratic", 0.65, 0.55, 0.74,
                     slice="lang=de", n=312))
    rows.append(_row("agreement", "gpt-judge", "judge", "cohen_kappa_quadratic", -0.012345, -0.1, 0.08,
                     slice="lang=<b>fr</b>", n=40, note="small slice"))
    for level, est in (("dataset", 0.66), ("group", 0.41), ("system", 0.9)):
        rows.append(_row("agreement", "gpt-judge", "judge", "spearman", est, est - 0.1, min(est + 0.1, 1.0),
                         level=level, n=1200 if level != "system" else 8, method="bootstrap-cluster",
                         note="3 constant groups skipped" if level == "group" else ""))
    results = pd.DataFrame(rows, columns=RESULT_COLUMNS)

    coverage = pd.DataFrame([
        dict(source="gold", kind="human", path="data/gold.csv", rows=3355, items=1200, matched_items=1200,
             missing_in_gold=0, missing_in_judge=0, duplicate_rows=0, unparseable=0, out_of_scale=2,
             missing_label=0, excluded_rows=0, fallback_rows=0, reference_undefined=0),
        dict(source="gpt-judge", kind="judge", path="runs/gpt.jsonl", rows=1207, items=1200, matched_items=1196,
             missing_in_gold=0, missing_in_judge=4, duplicate_rows=0, unparseable=11, out_of_scale=0,
             missing_label=0, excluded_rows=0, fallback_rows=0, reference_undefined=0),
        dict(source=EVIL_JUDGE, kind="judge", path="runs/evil.jsonl", rows=1200, items=1200, matched_items=1200,
             missing_in_gold=0, missing_in_judge=0, duplicate_rows=0, unparseable=1, out_of_scale=0,
             missing_label=0, excluded_rows=0, fallback_rows=0, reference_undefined=0),
    ], columns=COVERAGE_COLUMNS)
    long_raw = "The answer is [[B]] because " + "x" * 600
    problems = pd.DataFrame([
        dict(source="gpt-judge", problem="unparseable", item_id="q&a-17", row=17, raw=EVIL_RAW),
        dict(source="gpt-judge", problem="unparseable", item_id="q-18", row=18, raw=long_raw),
        dict(source=EVIL_JUDGE, problem="unparseable", item_id="q-19", row=19, raw="</script><script>x()</script>"),
    ], columns=PROBLEM_COLUMNS)
    confusion = {
        "gpt-judge": pd.DataFrame([[50, 5, 1, 0], [6, 40, 9, 1], [1, 8, 1600, 30], [0, 1, 25, 300]],
                                  index=LEVELS, columns=LEVELS),
        EVIL_JUDGE: pd.DataFrame(np.array([[40, 10, 5, 1], [10, 30, 15, 1], [5, 20, 1500, 100], [0, 5, 50, 250]],
                                          dtype=np.int64), index=LEVELS, columns=LEVELS),
    }
    return Analysis(
        results=results, coverage=coverage, problems=problems, confusion=confusion,
        scale=Scale("ordinal", levels=LEVELS),
        config={"task": "pointwise", "bootstrap": {"n_resamples": 2000, "confidence_level": 0.95, "seed": 0}},
        provenance={"versions": {"metajudge": "0.1.0", "numpy": np.__version__},
                    "inputs": {"data/gold.csv": "ab" * 32, "runs/gpt.jsonl": "cd" * 32},
                    "seed": np.int64(0), "created_by": "pytest", "created_at": "2025-01-02T03:04:05+00:00"},
        notes=["levels declared in config", "note with <b>markup</b> & ampersand"],
        title="Demo <report> & test",
    )


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return make_analysis()


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory, analysis) -> tuple[Path, dict[str, Path]]:
    out = tmp_path_factory.mktemp("report")
    return out, write_report(analysis, out, figures=("svg", "pdf", "png"))


def _embedded_json(html: str) -> str:
    m = re.search(r'<script type="application/json" id="metajudge-results">(.*?)</script>', html, re.DOTALL)
    assert m, "embedded results block not found"
    return m.group(1)


# ------------------------------------------------------------------------------------------ HTML
def test_report_files_written(report_dir):
    out, written = report_dir
    assert (out / "report.html").is_file()
    assert written["report.html"] == out / "report.html"
    assert written["results.json"] == out / "results.json"
    for name in ("results", "agreement", "ceiling", "baselines", "comparisons", "coverage", "problems"):
        assert (out / "tables" / f"{name}.csv").is_file()
    assert (out / "tables" / "confusion_gpt-judge.csv").is_file()
    figs = sorted(p.name for p in (out / "figures").iterdir())
    assert "forest_cohen_kappa_quadratic.svg" in figs and "forest_cohen_kappa_quadratic.pdf" in figs
    assert "confusion_gpt-judge.png" in figs
    assert all(p.is_file() for p in written.values())


def test_report_escapes_data(report_dir):
    html = (report_dir[0] / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>fr</b>" not in html and "<b>markup</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "q&amp;a-17" in html
    assert "Demo &lt;report&gt; &amp; test" in html
    # the only script element is the JSON block
    assert html.count("<script") == 1
    assert len(re.findall(r"</script", html, re.IGNORECASE)) == 1


def test_report_self_contained(report_dir):
    html = (report_dir[0] / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", html, re.IGNORECASE)
    assert "@import" not in html and "<link" not in html.lower() and "<img" not in html.lower()
    assert "<iframe" not in html.lower()
    assert html.count("<svg") >= 3  # forest + 2 confusion matrices, inline
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html


def test_report_embedded_json_matches_results_json(report_dir):
    out, _ = report_dir
    html = (out / "report.html").read_text(encoding="utf-8")
    block = _embedded_json(html)
    assert "<" not in block and ">" not in block and "&" not in block
    embedded = json.loads(block)
    on_disk = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert embedded == on_disk
    assert any(r["raw"] == EVIL_RAW for r in embedded["problems"])
    assert any(r["raw"] == "</script><script>x()</script>" for r in embedded["problems"])


def test_report_content(report_dir):
    html = (report_dir[0] / "report.html").read_text(encoding="utf-8")
    # provenance summary from the analysis, not the clock
    assert "2025-01-02T03:04:05+00:00" in html and "seed 0" in html and "metajudge 0.1.0" in html
    # thousands separators, confidence level on CI headers, undefined values with their note
    assert "3,355" in html and "1,200" in html
    assert "estimate [95% CI]" in html
    assert "undefined: p_e = 1" in html and "—" in html
    # coverage problem counts highlighted
    assert re.search(r'<td class="num warn">11</td>', html)
    # raw text truncated with an indication
    visible = html.replace(_embedded_json(html), "")
    assert "truncated (628 characters in all)" in visible and "x" * 301 not in visible
    # all sections present
    for sid in ("coverage", "problems", "agreement", "comparisons", "forest", "confusion", "slices",
                "correlation-levels", "notes", "provenance"):
        assert f'id="{sid}"' in html, sid
    assert "lang=de" in html and "lang=&lt;b&gt;fr&lt;/b&gt;" in html
    assert "Holm" in html and "0.0008" in html
    assert "dataset" in html and "system" in html and "3 constant groups skipped" in html
    assert "Human ceiling" in html and "Null baselines" in html
    assert "−0.012" in html  # true minus sign
    assert "Δ Cohen&#39;s κ (quadratic)" in html
    # a note shared by every cell of a row is shown once, beside the row label
    agreement = html[html.index('id="agreement"'):html.index('id="comparisons"')]
    assert agreement.count("mean over 3 of 3 references") == 1
    # figures have accessible names
    assert html.count("<title>") >= 4  # the page + 3 figures
    assert 'role="img"' in html


def test_headline_metric(analysis):
    assert headline_metrics(analysis) == ["cohen_kappa_quadratic"]


def test_render_html_deterministic(analysis):
    assert render_html(analysis) == render_html(analysis)


def test_write_report_byte_identical(tmp_path, analysis):
    a = write_report(analysis, tmp_path / "a", figures=("svg", "pdf", "png"))
    b = write_report(analysis, tmp_path / "b", figures=("svg", "pdf", "png"))
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key].read_bytes() == b[key].read_bytes(), key


def test_write_report_rejects_unknown_format(tmp_path, analysis):
    with pytest.raises(ValueError, match="unknown figure format"):
        write_report(analysis, tmp_path, figures=("gif",))


def test_write_report_without_figures(tmp_path, analysis):
    written = write_report(analysis, tmp_path, figures=())
    assert not any(k.startswith("figures/") for k in written)
    assert "<svg" in written["report.html"].read_text(encoding="utf-8")


def test_minimal_analysis_renders(tmp_path):
    empty = Analysis(results=pd.DataFrame(columns=RESULT_COLUMNS), coverage=pd.DataFrame(columns=COVERAGE_COLUMNS),
                     problems=pd.DataFrame(columns=PROBLEM_COLUMNS), confusion={}, scale=Scale("nominal"))
    written = write_report(empty, tmp_path)
    html = written["report.html"].read_text(encoding="utf-8")
    assert "No coverage information" in html
    assert json.loads(_embedded_json(html))["results"] == []


# ------------------------------------------------------------------------------------------ JSON
def test_results_json(tmp_path, analysis):
    path = write_json(analysis, tmp_path / "r.json")
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert list(data) == ["metajudge_version", "title", "scale", "provenance", "config", "notes", "coverage",
                          "results", "problems", "confusion", "probe_frames", "extra", "probes"]
    assert data["metajudge_version"] == "0.1.0"
    assert list(data["results"][0]) == RESULT_COLUMNS
    undefined = [r for r in data["results"] if r["judge"] == "majority class"][0]
    assert undefined["estimate"] is None and undefined["ci_low"] is None and undefined["note"] == "undefined: p_e = 1"
    assert isinstance(data["results"][0]["n"], int)
    assert data["provenance"]["seed"] == 0
    assert data["scale"]["levels"] == LEVELS
    conf = data["confusion"][EVIL_JUDGE]
    assert conf["reference_levels"] == LEVELS and conf["judge_levels"] == LEVELS
    assert conf["counts"][0] == [40, 10, 5, 1]
    assert results_to_json(analysis) == results_to_json(analysis) == text


def test_results_json_converts_odd_values():
    a = make_analysis()
    a.provenance["when"] = pd.Timestamp("2025-01-01")
    a.provenance["path"] = Path("x") / "y"
    a.provenance["arr"] = np.array([1.5, np.nan, np.inf])
    data = json.loads(results_to_json(a))
    assert data["provenance"]["when"].startswith("2025-01-01")
    assert data["provenance"]["path"] == "x/y"
    assert data["provenance"]["arr"] == [1.5, None, None]


# ------------------------------------------------------------------------------------------- CSV
def test_write_tables(tmp_path, analysis):
    paths = write_tables(analysis, tmp_path)
    names = [p.name for p in paths]
    assert names[:7] == ["results.csv", "agreement.csv", "ceiling.csv", "baselines.csv", "comparisons.csv",
                         "coverage.csv", "problems.csv"]
    assert all(p.parent == tmp_path / "tables" for p in paths)
    conf = [p for p in paths if p.name.startswith("confusion_")]
    assert len(conf) == 2
    assert all(re.fullmatch(r"confusion_[A-Za-z0-9._-]+\.csv", p.name) for p in conf)
    results = pd.read_csv(tmp_path / "tables" / "results.csv", keep_default_na=False, na_values=[""])
    assert list(results.columns) == RESULT_COLUMNS
    assert len(results) == len(analysis.results)
    assert (pd.read_csv(tmp_path / "tables" / "comparisons.csv")["section"] == "comparison").all()
    raw = (tmp_path / "tables" / "results.csv").read_bytes()
    assert b"\r\n" not in raw
    gpt = pd.read_csv(tmp_path / "tables" / "confusion_gpt-judge.csv", index_col=0)
    assert list(gpt.index) == LEVELS and list(gpt.columns) == LEVELS  # declared order, not sorted
    problems = pd.read_csv(tmp_path / "tables" / "problems.csv")
    assert EVIL_RAW in set(problems["raw"])
    again = write_tables(analysis, tmp_path / "again")
    for p, q in zip(paths, again, strict=True):
        assert p.read_bytes() == q.read_bytes()


def test_safe_filename():
    assert safe_filename("gpt-judge") == "gpt-judge"
    s = safe_filename(EVIL_JUDGE)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", s)
    assert safe_filename("a/b") != safe_filename("a b")
    assert safe_filename("../../etc") not in ("..", ".") and "/" not in safe_filename("../../etc")
    assert safe_filename("") .startswith("unnamed")


# ----------------------------------------------------------------------------------------- LaTeX
def test_latex_escape_all_specials():
    out = latex_escape(r"a_b & 50% $x$ #1 {y} ~z ^w \v")
    assert out == (r"a\_b \& 50\% \$x\$ \#1 \{y\} \textasciitilde{}z \textasciicircum{}w "
                   r"\textbackslash{}v")


def test_to_latex(analysis):
    results = analysis.results.copy()
    results.loc[results["judge"] == "gpt-judge", "judge"] = r"gpt_4 & co 100% $ # {x} ~ ^ \ y"
    tex = to_latex(results, metrics=["cohen_kappa_quadratic", "percent_agreement"], caption="Agreement 95% & more",
                   label="tab:agree")
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"\caption{Agreement 95\% \& more}" in tex and r"\label{tab:agree}" in tex
    assert (r"gpt\_4 \& co 100\% \$ \# \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{} y"
            in tex)
    assert r"\textless{}img src=x onerror=alert(1)\textgreater{}" in tex
    assert r"Cohen's $\kappa$ (quadratic)" in tex and "Percent agreement" in tex
    assert r"estimate [95\% CI]" in tex
    assert "0.710 [0.670, 0.750]" in tex
    assert "---" in tex  # undefined majority-class baseline
    assert "Human ceiling" in tex and "Null baselines" in tex
    assert "vs majority(humans-h1)" in tex
    assert "comparison" not in tex.lower().replace("comparisons", "")
    assert "lang=de" not in tex  # only slice "all"
    # every data line has the right number of cells
    for line in tex.splitlines():
        if line.endswith(r"\\") and "multicolumn" not in line:
            assert line.count(" & ") == 2, line


def test_to_latex_levels_and_unknown_metric(analysis):
    tex = to_latex(analysis.results, metrics=["spearman"])
    assert r"Spearman $\rho$ (dataset)" in tex and r"Spearman $\rho$ (system)" in tex
    with pytest.raises(ValueError, match="not in the results"):
        to_latex(analysis.results, metrics=["no_such_metric"])


def test_to_latex_negative_numbers():
    rows = pd.DataFrame([_row("agreement", "j", "judge", "cohen_kappa", -0.05, -0.1, 0.01)], columns=RESULT_COLUMNS)
    assert "$-$0.050 [$-$0.100, 0.010]" in to_latex(rows)
    rows = pd.DataFrame([_row("agreement", "j", "judge", "cohen_kappa", -1e-9, -0.0001, 0.0)], columns=RESULT_COLUMNS)
    assert "0.000 [0.000, 0.000]" in to_latex(rows)


def test_json_nan_is_null_everywhere():
    a = make_analysis()
    data = json.loads(results_to_json(a))
    est = [r["estimate"] for r in data["results"]]
    assert None in est
    assert all(e is None or math.isfinite(e) for e in est)


def test_number_formatting():
    from metajudge.report.html import _count, _num, _pvalue

    assert _num(-0.0001) == "0.000"  # no negative zero after rounding
    assert _num(-0.25) == "−0.250" and _num(12345.6789, 1) == "12,345.7"
    assert _num(NAN) == "—" and _num(None) == "—"
    assert _count(1234567) == "1,234,567" and _count(12.0) == "12" and _count(NAN) == "—"
    assert _pvalue(0.0004) == "4.00e−04" and _pvalue(0.0312) == "0.031" and _pvalue(NAN) == "—"


def test_headline_uses_judge_metrics_only():
    a = make_analysis()
    res = a.results
    keep = ~res["metric"].isin(["cohen_kappa_quadratic"])
    # alpha only among humans (ceiling) must not become the headline of the judges
    res = res[keep & ~((res["metric"] == "krippendorff_alpha_ordinal") & (res["section"] == "agreement"))]
    a.results = res.reset_index(drop=True)
    assert headline_metrics(a) == ["spearman"]  # next in the priority list (dataset level is plotted)
    assert 'id="forest_spearman"' in render_html(a)
    a.extra["headline_metrics"] = ["krippendorff_alpha_ordinal", "percent_agreement"]
    assert headline_metrics(a) == ["percent_agreement"]
