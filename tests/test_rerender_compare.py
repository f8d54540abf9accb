"""Tests of re-rendering a report from its results.json (``metajudge report --from``,
:func:`metajudge.report.load.analysis_from_json`) and of ``metajudge compare`` (one leaderboard from several
runs on the same gold set; runs on different gold sets or scales are refused).

Runs use the simulated pointwise demo with few bootstrap resamples: run "a" has two of its judges, run "b"
the third and one judge in common (so names collide), run "other" has the same judges on a gold file with one
label changed, run "interval" the same gold file read on another scale.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from metajudge.cli import app
from metajudge.config import load_config
from metajudge.pipeline import run as run_pipeline
from metajudge.probes.base import ProbeResult
from metajudge.report import render_html, results_to_json, write_report
from metajudge.report.load import RunMismatchError, analysis_from_json, check_comparable, gold_fingerprint
from metajudge.results import COVERAGE_COLUMNS, PROBLEM_COLUMNS, RESULT_COLUMNS, Analysis
from metajudge.scales import Scale

RESAMPLES = 20
NAN = float("nan")


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def _config(base: Path, name: str, *, judges: list[str], gold: str = "gold.csv", scale: dict | None = None) -> Path:
    cfg = yaml.safe_load((base / "metajudge.yaml").read_text(encoding="utf-8"))
    cfg["judges"] = [j for j in cfg["judges"] if j["name"] in judges]
    cfg["gold"]["path"] = gold
    if scale is not None:
        cfg["scale"] = scale
    path = base / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Analyses (in memory) and report folders of the four runs."""
    from metajudge.demo import simulate_demo

    base = tmp_path_factory.mktemp("rerender")
    data = simulate_demo(base / "data", seed=0)["pointwise"].parent
    gold = (data / "gold.csv").read_text(encoding="utf-8").splitlines()
    header, first = gold[0].split(","), gold[1].split(",")
    k = header.index("score")
    first[k] = "1" if first[k] != "1" else "2"  # one label changed: a different gold set
    (data / "gold_changed.csv").write_text("\n".join([gold[0], ",".join(first), *gold[2:]]) + "\n", encoding="utf-8")
    configs = {
        "a": _config(data, "a", judges=["strong-judge", "lenient-judge"]),
        "b": _config(data, "b", judges=["strong-judge", "noisy-judge"]),
        "other": _config(data, "other", judges=["strong-judge"], gold="gold_changed.csv"),
        "interval": _config(data, "interval", judges=["strong-judge"],
                            scale={"kind": "interval", "minimum": 1, "maximum": 5}),
    }
    analyses, folders = {}, {}
    for name, cfg in configs.items():
        analyses[name] = run_pipeline(load_config(cfg), n_resamples=RESAMPLES)
        folders[name] = base / "reports" / name
        write_report(analyses[name], folders[name], figures=("svg", "pdf", "png") if name == "a" else ("svg",))
    return {"base": base, "configs": configs, "analyses": analyses, "folders": folders}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------- round trip
def test_results_json_carries_frames_and_extra(runs):
    data = json.loads((runs["folders"]["a"] / "results.json").read_text(encoding="utf-8"))
    assert list(data)[-3:] == ["probe_frames", "extra", "probes"]
    assert [f["probe"] for f in data["probe_frames"]] == [p["probe"] for p in data["probes"]]
    frames = {f["probe"]: f["frames"] for f in data["probe_frames"]}
    ba = frames["leniency"]["bland_altman"]
    assert ba["columns"] == ["judge", "mean", "diff", "count"] and ba["dtypes"][1] == "float64" and len(ba["records"]) > 10


def test_analysis_from_json_restores_tables(runs):
    orig = runs["analyses"]["a"]
    back = analysis_from_json(runs["folders"]["a"] / "results.json")
    for attr in ("results", "coverage", "problems"):
        a, b = getattr(orig, attr), getattr(back, attr)
        assert list(a.columns) == list(b.columns), attr
        for col in a.columns:
            if pd.api.types.is_float_dtype(a[col]) or pd.api.types.is_integer_dtype(a[col]):
                assert a[col].dtype == b[col].dtype, (attr, col)
                np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy())
            else:
                assert [None if pd.isna(v) else v for v in a[col]] == [None if pd.isna(v) else v for v in b[col]]
    assert back.scale == Scale(orig.scale.kind, levels=orig.scale.levels, positive=orig.scale.positive,
                               ties=orig.scale.ties, minimum=orig.scale.minimum, maximum=orig.scale.maximum)
    assert back.config == json.loads(json.dumps(orig.config, default=str))
    assert back.provenance == orig.provenance and back.title == orig.title and back.notes == orig.notes
    assert set(back.confusion) == set(orig.confusion)
    for judge, df in orig.confusion.items():
        pd.testing.assert_frame_equal(back.confusion[judge], df, check_index_type=False, check_column_type=False)
    assert [p.probe for p in back.probes] == [p.probe for p in orig.probes]
    for p, q in zip(orig.probes, back.probes, strict=True):
        assert isinstance(q, ProbeResult)
        assert q.description == p.description and q.skipped == p.skipped and q.counts == json.loads(
            json.dumps(p.counts, default=int))
        assert set(q.frames) == set(p.frames)
        for name, frame in p.frames.items():
            pd.testing.assert_frame_equal(q.frames[name], frame, check_dtype=not frame.empty)
        assert len(q.rows) == int(((orig.results["section"] == "probe") & (orig.results["probe"] == p.probe)).sum())


