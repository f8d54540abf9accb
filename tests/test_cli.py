"""Tests of the ``metajudge`` command line: commands, formats, overrides, exit codes and error messages.

Most tests run the commands in-process with ``typer.testing.CliRunner`` on a tiny generated data set
(30 items, 3 annotators, 2 judges, 50 bootstrap resamples); a few run the real console command in a
subprocess (exit codes, no traceback on stderr). The bundled demo is simulated twice (same seed, different
hash seeds) to check that its reports are byte-identical.

Everything is written under ``tmp_path``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from metajudge.cli import app
from metajudge.errors import MetajudgeError

N_ITEMS = 30
RESAMPLES = "50"
AGREE_COLUMNS = ["section", "judge", "metric", "estimate", "ci_low", "ci_high", "confidence_level", "n",
                 "method", "note"]
INJECTION = '<script>alert("x")</script>'


# ---------------------------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Run every test in its own tmp folder, with Hugging Face caches there too."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf_datasets"))
    monkeypatch.chdir(tmp_path)


def invoke(*args: str | Path, **kw) -> Result:
    """Run ``metajudge ARGS`` in-process; stdout and stderr are captured separately."""
    return CliRunner().invoke(app, [str(a) for a in args], **kw)


def _console_command() -> list[str]:
    script = Path(sys.executable).with_name("metajudge")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "metajudge.cli"]


def run_console(*args: str | Path, cwd: Path, hashseed: str | None = None) -> subprocess.CompletedProcess:
    """Run the real console command in a subprocess."""
    env = dict(os.environ)
    env["HF_HOME"] = str(cwd / "hf_home")
    env["HF_DATASETS_CACHE"] = str(cwd / "hf_datasets")
    if hashseed is not None:
        env["PYTHONHASHSEED"] = hashseed
    return subprocess.run([*_console_command(), *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def flat(text: str) -> str:
    """The text as one line (the CLI wraps messages at 100 columns)."""
    return " ".join(text.split())


def assert_ok(result) -> None:
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    assert result.exception is None


def assert_input_error(result, *needles: str) -> str:
    """Exit 1 with one readable ``error:`` paragraph on stderr that contains every needle; return it flat."""
    # an uncaught exception would also give exit code 1 under CliRunner, so check that none escaped
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    err = result.stderr
    assert result.stdout == ""
    assert err.startswith("error: "), err
    assert "Traceback" not in err
    assert err.count("error:") == 1, err
    assert err.endswith("\n") and "\n\n" not in err.strip(), "not a single paragraph: " + err
    # wrapped at 100 columns; only a single unbreakable word (a long path) may run longer
    assert all(len(line) <= 100 or " " not in line.strip() for line in err.splitlines()), err
    msg = flat(err)
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"
    return msg


def load_results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------- small data


class Small:
    """Paths of the tiny generated data set."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.gold = root / "gold.csv"
        self.judge_a = root / "judge_a.csv"
        self.judge_b = root / "judge_b.jsonl"
        self.config = root / "metajudge.yaml"

    def variant(self, name: str, old: str, new: str) -> Path:
        """A copy of the config with ``old`` replaced by ``new`` (written next to the data)."""
        text = self.config.read_text(encoding="utf-8")
        assert old in text, old
        path = self.root / name
        path.write_text(text.replace(old, new), encoding="utf-8")
        return path


CONFIG_TEXT = """\
title: small cli test
scale: {kind: ordinal, levels: [1, 2, 3, 4, 5]}
gold:
  path: gold.csv
  columns: {item: qid, rater: annotator, label: score}
judges:
  - name: ja
    path: judge_a.csv
    columns: {item: qid, label: verdict}
  - name: jb
    path: judge_b.jsonl
    columns: {item: qid, text: output}
    extract: rating
bootstrap: {n_resamples: 50, confidence_level: 0.95, seed: 0}
slices: [category]
"""


