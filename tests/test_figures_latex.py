"""Tests of ``metajudge figures``: paper-size figure files (one and two columns; PDF, SVG, PNG), their
determinism and embedded TrueType fonts, and the LaTeX tables, which must compile with ``pdflatex`` even
when judge names are full of LaTeX specials.

The run is the simulated pairwise demo (every pairwise probe plot) with its four judges renamed to hostile
names, analysed once with few bootstrap resamples; ``metajudge figures`` is run twice on it (in two
processes with different hash seeds) and the two folders are compared byte for byte.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from metajudge.cli import app
from metajudge.figures import PAPER_DPI, PAPER_WIDTHS
from metajudge.report import latex_escape, to_latex
from metajudge.report.export import leaderboard, leaderboard_to_latex
from metajudge.report.load import analysis_from_json
from metajudge.results import RESULT_COLUMNS

#: The demo's pairwise judges, renamed (names that break LaTeX, HTML and file names if not escaped).
RENAMED = {
    "fair-judge": "gpt-4o_mini",
    "primacy-judge": "A&B",
    "verbose-judge": "50% <b>",
    "basalt-judge": "x_{1}^2 ~ \\ $",
}
FORMATS = ("pdf", "svg", "png")
WIDTHS = ("1col", "2col")
#: Strings that must compile inside a table cell (besides the judge names above).
HOSTILE = ["$x$", "#1", "~", "^", "\\", "{}", "\\\\", "a--b", "[leading bracket", "*star", "κ ρ τ α π Δ χ² ₊ ± − → ≥ ≤ ·",
           "Bland–Altman “quotes” … é ü ñ ç ß ø Å", "中文 judge", "tab\there", "100%", "&&&", "_", "<script>"]


def _console() -> list[str]:
    script = Path(sys.executable).with_name("metajudge")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "metajudge.cli"]


def _start_console(*args: object, cwd: Path, hashseed: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    return subprocess.Popen([*_console(), *map(str, args)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    """(run folder, figures folder 1, figures folder 2) for the renamed pairwise demo."""
    from metajudge.demo import simulate_demo

    base = tmp_path_factory.mktemp("figures")
    cfg_path = simulate_demo(base / "data", seed=0)["pairwise"]
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    for j in cfg["judges"]:
        j["name"] = RENAMED[j["name"]]
    fam = cfg["probes"]["self_preference"]["families"]
    cfg["probes"]["self_preference"]["families"] = {RENAMED[k]: v for k, v in fam.items()}
    renamed = cfg_path.with_name("renamed.yaml")
    renamed.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    run = base / "run"
    res = CliRunner().invoke(app, ["report", str(renamed), "-o", str(run), "--n-resamples", "20", "--quiet"])
    assert res.exit_code == 0, (res.stderr, res.exception)
    # two independent processes (different hash seeds), run side by side to save time
    outs = [base / "paper1", base / "paper2"]
    procs = [_start_console("figures", run, "-o", out, "--format", ",".join(FORMATS), "--width", "both", "--quiet",
                            cwd=base, hashseed=seed) for out, seed in zip(outs, ("1", "2"), strict=True)]
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        assert stderr == "" and stdout == ""
    return run, outs[0], outs[1]


def _stems(folder: Path) -> set[str]:
    return {re.sub(r"_(1col|2col)$", "", p.stem) for p in folder.iterdir() if p.suffix in {".pdf", ".svg", ".png"}}


# -------------------------------------------------------------------------------------------- figures
def test_figures_written_for_both_widths_and_formats(paper):
    run, out, _ = paper
    stems = _stems(out)
    analysis = analysis_from_json(run / "results.json")
    assert any(s.startswith("forest_") for s in stems)
    from metajudge.report import safe_filename

    for judge in RENAMED.values():
        assert f"confusion_{safe_filename(judge)}" in stems, (judge, sorted(stems))
    for probe in ("position", "length", "self_preference", "system"):
        assert any(s.startswith(f"probe_{probe}_") for s in stems), (probe, sorted(stems))
    assert len(analysis.probes) >= 4
    for stem in stems:
        for width in WIDTHS:
            for fmt in FORMATS:
                p = out / f"{stem}_{width}.{fmt}"
                assert p.is_file() and p.stat().st_size > 0, p
    assert {p.name for p in out.glob("*.tex")} == {"agreement.tex", "probes.tex", "leaderboard.tex"}


def test_figures_byte_identical_across_runs(paper):
    _, one, two = paper
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    differ = [n for n in names if (one / n).read_bytes() != (two / n).read_bytes()]
    assert not differ, differ


def test_pdf_has_no_dates_and_embeds_truetype(paper):
    _, out, _ = paper
    pdfs = sorted(out.glob("*.pdf"))
    assert pdfs
    for p in pdfs:
        data = p.read_bytes()
        assert b"/CreationDate" not in data and b"/ModDate" not in data, p.name
        assert b"/FontFile2" in data, p.name  # TrueType (Type 42) font program embedded
        assert b"/FontFile3" not in data and b"/Subtype /Type3" not in data and b"/Subtype /Type1" not in data, p.name
        width = float(re.search(rb"/MediaBox \[\s*0 0 ([0-9.]+) ", data).group(1))
        expected = PAPER_WIDTHS["1col" if p.stem.endswith("_1col") else "2col"] * 72
        assert width == pytest.approx(expected, abs=0.01), (p.name, width)


def test_svg_and_png_sizes(paper):
    _, out, _ = paper
    for p in sorted(out.glob("*.svg")):
        text = p.read_text(encoding="utf-8")
        width = float(re.search(r'<svg[^>]*\swidth="([0-9.]+)pt"', text).group(1))
        expected = PAPER_WIDTHS["1col" if p.stem.endswith("_1col") else "2col"] * 72
        assert width == pytest.approx(expected, abs=0.01), (p.name, width)
        assert "<dc:date>" not in text
    for p in sorted(out.glob("*.png")):
        head = p.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = struct.unpack(">II", head[16:24])
        expected = PAPER_WIDTHS["1col" if p.stem.endswith("_1col") else "2col"] * PAPER_DPI
        assert abs(w - expected) <= 1, (p.name, w)
        assert h > 0.3 * w, (p.name, w, h)  # never flatter than the minimum aspect (with some layout slack)


def test_width_option_one_only(paper, tmp_path):
    run, _, _ = paper
    res = CliRunner().invoke(app, ["figures", str(run / "results.json"), "-o", str(tmp_path / "one"),
                                   "--format", "svg", "--width", "one", "--quiet"])
    assert res.exit_code == 0, (res.stderr, res.exception)
    files = [p.name for p in (tmp_path / "one").iterdir() if p.suffix != ".tex"]
    assert files and all(n.endswith("_1col.svg") for n in files), files
    assert _stems(tmp_path / "one") == _stems(paper[1])


@pytest.mark.parametrize("args", [["--format", "jpg"], ["--format", ""], ["--width", "three"]])
def test_figures_usage_errors_exit_2(paper, tmp_path, args):
    run, _, _ = paper
    res = CliRunner().invoke(app, ["figures", str(run), "-o", str(tmp_path / "x"), *args])
    assert res.exit_code == 2, (res.stdout, res.stderr)


def test_figures_missing_run_exit_1(tmp_path):
    res = CliRunner().invoke(app, ["figures", str(tmp_path / "nope.json"), "-o", str(tmp_path / "x")])
    assert res.exit_code == 1
    assert "results file not found" in " ".join(res.stderr.split()) and "Traceback" not in res.stderr


# ---------------------------------------------------------------------------------------------- LaTeX
def test_tables_escape_judge_names(paper):
    _, out, _ = paper
    agreement = (out / "agreement.tex").read_text(encoding="utf-8")
    probes = (out / "probes.tex").read_text(encoding="utf-8")
    board = (out / "leaderboard.tex").read_text(encoding="utf-8")
    for tex in (agreement, probes, board):
        assert tex.isascii()
        assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
        assert r"gpt-4o\_mini" in tex and r"A\&B" in tex and r"50\% \textless{}b\textgreater{}" in tex
        assert r"x\_\{1\}\textasciicircum{}2 \textasciitilde{} \textbackslash{} \$" in tex
        assert "<b>" not in tex
    assert "Bias probes: Position bias" in probes


def test_latex_escape_output_is_ascii_and_balanced():
    for s in [*RENAMED.values(), *HOSTILE]:
        out = latex_escape(s)
        assert out.isascii(), (s, out)
        depth = 0
        for k, ch in enumerate(out):  # braces balanced, ignoring escaped ones
            if ch in "{}" and (k == 0 or out[k - 1] != "\\"):
                depth += 1 if ch == "{" else -1
                assert depth >= 0, (s, out)
        assert depth == 0, (s, out)
        assert out.replace(r"\$", "").count("$") % 2 == 0, (s, out)  # math mode always closed
    assert latex_escape("Stuart–Maxwell χ²") == r"Stuart--Maxwell $\chi$$^{2}$"
    assert latex_escape("P₊ ≥ 0.5") == r"P$_{+}$ $\geq$ 0.5"
    assert latex_escape("中") == "[U+4E2D]"


def _hostile_tables() -> str:
    """A to_latex table (wide and long) and a leaderboard whose judge names and metric names are hostile."""
    import pandas as pd

    from metajudge.report.export import _LATEX_UNICODE

    rows = []
    every = "".join(_LATEX_UNICODE)  # every character latex_escape maps, 30 to a name
    names = [*RENAMED.values(), *HOSTILE, *(every[k:k + 30] for k in range(0, len(every), 30))]
    for k, name in enumerate(names):
        for metric in ("cohen_kappa", "spearman"):
            rows.append(dict(section="agreement", judge=name, rater_kind="judge", reference="majority(humans)",
                             metric=metric, level="item", slice="all", estimate=0.5 - 0.01 * k, ci_low=0.4,
                             ci_high=0.6, confidence_level=0.95, n=100, method="m", note="", p_value=float("nan"),
                             p_adjusted=float("nan"), probe=""))
        rows.append(dict(section="probe", judge=name, rater_kind="judge", reference=HOSTILE[k % len(HOSTILE)],
                         metric="stuart_maxwell", level="item", slice="all", estimate=-0.2, ci_low=-0.3,
                         ci_high=float("nan"), confidence_level=0.9, n=50, method="m", note="", p_value=0.01,
                         p_adjusted=0.0004 if k % 2 else 0.2, probe="leniency"))
    df = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    wide = to_latex(df, caption="Caption with " + " ".join(HOSTILE), label="tab:x")
    long = to_latex(df, sections=["probe"], layout="long", p_label="p (Holm) & 50%")
    board = pd.DataFrame({"rank": [1, 2], "judge": names[:2], "run": ["run & 1", "x_y"], "kind": "judge",
                          "metric": "cohen_kappa", "level": "item", "estimate": [0.5, 0.4], "ci_low": 0.3,
                          "ci_high": 0.6, "confidence_level": 0.95, "n": [1200, 30]})
    analysis_board = leaderboard_to_latex(board, caption="Leaderboard κ & co")
    return wide + long + analysis_board


def test_latex_tables_compile_with_pdflatex(paper, tmp_path):
    exe = shutil.which("pdflatex")
    if exe is None:
        print("SKIP REASON: pdflatex not found; install texlive-latex-base and texlive-latex-recommended "
              "(the CI installs them)")
        pytest.skip("pdflatex not found (apt-get install texlive-latex-base texlive-latex-recommended)")
    _, out, _ = paper
    for name in ("agreement.tex", "probes.tex", "leaderboard.tex"):
        shutil.copy(out / name, tmp_path / name)
    (tmp_path / "hostile.tex").write_text(_hostile_tables(), encoding="utf-8")
    doc = "\n".join([
        r"\documentclass{article}",
        r"\usepackage{booktabs}",
        r"\usepackage{amssymb}",
        r"\begin{document}",
        r"\input{agreement.tex}",
        r"\input{probes.tex}",
        r"\input{leaderboard.tex}",
        r"\input{hostile.tex}",
        r"\end{document}",
        "",
    ])
    (tmp_path / "doc.tex").write_text(doc, encoding="utf-8")
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace") if (tmp_path / "doc.log").exists() \
        else proc.stdout
    assert proc.returncode == 0, log[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    assert "Missing character" not in log and "! " not in log


def test_leaderboard_single_run(paper):
    run, _, _ = paper
    board = leaderboard(analysis_from_json(run))
    judges = board[board["kind"] == "judge"]
    assert set(judges["judge"]) == set(RENAMED.values())
    assert list(judges["rank"]) == sorted(judges["rank"])
    est = judges["estimate"].tolist()
    assert est == sorted(est, reverse=True)
    assert (board["kind"] == "human ceiling").sum() == 1