def test_write_report_from_json_is_byte_identical(runs, tmp_path):
    orig_dir = runs["folders"]["a"]
    back = analysis_from_json(orig_dir / "results.json")
    write_report(back, tmp_path / "again", figures=())  # figure files: see the CLI test below
    got = _files(tmp_path / "again")
    want = {k: v for k, v in _files(orig_dir).items() if not k.startswith("figures/")}
    assert sorted(want) == sorted(got)
    differ = [k for k in want if want[k] != got[k]]
    assert not differ, differ
    assert results_to_json(back) == results_to_json(runs["analyses"]["a"])


def test_report_from_cli_round_trip(runs, tmp_path):
    orig_dir = runs["folders"]["a"]
    res = invoke("report", "--from", orig_dir / "results.json", "-o", tmp_path / "re", "--figures", "svg,pdf,png",
                 "--quiet")
    assert res.exit_code == 0, (res.stderr, res.exception)
    assert res.stderr == ""
    want, got = _files(orig_dir), _files(tmp_path / "re")
    assert sorted(want) == sorted(got)
    assert not [k for k in want if want[k] != got[k]]
    # a report folder works as well as its results.json, and re-rendering the re-render changes nothing
    res = invoke("report", "--from", tmp_path / "re", "-o", tmp_path / "re2")
    assert res.exit_code == 0, (res.stderr, res.exception)
    again = _files(tmp_path / "re2")
    assert again == {k: v for k, v in got.items() if k in again} and "report.html" in again
    assert "re-rendered" in res.stderr


@pytest.mark.parametrize("extra", [["CONFIG"], ["--seed", "3"], ["--n-resamples", "10"], ["--set", "title=x"],
                                   ["--gold", "g.csv"], ["--probe", "leniency"], ["--scale", "ordinal"]])
def test_report_from_with_config_or_data_flags_is_usage_error(runs, tmp_path, extra):
    extra = [str(runs["configs"]["a"]) if e == "CONFIG" else e for e in extra]
    res = invoke("report", *extra, "--from", runs["folders"]["a"], "-o", tmp_path / "x")
    assert res.exit_code == 2, (res.stdout, res.stderr)
    assert "--from" in res.stderr
    assert not (tmp_path / "x").exists()


def test_report_from_bad_inputs_exit_1(tmp_path):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "other.json").write_text('{"a": 1}', encoding="utf-8")
    (tmp_path / "empty_dir").mkdir()
    for source, needle in (("missing.json", "results file not found"), ("bad.json", "is not valid JSON"),
                           ("other.json", "is not a metajudge results.json"), ("empty_dir", "without results.json")):
        res = invoke("report", "--from", tmp_path / source, "-o", tmp_path / "x")
        assert res.exit_code == 1, (source, res.stderr)
        assert needle in " ".join(res.stderr.split()) and "Traceback" not in res.stderr, (source, res.stderr)
        assert not (tmp_path / "x").exists()