@pytest.fixture
def small(tmp_path) -> Small:
    """30 items rated 1–5 by three annotators; judge ``ja`` gives a label column (CSV), ``jb`` raw text."""
    root = tmp_path / "data"
    root.mkdir()
    s = Small(root)
    rng = np.random.default_rng(1)
    quality = rng.integers(1, 6, N_ITEMS)

    def noisy(q: int, k: int) -> int:
        return int(np.clip(q + rng.integers(-k, k + 1), 1, 5))

    with open(s.gold, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["qid", "annotator", "score", "category"])
        for i, q in enumerate(quality):
            for ann in ("a1", "a2", "a3"):
                w.writerow([f"q{i:02d}", ann, noisy(q, 1), "x" if i % 2 else "y"])
    with open(s.judge_a, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["qid", "verdict"])
        for i, q in enumerate(quality):
            w.writerow([f"q{i:02d}", noisy(q, 1)])
    with open(s.judge_b, "w", encoding="utf-8") as fh:
        for i, q in enumerate(quality):
            fh.write(json.dumps({"qid": f"q{i:02d}", "output": f"Looks fine.\nRating: {noisy(q, 2)}"}) + "\n")
    s.config.write_text(CONFIG_TEXT, encoding="utf-8")
    return s


# ---------------------------------------------------------------------------------------------- help


@pytest.mark.parametrize("args", [["--help"], ["report", "--help"], ["agree", "--help"], ["demo", "--help"]])
def test_help_exits_0(args):
    result = invoke(*args)
    assert_ok(result)
    assert "Usage" in result.stdout


def test_console_help_subprocess(tmp_path):
    proc = run_console("--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for command in ("report", "agree", "demo"):
        assert command in proc.stdout
    proc = run_console("report", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for opt in ("--output", "--seed", "--n-resamples", "--quiet", "--set", "--debug"):
        assert opt in proc.stdout


# ---------------------------------------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    """The demo written twice to the same folder with the same seed (under different hash seeds).

    Returns (output folder, bytes of the first run's files, first subprocess, second subprocess).
    """
    base = tmp_path_factory.mktemp("demo")
    out = base / "demo"
    first = run_console("demo", "-o", out, "--n-resamples", RESAMPLES, "--quiet", cwd=base, hashseed="1")
    assert first.returncode == 0, first.stderr
    keep = {p.relative_to(out).as_posix(): p.read_bytes()
            for p in out.rglob("*") if p.is_file() and p.suffix in (".json", ".html", ".csv")}
    second = run_console("demo", "-o", out, "--n-resamples", RESAMPLES, "--quiet", cwd=base, hashseed="2")
    return out, keep, first, second


def test_demo_console_exit_and_quiet(demo_runs):
    _, _, first, second = demo_runs
    for proc in (first, second):
        assert proc.returncode == 0
        assert "Traceback" not in proc.stderr
        assert proc.stderr == ""
        assert proc.stdout == ""


def test_demo_files(demo_runs):
    out, _, _, _ = demo_runs
    assert (out / "index.html").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    for task in ("pointwise", "pairwise"):
        assert (out / task / "report.html").is_file()
        assert (out / task / "results.json").is_file()
        tables = sorted((out / task / "tables").glob("*.csv"))
        assert tables, task
        assert (out / task / "tables" / "results.csv").is_file()
        for t in tables:
            pd.read_csv(t)  # every table parses
        assert f'href="{task}/report.html"' in index
        res = load_results(out / task)
        assert res["provenance"]["n_resamples"] == int(RESAMPLES)
        assert res["provenance"]["seed"] == 0


def test_demo_report_has_no_raw_injection(demo_runs):
    out, _, _, _ = demo_runs
    # the planted string really is in the judge data of both tasks ...
    for task in ("pointwise", "pairwise"):
        planted = "".join(p.read_text(encoding="utf-8") for p in (out / "data" / task / "judges").glob("*.jsonl"))
        assert json.dumps(INJECTION)[1:-1] in planted, task
        html = (out / task / "report.html").read_text(encoding="utf-8")
        # ... but never reaches the report unescaped: the only <script> element is the JSON data block
        assert INJECTION not in html
        assert 'alert("x")' not in html
        tags = re.findall(r"<script[^>]*>", html, flags=re.IGNORECASE)
        assert tags == ['<script type="application/json" id="metajudge-results">'], tags
        assert html.lower().count("</script") == 1


def test_demo_report_shows_injection_escaped(demo_runs):
    """The data card (gold_sets/demo/README.md) says the planted <script> strings appear escaped, as text."""
    out, _, _, _ = demo_runs
    html = (out / "pointwise" / "report.html").read_text(encoding="utf-8")
    escaped = ("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
               '&lt;script&gt;alert("x")&lt;/script&gt;')
    assert any(e in html for e in escaped), "the planted judge output does not appear in the report at all"


def test_demo_byte_identical(demo_runs):
    out, keep, _, _ = demo_runs
    for task in ("pointwise", "pairwise"):
        for name in ("results.json", "report.html"):
            rel = f"{task}/{name}"
            assert (out / rel).read_bytes() == keep[rel], f"{rel} differs between two runs with the same seed"
    now = {p.relative_to(out).as_posix(): p.read_bytes()
           for p in out.rglob("*") if p.is_file() and p.suffix in (".json", ".html", ".csv")}
    assert now.keys() == keep.keys()
    assert [k for k in keep if keep[k] != now[k]] == []


# ---------------------------------------------------------------------------------------------- report


def test_report_writes_files_and_provenance(small, tmp_path):
    out = tmp_path / "out"
    result = invoke("report", small.config, "-o", out, "--quiet")
    assert_ok(result)
    assert (out / "report.html").is_file()
    assert (out / "results.json").is_file()
    assert (out / "tables" / "results.csv").is_file()
    assert list((out / "tables").glob("*.csv"))

    res = load_results(out)
    prov = res["provenance"]
    versions = prov["versions"]
    for pkg in ("python", "metajudge", "numpy", "scipy", "pandas"):
        assert isinstance(versions.get(pkg), str) and versions[pkg], pkg
    import metajudge

    assert versions["metajudge"] == metajudge.__version__
    assert prov["seed"] == 0
    assert prov["n_resamples"] == 50
    assert prov["confidence_level"] == 0.95
    # input hashes: one per file, equal to the SHA-256 of the bytes
    inputs = {Path(k).name: v for k, v in prov["inputs"].items()}
    assert inputs == {p.name: sha256_file(p) for p in (small.gold, small.judge_a, small.judge_b)}
    # the resolved configuration
    cfg = res["config"]
    assert cfg["gold"]["columns"]["item"] == "qid"
    assert cfg["scale"]["kind"] == "ordinal"
    assert [str(v) for v in cfg["scale"]["levels"]] == ["1", "2", "3", "4", "5"]
    assert [j["name"] for j in cfg["judges"]] == ["ja", "jb"]
    assert "rating" in json.dumps(cfg["judges"][1]["extract"])
    # the report names both judges
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "ja" in html and "jb" in html
    # coverage: every item matched for both judges
    cov = {c["source"]: c for c in res["coverage"]}
    assert cov["gold"]["items"] == N_ITEMS
    assert cov["ja"]["matched_items"] == N_ITEMS and cov["jb"]["matched_items"] == N_ITEMS


def test_report_provenance_names_config_path(small, tmp_path):
    """provenance.config_path should name the configuration file that was run (it is always empty now)."""
    out = tmp_path / "out"
    assert_ok(invoke("report", small.config, "-o", out, "--quiet"))
    prov = load_results(out)["provenance"]
    assert prov["config_path"], "provenance.config_path is empty for a run from a config file"
    assert Path(prov["config_path"]).resolve() == small.config.resolve()


def test_report_seed_changes_cis_not_estimates(small, tmp_path):
    a, b = tmp_path / "seed0", tmp_path / "seed3"
    assert_ok(invoke("report", small.config, "-o", a, "--quiet"))
    assert_ok(invoke("report", small.config, "-o", b, "--quiet", "--seed", "3"))
    ra, rb = load_results(a), load_results(b)
    assert ra["provenance"]["seed"] == 0 and rb["provenance"]["seed"] == 3
    da, db = pd.DataFrame(ra["results"]), pd.DataFrame(rb["results"])
    key = ["section", "judge", "reference", "metric", "level", "slice"]
    m = da.merge(db, on=key, suffixes=("_a", "_b"), validate="one_to_one")
    assert len(m) == len(da) == len(db)
    # the random baselines are one seeded random draw each: their point estimates follow the seed
    drawn = m["note_a"].fillna("").str.contains("random draw")
    assert drawn.any() and m.loc[drawn, "judge"].str.startswith("random").all()
    fixed = m[~drawn]
    assert len(fixed) > len(m) // 2
    est_a, est_b = fixed["estimate_a"].astype(float), fixed["estimate_b"].astype(float)
    assert np.allclose(est_a, est_b, equal_nan=True, rtol=0, atol=1e-12)
    boot = m["method_a"].str.contains("bootstrap")
    assert boot.any()
    lo_a, lo_b = m.loc[boot, "ci_low_a"].astype(float), m.loc[boot, "ci_low_b"].astype(float)
    hi_a, hi_b = m.loc[boot, "ci_high_a"].astype(float), m.loc[boot, "ci_high_b"].astype(float)
    changed = ~(np.isclose(lo_a, lo_b, equal_nan=True) & np.isclose(hi_a, hi_b, equal_nan=True))
    assert changed.sum() >= boot.sum() // 2, "a different --seed should change most bootstrap intervals"
    # Wilson intervals do not depend on the seed
    wilson = (m["method_a"] == "wilson") & ~drawn
    if wilson.any():
        assert np.allclose(m.loc[wilson, "ci_low_a"].astype(float), m.loc[wilson, "ci_low_b"].astype(float),
                           equal_nan=True)


def test_report_same_seed_same_bytes(small, tmp_path):
    out = tmp_path / "out"
    assert_ok(invoke("report", small.config, "-o", out, "--quiet"))
    first = {n: (out / n).read_bytes() for n in ("results.json", "report.html", "tables/results.csv")}
    assert_ok(invoke("report", small.config, "-o", out, "--quiet"))
    for n, data in first.items():
        assert (out / n).read_bytes() == data, n


def test_report_quiet_stderr_empty(small, tmp_path):
    result = invoke("report", small.config, "-o", tmp_path / "out", "--quiet")
    assert_ok(result)
    assert result.stderr == ""
    assert result.stdout == ""


def test_report_progress_on_stderr_only(small, tmp_path):
    out = tmp_path / "out"
    result = invoke("report", small.config, "-o", out, "--n-resamples", RESAMPLES)
    assert_ok(result)
    assert result.stdout == ""
    err = result.stderr
    assert "coverage" in err
    assert "gold 90 rows / 30 items" in err
    assert "ja: 30 matched" in err and "jb: 30 matched" in err
    assert "wrote" in err and "report.html" in err
    assert "Traceback" not in err


def test_report_n_resamples_override(small, tmp_path):
    out = tmp_path / "out"
    assert_ok(invoke("report", small.config, "-o", out, "--quiet", "--n-resamples", "20"))
    assert load_results(out)["provenance"]["n_resamples"] == 20


# ---------------------------------------------------------------------------------------------- agree


def _agree_csv(*args: str | Path) -> pd.DataFrame:
    result = invoke("agree", *args, "--format", "csv", "--quiet")
    assert_ok(result)
    return pd.read_csv(io.StringIO(result.stdout))


def test_agree_csv(small):
    df = _agree_csv(small.config)
    for col in AGREE_COLUMNS:
        assert col in df.columns, col
    assert set(df["section"]) <= {"agreement", "ceiling", "baseline"}
    assert {"agreement", "ceiling", "baseline"} <= set(df["section"])
    assert {"ja", "jb"} <= set(df["judge"])
    assert (df["confidence_level"] == 0.95).all()
    ok = df["estimate"].notna() & df["ci_low"].notna()
    assert ok.any()
    assert (df.loc[ok, "ci_low"] <= df.loc[ok, "ci_high"] + 1e-12).all()
    assert "cohen_kappa_quadratic" in set(df["metric"])


def test_agree_json(small):
    result = invoke("agree", small.config, "--format", "json", "--quiet")
    assert_ok(result)

    def no_constants(token):
        raise AssertionError(f"non-standard JSON constant {token} in agree --format json")

    recs = json.loads(result.stdout, parse_constant=no_constants)
    assert isinstance(recs, list) and recs
    for col in AGREE_COLUMNS:
        assert col in recs[0], col
    df = _agree_csv(small.config)
    assert len(recs) == len(df)
    assert {r["judge"] for r in recs} == set(df["judge"].astype(str))


def test_agree_table(small):
    result = invoke("agree", small.config, "--format", "table", "--quiet")
    assert_ok(result)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["section", "rater", "metric"]
    assert set(lines[1]) == {"-"}
    assert any(line.startswith("agreement") and " ja " in line for line in lines)
    assert any(line.startswith("ceiling") for line in lines)
    assert any(line.startswith("baseline") for line in lines)
    assert result.stderr == ""


def test_agree_default_format_is_table(small):
    result = invoke("agree", small.config, "--quiet")
    assert_ok(result)
    assert result.stdout.splitlines()[0].startswith("section")


def test_agree_stdout_is_data_only(small):
    """Without --quiet the progress goes to stderr; stdout still parses as CSV."""
    result = invoke("agree", small.config, "--format", "csv", "--n-resamples", RESAMPLES)
    assert_ok(result)
    df = pd.read_csv(io.StringIO(result.stdout))
    assert list(df.columns[:3]) == ["section", "judge", "rater_kind"]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("fmt", ["xml", "CSV", ""])
def test_agree_bad_format_exits_2(small, fmt):
    result = invoke("agree", small.config, "--format", fmt, "--quiet")
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "--format" in result.stderr
    assert result.stdout == ""


def test_agree_without_config_label_column(small):
    flags = _agree_csv("--gold", small.gold, "--judge", f"ja={small.judge_a}", "--scale", "ordinal",
                       "--levels", "1,2,3,4,5", "--item", "qid", "--rater", "annotator", "--label", "score",
                       "--judge-label", "verdict", "--n-resamples", RESAMPLES)
    assert set(flags.loc[flags["section"] == "agreement", "judge"]) == {"ja"}
    # the same point estimates as the config run (the intervals depend on the judges in the run)
    cfg = _agree_csv(small.config)
    key = ["section", "judge", "metric", "level", "slice"]
    a = flags[(flags["section"] == "agreement") & (flags["slice"] == "all")]
    b = cfg[(cfg["section"] == "agreement") & (cfg["judge"] == "ja") & (cfg["slice"] == "all")]
    m = a.merge(b, on=key, suffixes=("_flags", "_cfg"))
    assert len(m) == len(a) > 0
    assert np.allclose(m["estimate_flags"], m["estimate_cfg"], equal_nan=True)
    assert (m["n_flags"] == N_ITEMS).all()


def test_agree_without_config_one_text_judge(small):
    df = _agree_csv("--gold", small.gold, "--judge", f"jb={small.judge_b}", "--scale", "ordinal",
                    "--levels", "1,2,3,4,5", "--item", "qid", "--rater", "annotator", "--label", "score",
                    "--judge-text", "output", "--extract", "rating", "--n-resamples", RESAMPLES)
    agr = df[df["section"] == "agreement"]
    assert set(agr["judge"]) == {"jb"}
    assert (agr.loc[agr["slice"] == "all", "n"] == N_ITEMS).all()


def test_agree_without_config_flag_errors(small):
    # no --scale: usage error
    r = invoke("agree", "--gold", small.gold, "--judge", f"ja={small.judge_a}", "--quiet")
    assert r.exit_code == 2 and "--scale" in r.stderr
    # --judge without NAME=
    r = invoke("agree", "--gold", small.gold, "--judge", str(small.judge_a), "--scale", "ordinal", "--quiet")
    assert r.exit_code == 2 and "NAME=PATH" in r.stderr
    # neither config nor --gold
    r = invoke("agree", "--quiet")
    assert r.exit_code == 2 and "CONFIG" in r.stderr
    # ordinal without --levels: input error that says to declare the levels
    r = invoke("agree", "--gold", small.gold, "--judge", f"ja={small.judge_a}", "--scale", "ordinal", "--item",
               "qid", "--rater", "annotator", "--label", "score", "--judge-label", "verdict")
    assert_input_error(r, "ordinal", "levels")


def test_set_override_fixes_column(small):
    wrong = small.variant("wrong_item.yaml", "columns: {item: qid, rater", "columns: {item: id, rater")
    r = invoke("agree", wrong, "--format", "csv", "--quiet")
    assert_input_error(r, "'id'", "gold.columns.item")
    df = _agree_csv(wrong, "--set", "gold.columns.item=qid")
    assert {"ja", "jb"} <= set(df["judge"])
    # the override is what runs: same estimates as the correct config
    ref = _agree_csv(small.config)
    assert np.allclose(df["estimate"], ref["estimate"], equal_nan=True)


def test_set_override_in_report_config(small, tmp_path):
    out = tmp_path / "out"
    assert_ok(invoke("report", small.config, "-o", out, "--quiet", "--set", "bootstrap.seed=5",
                     "--set", "title=overridden title"))
    res = load_results(out)
    assert res["provenance"]["seed"] == 5
    assert res["config"]["title"] == "overridden title"
    assert "overridden title" in (out / "report.html").read_text(encoding="utf-8")


def test_set_override_errors(small):
    r = invoke("agree", small.config, "--quiet", "--set", "gold.colums.item=qid")
    msg = assert_input_error(r, "gold.colums", "'columns'")
    assert "did you mean 'columns'" in msg.lower()
    r = invoke("agree", small.config, "--quiet", "--set", "goldcolumns")
    assert r.exit_code == 2 and "--set" in r.stderr


# ---------------------------------------------------------------------------------------------- bad input


def test_error_missing_config_file(tmp_path):
    assert_input_error(invoke("report", tmp_path / "nope.yaml", "-o", tmp_path / "o"), "nope.yaml", "not found")


def test_error_unknown_config_key(small, tmp_path):
    cfg = small.variant("typo.yaml", "  columns: {item: qid, rater", "  colums: {item: qid, rater")
    msg = assert_input_error(invoke("report", cfg, "-o", tmp_path / "o"), "typo.yaml", "colums", "unknown key",
                             "'columns'")
    assert "gold.colums" in msg
    assert "did you mean 'columns'" in msg.lower()


def test_error_missing_data_file(small, tmp_path):
    cfg = small.variant("missing.yaml", "path: judge_a.csv", "path: not_there.csv")
    msg = assert_input_error(invoke("report", cfg, "-o", tmp_path / "o"), "not found", "'ja'", "not_there.csv")
    # compared without whitespace: the wrapping may split the path (see the next test)
    assert str(small.root / "not_there.csv") in "".join(msg.split())


def test_error_missing_data_file_long_path_kept_whole(small, tmp_path):
    """A long path with hyphens must survive the 100-column wrapping intact (copyable)."""
    rel = ("some-long-folder-name-with-hyphens/judge-outputs-from-the-2024-evaluation-run-number-seven/"
           "not-there-judge-a.csv")
    cfg = small.variant("missing_long.yaml", "path: judge_a.csv", f"path: {rel}")
    msg = assert_input_error(invoke("report", cfg, "-o", tmp_path / "o"), "not found")
    assert str(small.root / rel) in msg, f"path broken by line wrapping: {msg}"


def test_error_missing_column(small, tmp_path):
    cfg = small.variant("col.yaml", "label: score}", "label: rating}")
    assert_input_error(invoke("report", cfg, "-o", tmp_path / "o"), "'rating'", "gold.columns.label",
                       "gold.csv", "score")


def test_error_missing_judge_column(small, tmp_path):
    cfg = small.variant("jcol.yaml", "label: verdict}", "label: verdikt}")
    assert_input_error(invoke("report", cfg, "-o", tmp_path / "o"), "'verdikt'", "judges[0].columns.label")


@pytest.mark.parametrize("which", ["gold", "judge", "header-only", "blank-jsonl"])
def test_error_empty_file(small, tmp_path, which):
    if which == "gold":
        (small.root / "empty.csv").write_text("", encoding="utf-8")
        cfg = small.variant("e.yaml", "path: gold.csv", "path: empty.csv")
        needles = ("gold set", "empty.csv", "empty")
    elif which == "judge":
        (small.root / "empty.jsonl").write_text("", encoding="utf-8")
        cfg = small.variant("e.yaml", "path: judge_b.jsonl", "path: empty.jsonl")
        needles = ("'jb'", "empty.jsonl", "empty")
    elif which == "header-only":
        (small.root / "hdr.csv").write_text("qid,verdict\n", encoding="utf-8")
        cfg = small.variant("e.yaml", "path: judge_a.csv", "path: hdr.csv")
        needles = ("'ja'", "hdr.csv", "no rows")
    else:
        (small.root / "blank.jsonl").write_text("\n\n  \n", encoding="utf-8")
        cfg = small.variant("e.yaml", "path: judge_b.jsonl", "path: blank.jsonl")
        needles = ("'jb'", "blank.jsonl", "no rows")
    assert_input_error(invoke("report", cfg, "-o", tmp_path / "o"), *needles)


def test_error_malformed_jsonl_line(small, tmp_path):
    lines = small.judge_b.read_text(encoding="utf-8").splitlines()
    lines[5] = '{"qid": "q05", "output": broken'
    (small.root / "bad.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = small.variant("badjl.yaml", "path: judge_b.jsonl", "path: bad.jsonl")
    assert_input_error(invoke("report", cfg, "-o", tmp_path / "o"), "bad.jsonl", "line 6", "not valid JSON")


def test_error_malformed_yaml(small, tmp_path):
    cfg = small.variant("bad.yaml", "scale: {kind: ordinal, levels: [1, 2, 3, 4, 5]}",
                        "scale: {kind: ordinal, levels: [1, 2, 3, 4, 5]}}")
    assert_input_error(invoke("report", cfg, "-o", tmp_path / "o"), "YAML", "line 2")


def test_unknown_label_counted_out_of_scale(small, tmp_path):
    text = small.gold.read_text(encoding="utf-8").splitlines()
    head, first = text[0], text[1].split(",")
    assert first[:2] == ["q00", "a1"]
    first[2] = "7"  # not one of the declared levels 1..5
    (small.root / "gold_oos.csv").write_text("\n".join([head, ",".join(first), *text[2:]]) + "\n",
                                             encoding="utf-8")
    cfg = small.variant("oos.yaml", "path: gold.csv", "path: gold_oos.csv")
    out = tmp_path / "o"
    result = invoke("report", cfg, "-o", out)
    assert_ok(result)
    assert "Traceback" not in result.stderr
    res = load_results(out)
    cov = {c["source"]: c for c in res["coverage"]}
    assert cov["gold"]["out_of_scale"] == 1
    probs = [p for p in res["problems"] if p["source"] == "gold" and "scale" in p["problem"]]
    assert len(probs) == 1 and str(probs[0]["raw"]) == "7" and probs[0]["item_id"] == "q00"
    # the analysis still uses every item (two labels remain for q00)
    assert cov["ja"]["matched_items"] == N_ITEMS


def test_unknown_judge_label_counted_out_of_scale(small, tmp_path):
    text = small.judge_a.read_text(encoding="utf-8").splitlines()
    text[1] = text[1].split(",")[0] + ",excellent"
    (small.root / "ja_oos.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    cfg = small.variant("joos.yaml", "path: judge_a.csv", "path: ja_oos.csv")
    out = tmp_path / "o"
    assert_ok(invoke("report", cfg, "-o", out, "--quiet"))
    cov = {c["source"]: c for c in load_results(out)["coverage"]}
    assert cov["ja"]["out_of_scale"] == 1


def test_error_ordinal_without_levels(small, tmp_path):
    cfg = small.variant("nolev.yaml", "scale: {kind: ordinal, levels: [1, 2, 3, 4, 5]}", "scale: {kind: ordinal}")
    assert_input_error(invoke("report", cfg, "-o", tmp_path / "o"), "ordinal", "declare", "levels")


def test_error_judge_without_overlap(small, tmp_path):
    text = small.judge_a.read_text(encoding="utf-8").replace("\nq", "\nz")
    assert text.startswith("qid,verdict\nz00,")
    (small.root / "ja_other.csv").write_text(text, encoding="utf-8")
    cfg = small.variant("nov.yaml", "path: judge_a.csv", "path: ja_other.csv")
    msg = assert_input_error(invoke("report", cfg, "-o", tmp_path / "o"), "'ja'")
    assert "no usable judgment" in msg or "no item in common" in msg, msg
    assert not (tmp_path / "o").exists()


def test_error_unknown_preset(small, tmp_path):
    cfg = small.variant("preset.yaml", "extract: rating", "extract: ratingz")
    msg = assert_input_error(invoke("report", cfg, "-o", tmp_path / "o"), "ratingz", "judges[1].extract",
                             "preset")
    assert "did you mean 'rating'" in msg.lower()
    r = invoke("agree", "--gold", small.gold, "--judge", f"jb={small.judge_b}", "--scale", "ordinal", "--levels",
               "1,2,3,4,5", "--item", "qid", "--rater", "annotator", "--label", "score", "--judge-text", "output",
               "--extract", "ratingz")
    assert_input_error(r, "ratingz", "rating")


def test_debug_reraises(small, tmp_path):
    cfg = small.variant("nolev.yaml", "scale: {kind: ordinal, levels: [1, 2, 3, 4, 5]}", "scale: {kind: ordinal}")
    with pytest.raises(MetajudgeError, match="declared order"):
        CliRunner().invoke(app, ["report", str(cfg), "-o", str(tmp_path / "o"), "--debug"],
                           catch_exceptions=False)
    r = invoke("agree", tmp_path / "nope.yaml", "--debug")
    assert isinstance(r.exception, MetajudgeError)
    assert r.exit_code != 0


def test_console_bad_input_and_debug(small, tmp_path):
    """The real command: exit 1 and one paragraph without --debug, a traceback with it."""
    cfg = small.variant("nov.yaml", "path: judge_a.csv", "path: nothere.csv")
    proc = run_console("report", cfg, "-o", tmp_path / "o", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
    assert "nothere.csv" in flat(proc.stderr)
    proc = run_console("report", cfg, "-o", tmp_path / "o", "--debug", cwd=tmp_path)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr
    assert "InputError" in proc.stderr
    proc = run_console("agree", small.config, "--format", "nope", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_console_report_subprocess(small, tmp_path):
    out = tmp_path / "out"
    proc = run_console("report", small.config, "-o", out, "--n-resamples", RESAMPLES, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert "coverage" in proc.stderr
    assert (out / "report.html").is_file() and (out / "results.json").is_file()
    proc = run_console("agree", small.config, "--format", "csv", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""
    assert list(pd.read_csv(io.StringIO(proc.stdout)).columns[:2]) == ["section", "judge"]


# ---------------------------------------------------------------------------------------------- bad flags


def test_bad_figures_option_is_a_clean_error(small, tmp_path):
    """--figures with an unknown format should be a usage / input error, not an uncaught ValueError."""
    r = invoke("report", small.config, "-o", tmp_path / "o", "--quiet", "--figures", "bogus")
    assert r.exception is None or isinstance(r.exception, SystemExit), f"uncaught {r.exception!r}"
    assert r.exit_code in (1, 2)
    assert "bogus" in r.stderr
    assert "Traceback" not in r.stderr


def test_unwritable_output_is_a_clean_error(small, tmp_path):
    """-o under a regular file cannot be created: exit 1 naming the folder, no uncaught OSError."""
    target = small.gold / "sub"  # small.gold is a file
    r = invoke("report", small.config, "-o", target, "--quiet")
    assert r.exception is None or isinstance(r.exception, SystemExit), f"uncaught {r.exception!r}"
    assert_input_error(r, "sub")


def test_data_flags_beside_a_config_are_a_usage_error(tmp_path):
    from typer.testing import CliRunner

    from metajudge.cli import app
    from metajudge.demo import simulate_demo

    cfg = simulate_demo(tmp_path / "d")["pointwise"]
    res = CliRunner().invoke(app, ["agree", str(cfg), "--judge", "x=y.jsonl", "-q"])
    assert res.exit_code == 2
    assert "--set" in res.output


def test_progress_line_only_on_a_terminal(monkeypatch, capsys):
    """The progress bar is silent when stderr is not a terminal (pipes, logs, CI) and with quiet."""
    import io

    from metajudge.analysis import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    for stream, quiet, shown in ((Tty(), False, True), (Tty(), True, False), (io.StringIO(), False, False)):
        monkeypatch.setattr("sys.stderr", stream)
        p = Progress(2, quiet, "metajudge")
        p.step("a")
        p.step("b")
        assert ("metajudge [" in stream.getvalue()) is shown, (type(stream).__name__, quiet)