def _hostile_analysis() -> Analysis:
    """A hand-built analysis with what JSON could lose: NaN and None, an integer-valued float column, an empty
    frame, a frame with a named index, nested counts, a DataFrame in extra, odd strings."""
    evil = "<img src=x onerror=alert(1)> & gpt-4o_mini"
    rows = []
    for section, judge, kind in (("agreement", evil, "judge"), ("agreement", "A&B", "judge"),
                                 ("ceiling", "human_ceiling", "human"), ("baseline", "random_uniform", "baseline")):
        for metric, est in (("cohen_kappa", 0.5), ("percent_agreement", NAN)):
            rows.append(dict(section=section, judge=judge, rater_kind=kind, reference="majority(humans)",
                             metric=metric, level="item", slice="all", estimate=est, ci_low=est - 0.1,
                             ci_high=est + 0.1, confidence_level=0.95, n=120, method="bootstrap",
                             note="undefined: p_e = 1" if est != est else "", p_value=NAN, p_adjusted=NAN, probe=""))
    rows.append(dict(section="probe", judge=evil, rater_kind="judge", reference="", metric="leniency_shift",
                     level="item", slice="all", estimate=0.3, ci_low=0.1, ci_high=0.5, confidence_level=0.95, n=120,
                     method="bootstrap", note="", p_value=0.01, p_adjusted=0.02, probe="leniency"))
    results = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    coverage = pd.DataFrame([dict(source="gold", kind="gold", path="data/gold.csv", rows=360, items=120,
                                  matched_items=120, missing_in_gold=0, missing_in_judge=0, duplicate_rows=0,
                                  unparseable=0, out_of_scale=0, missing_label=0, excluded_rows=0, fallback_rows=0,
                                  reference_undefined=0)], columns=COVERAGE_COLUMNS)
    problems = pd.DataFrame([dict(source=evil, problem="unparseable", item_id="q&a", row=3,
                                  raw="<script>alert(1)</script>")], columns=PROBLEM_COLUMNS)
    levels = ["1", "2", "3"]
    confusion = {evil: pd.DataFrame([[3, 1, 0], [0, 2, 1], [1, 0, 4]], index=levels, columns=levels)}
    frames = {
        "distribution": pd.DataFrame({"rater": ["humans", evil, "humans"], "value": ["1", "2", "3"],
                                      "share": [0.25, 0.5, NAN]}),
        "bland_altman": pd.DataFrame({"judge": [evil, evil], "mean": [1.5, 2.0], "diff": [1.0, 0.0]}),
        "empty": pd.DataFrame({"judge": pd.Series([], dtype=object), "x": pd.Series([], dtype=float)}),
        "indexed": pd.DataFrame({"n": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="key")),
    }
    probe = ProbeResult("leniency", rows=[r for r in rows if r["section"] == "probe"],
                        counts={evil: {"items": 120, "table": [[1, 2], [3, 4]], "rate": NAN}},
                        skipped=["no <system> column & no length"], frames=frames, description="Leniency & more.")
    extra = {"disagreements": pd.DataFrame({"item_id": ["q1", "q2"], "judge": [evil, "A&B"], "gap": [2, 3],
                                            "weight": [0.5, NAN]}),
             "p_adjust_method": "Holm", "nested": {"frame": pd.DataFrame({"a": [1]}), "list": [1, 2.5, None]}}
    return Analysis(results=results, coverage=coverage, problems=problems, confusion=confusion,
                    scale=Scale("ordinal", levels=levels), config={"title": "t", "judges": [{"name": evil}]},
                    provenance={"versions": {"metajudge": "0.1.0"}, "inputs": {"data/gold.csv": "ab" * 32}, "seed": 0},
                    notes=["a note with <b>"], title="hostile & <b>run</b>", extra=extra, probes=[probe])


def test_hostile_analysis_round_trip(tmp_path):
    a = _hostile_analysis()
    text = results_to_json(a)
    b = analysis_from_json(text)
    assert results_to_json(b) == text
    for name, frame in a.probes[0].frames.items():
        pd.testing.assert_frame_equal(b.probes[0].frames[name], frame, check_dtype=not frame.empty)
    pd.testing.assert_frame_equal(b.extra["disagreements"], a.extra["disagreements"])
    pd.testing.assert_frame_equal(b.extra["nested"]["frame"], a.extra["nested"]["frame"])
    assert b.extra["nested"]["list"] == [1, 2.5, None] and b.extra["p_adjust_method"] == "Holm"
    assert math.isnan(b.probes[0].frames["distribution"]["share"].iloc[2])
    assert b.probes[0].counts[next(iter(a.probes[0].counts))]["rate"] is None  # NaN is written as null
    assert render_html(b) == render_html(a)
    w1 = write_report(a, tmp_path / "a", figures=("svg",))
    w2 = write_report(analysis_from_json(tmp_path / "a" / "results.json"), tmp_path / "b", figures=("svg",))
    assert sorted(w1) == sorted(w2)
    assert not [k for k in w1 if w1[k].read_bytes() != w2[k].read_bytes()]


# -------------------------------------------------------------------------------------------- compare
def test_gold_fingerprint(runs):
    fa = gold_fingerprint(runs["analyses"]["a"])
    fb = gold_fingerprint(runs["analyses"]["b"])
    fo = gold_fingerprint(runs["analyses"]["other"])
    assert fa["sha256"] and fa["sha256"] == fb["sha256"] != fo["sha256"]
    assert fa["path"].endswith("gold.csv") and fo["path"].endswith("gold_changed.csv")
    check_comparable([("a", runs["analyses"]["a"]), ("b", runs["analyses"]["b"])])
    with pytest.raises(RunMismatchError, match="different gold sets"):
        check_comparable([("a", runs["analyses"]["a"]), ("other", runs["analyses"]["other"])])


def test_compare_same_gold_set(runs, tmp_path):
    fa, fb = runs["folders"]["a"], runs["folders"]["b"]
    res = invoke("compare", fa / "results.json", fb, "--format", "csv", "-o", tmp_path / "cmp")
    assert res.exit_code == 0, (res.stderr, res.exception)
    board = pd.read_csv(pd.io.common.StringIO(res.stdout), keep_default_na=False, na_values=[""])
    judges = board[board["kind"] == "judge"]
    # strong-judge is in both runs: prefixed with the run (titles are equal, so the report folder names)
    assert set(judges["judge"]) == {"a / strong-judge", "b / strong-judge", "lenient-judge", "noisy-judge"}
    assert set(judges["run"]) == {"a", "b"}
    assert (board["metric"] == "cohen_kappa_quadratic").all()
    est = judges["estimate"].tolist()
    assert est == sorted(est, reverse=True) and judges["rank"].tolist() == sorted(judges["rank"].tolist())
    assert judges["ci_low"].le(judges["estimate"]).all() and judges["ci_high"].ge(judges["estimate"]).all()
    # the same gold set has the same ceiling estimate in both runs: shown once (first run's interval)
    ceiling = board[board["kind"] == "human ceiling"]
    assert len(ceiling) == 1 and ceiling["run"].tolist() == ["a"] and pd.isna(ceiling["rank"]).all()
    for name in ("leaderboard.csv", "leaderboard.tex", "leaderboard.html"):
        assert (tmp_path / "cmp" / name).is_file()
    assert (tmp_path / "cmp" / "leaderboard.csv").read_text(encoding="utf-8") == res.stdout
    tex = (tmp_path / "cmp" / "leaderboard.tex").read_text(encoding="utf-8")
    assert r"\toprule" in tex and "a / strong-judge" in tex and r"Cohen's $\kappa$ (quadratic)" in tex
    table = invoke("compare", fa, fb)
    assert table.exit_code == 0 and "leaderboard by Cohen's κ (quadratic)" in table.stdout
    js = invoke("compare", fa, fb, "--format", "json")
    recs = json.loads(js.stdout)
    assert recs[0]["rank"] == 1 and recs[-1]["rank"] is None and recs[-1]["kind"] == "human ceiling"


def test_compare_is_deterministic(runs, tmp_path):
    fa, fb = runs["folders"]["a"], runs["folders"]["b"]
    one = invoke("compare", fa, fb, "-o", tmp_path / "one", "--quiet")
    two = invoke("compare", fa, fb, "-o", tmp_path / "two", "--quiet")
    assert one.exit_code == two.exit_code == 0 and one.stdout == two.stdout
    assert _files(tmp_path / "one") == _files(tmp_path / "two")


def test_compare_refuses_different_gold_sets(runs, tmp_path):
    fa, fo = runs["folders"]["a"], runs["folders"]["other"]
    res = invoke("compare", fa, fo, "-o", tmp_path / "cmp")
    assert res.exit_code == 1, (res.stdout, res.stderr)
    msg = " ".join(res.stderr.split())
    assert "different gold sets" in msg
    assert str(fa / "results.json") in msg and str(fo / "results.json") in msg
    sha_a = gold_fingerprint(runs["analyses"]["a"])["sha256"]
    sha_o = gold_fingerprint(runs["analyses"]["other"])["sha256"]
    assert sha_a in msg and sha_o in msg
    assert res.stdout == "" and not (tmp_path / "cmp").exists() and "Traceback" not in res.stderr


def test_compare_refuses_different_scales(runs):
    res = invoke("compare", runs["folders"]["a"], runs["folders"]["interval"])
    assert res.exit_code == 1
    msg = " ".join(res.stderr.split())
    assert "different scales" in msg and str(runs["folders"]["interval"] / "results.json") in msg


def test_compare_usage_errors(runs, tmp_path):
    assert invoke("compare", runs["folders"]["a"]).exit_code == 2
    assert invoke("compare", runs["folders"]["a"], runs["folders"]["b"], "--format", "xml").exit_code == 2
    res = invoke("compare", runs["folders"]["a"], tmp_path / "missing.json")
    assert res.exit_code == 1 and "results file not found" in " ".join(res.stderr.split())
