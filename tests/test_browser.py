"""Browser tests of the HTML report in headless Chromium.

The browser is the system's Chromium (Debian's ``chromium`` package, installed by ``.ci/run``), driven by
Python Playwright through ``executable_path``; no browser is ever downloaded. ``.ci/run`` installs Chromium
and sets ``METAJUDGE_REQUIRE_BROWSER=1``: there a missing Chromium or Playwright FAILS the tests with a message
saying how to install them. Elsewhere (the README's two-command quick start on a machine with only Python
and pip) they are skipped with that message as the reason. ``METAJUDGE_SKIP_BROWSER=1`` switches them off.
``METAJUDGE_CHROMIUM`` may name another Chromium binary.

What is checked, on the full demo reports (built with ``metajudge demo``) and on a small report whose judge
names and raw outputs hold HTML:

* each page loads from ``file://`` and requests nothing but ``file:`` / ``data:`` / ``about:`` URLs;
* no console error and no uncaught exception;
* every figure renders (an ``<img>`` with ``naturalWidth > 0`` or an inline ``<svg>`` with content and size);
* judge text holding ``<script>`` and ``<img onerror>`` shows as text and runs nothing;
* the dark colour scheme changes the page background, and both schemes keep readable text;
* an axe-core scan (axe-playwright-python) reports no violations in either colour scheme.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

SKIP_ENV = "METAJUDGE_SKIP_BROWSER"
CHROMIUM_ENV = "METAJUDGE_CHROMIUM"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ALLOWED_SCHEMES = ("file:", "data:", "about:")

SCRIPT_INJECTION = "<script>alert(1)</script>"
IMG_INJECTION = '<img src=x onerror="window.__pwned=1">'
EVIL_JUDGES = (IMG_INJECTION, SCRIPT_INJECTION)
CLEAN_JUDGE = "clean-judge"

pytestmark = pytest.mark.skipif(os.environ.get(SKIP_ENV) == "1",
                                reason=f"{SKIP_ENV}=1: browser tests switched off (CI never sets this)")


REQUIRE_ENV = "METAJUDGE_REQUIRE_BROWSER"


def _unavailable(message: str) -> None:
    """Fail where a browser is required (CI sets REQUIRE_ENV=1 in .ci/run), else skip saying how to get one."""
    text = (f"{message} Install Debian's chromium package (apt-get install chromium; .ci/run does this) and the "
            "test extras (pip install '.[test]').")
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{text} {REQUIRE_ENV}=1: browser tests must run here.", pytrace=False)
    pytest.skip(f"{text} (Set {REQUIRE_ENV}=1 to make this a failure, as CI does.)")


def _chromium_path() -> str:
    path = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        _unavailable(f"Chromium was not found on PATH (looked for 'chromium' and 'chromium-browser'; "
                     f"{CHROMIUM_ENV} is unset).")
    return str(path)


# ---------------------------------------------------------------------------------------------- reports
@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The full demo as ``metajudge demo`` writes it (index and both task reports), with 50 resamples."""
    from typer.testing import CliRunner

    from metajudge.cli import app

    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "-o", str(out), "--n-resamples", "50", "--quiet"])
    assert result.exit_code == 0, result.output
    pages = {"index": out / "index.html", "pointwise": out / "pointwise" / "report.html",
             "pairwise": out / "pairwise" / "report.html"}
    for name, path in pages.items():
        assert path.is_file(), f"{name}: {path} was not written"
    return pages


def _write_injection_task(root: Path) -> Path:
    """A small pointwise task whose judge names and unparseable raw outputs hold HTML."""
    rng = np.random.default_rng(7)
    n_items, raters = 40, ("ann1", "ann2", "ann3")
    truth = rng.integers(1, 6, n_items)
    gold_lines = ["item_id,annotator,score"]
    for i in range(n_items):
        for r in raters:
            label = int(np.clip(truth[i] + rng.integers(-1, 2), 1, 5))
            gold_lines.append(f"q-{i:03d},{r},{label}")
    (root / "gold.csv").write_text("\n".join(gold_lines) + "\n", encoding="utf-8")

    judges_dir = root / "judges"
    judges_dir.mkdir()
    judges = []
    for k, name in enumerate((CLEAN_JUDGE, *EVIL_JUDGES)):
        rows = []
        for i in range(n_items):
            label = int(np.clip(truth[i] + rng.integers(-1, 2), 1, 5))
            text = f"Looks fine.\nRating: {label}"
            if name != CLEAN_JUDGE and i in (3, 11):
                # no "rating" keyword, so both outputs are unparseable and listed as problem rows
                text = f"I refuse to score this. {SCRIPT_INJECTION} and {IMG_INJECTION}"
            rows.append(json.dumps({"item_id": f"q-{i:03d}", "output": text}))
        path = judges_dir / f"judge{k}.jsonl"
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        judges.append({"name": name, "path": f"judges/{path.name}", "columns": {"item": "item_id", "text": "output"},
                       "extract": "rating"})
    config = {
        "title": f"injection check {IMG_INJECTION}",
        "scale": {"kind": "ordinal", "levels": [1, 2, 3, 4, 5]},
        "gold": {"path": "gold.csv", "layout": "long",
                 "columns": {"item": "item_id", "rater": "annotator", "label": "score"}},
        "judges": judges,
        "bootstrap": {"n_resamples": 50, "confidence_level": 0.95, "seed": 0},
    }
    cfg_path = root / "metajudge.yaml"
    cfg_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return cfg_path


@pytest.fixture(scope="module")
def injection_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import metajudge

    root = tmp_path_factory.mktemp("injection")
    data = root / "data"
    data.mkdir()
    analysis = metajudge.run_config(_write_injection_task(data), n_resamples=50)
    metajudge.write_report(analysis, root / "report")
    path = root / "report" / "report.html"
    assert path.is_file()
    return path


# ---------------------------------------------------------------------------------------------- browser
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the environment
        _unavailable(f"Python Playwright is not installed ({exc}).")
    with sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=executable, headless=True, args=LAUNCH_ARGS)
        except Exception as exc:  # pragma: no cover - depends on the environment
            _unavailable(f"Chromium at {executable} could not be launched: {exc}")
        try:
            yield b
        finally:
            b.close()


class LoadedPage:
    """A page opened on a report, with everything it requested, logged and raised recorded."""

    def __init__(self, browser: Any, path: Path, color_scheme: str = "light") -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(color_scheme=color_scheme, java_script_enabled=True)
        self.context.set_default_timeout(60_000)
        self.context.route("**/*", self._route)
        page = self.context.new_page()
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("dialog", self._dialog)
        self.url = path.resolve().as_uri()
        self.response = page.goto(self.url, wait_until="load")
        self.page = page

    @staticmethod
    def _route(route: Any) -> None:
        # nothing may leave the machine: whatever is not a local URL is recorded (by the request event) and refused
        if route.request.url.startswith(ALLOWED_SCHEMES):
            route.continue_()
        else:
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    opened: list[LoadedPage] = []

    def _open(path: Path, color_scheme: str = "light") -> LoadedPage:
        p = LoadedPage(browser, path, color_scheme)
        opened.append(p)
        return p

    yield _open
    for p in opened:
        p.close()


DEMO_PAGES = ("index", "pointwise", "pairwise")


def _pages(request: pytest.FixtureRequest, which: str) -> Path:
    if which == "injection":
        return request.getfixturevalue("injection_report")
    return request.getfixturevalue("demo_reports")[which]


# ------------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("which", [*DEMO_PAGES, "injection"])
def test_loads_from_file_without_remote_requests_or_errors(request, open_page, which):
    p = open_page(_pages(request, which))
    assert p.url.startswith("file://")
    assert p.page.url.startswith("file://")
    assert p.page.title(), "the page has no title"
    outside = [u for u in p.requests if not u.startswith(ALLOWED_SCHEMES)]
    assert not outside, f"the report requested URLs outside file:/data: {outside}"
    assert not p.errors, "console errors / uncaught exceptions:\n" + "\n".join(p.errors)
    assert not p.dialogs, f"dialogs opened: {p.dialogs}"


@pytest.mark.parametrize("which", ["pointwise", "pairwise", "injection"])
def test_every_figure_renders(request, open_page, which):
    p = open_page(_pages(request, which))
    figures = p.page.evaluate("""() => {
        const out = [];
        for (const img of document.querySelectorAll('img')) {
            const r = img.getBoundingClientRect();
            out.push({kind: 'img', id: img.closest('figure')?.id || img.src.slice(0, 80),
                      ok: img.complete && img.naturalWidth > 0 && r.width > 0 && r.height > 0});
        }
        for (const svg of document.querySelectorAll('svg')) {
            if (svg.parentElement.closest('svg')) continue;
            const r = svg.getBoundingClientRect();
            const drawn = svg.querySelectorAll('path, rect, circle, line, polyline, polygon, text, use, image').length;
            out.push({kind: 'svg', id: svg.closest('figure')?.id || '(no figure)',
                      ok: svg.childElementCount > 0 && drawn > 0 && r.width > 0 && r.height > 0,
                      width: r.width, height: r.height, drawn: drawn});
        }
        return out;
    }""")
    assert figures, "the report has no figure"
    broken = [f for f in figures if not f["ok"]]
    assert not broken, f"{len(broken)} of {len(figures)} figures did not render: {broken}"
    in_figures = p.page.evaluate("() => document.querySelectorAll('figure').length")
    assert in_figures >= 1


def test_injected_html_shows_as_text_and_runs_nothing(open_page, injection_report):
    p = open_page(injection_report)
    page = p.page
    text = page.inner_text("body")
    for s in (SCRIPT_INJECTION, IMG_INJECTION):
        assert s in text, f"{s!r} is not shown as text"
    # the problem rows list the raw outputs verbatim
    raw = page.eval_on_selector_all("pre.raw", "els => els.map(e => e.textContent)")
    assert any(SCRIPT_INJECTION in r and IMG_INJECTION in r for r in raw), raw
    # nothing ran and no element was injected
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert not p.dialogs, f"injected code opened dialogs: {p.dialogs}"
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"], img[onerror], [onerror]').length") == 0
    scripts = page.evaluate("() => Array.from(document.scripts).map(s => [s.type, s.id, s.src])")
    assert all(t == "application/json" and not src for t, _id, src in scripts), scripts
    assert not p.errors, "console errors / uncaught exceptions:\n" + "\n".join(p.errors)
    # the embedded results are intact JSON that still holds the judge names
    embedded = page.evaluate("() => JSON.parse(document.getElementById('metajudge-results').textContent)")
    strings = set(_strings(embedded))
    for name in EVIL_JUDGES:
        assert name in strings, f"{name!r} is missing from the embedded results"


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


@pytest.mark.parametrize("which", ["pointwise", "injection"])
def test_dark_mode_changes_background(request, open_page, which):
    path = _pages(request, which)
    style = """() => { const s = getComputedStyle(document.body);
                       return {bg: s.backgroundColor, fg: s.color,
                               dark: matchMedia('(prefers-color-scheme: dark)').matches}; }"""
    light = open_page(path, "light").page.evaluate(style)
    dark = open_page(path, "dark").page.evaluate(style)
    assert light["dark"] is False and dark["dark"] is True
    assert light["bg"] != dark["bg"], (light, dark)
    assert light["fg"] != dark["fg"], (light, dark)

    def luminance(css: str) -> float:
        r, g, b = (float(v) / 255 for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    assert luminance(light["bg"]) > 0.8 > 0.05 > luminance(dark["bg"]), (light, dark)
    for scheme in (light, dark):
        hi, lo = sorted((luminance(scheme["bg"]), luminance(scheme["fg"])), reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 7, f"body text contrast below 7:1: {scheme}"


def _axe_report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v.get('impact')}): {v['help']} — {v.get('helpUrl', '')}")
        for node in v["nodes"][:8]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node.get('failureSummary', '').strip()}"
                         .replace("\n", " | ")[:400])
        if len(v["nodes"]) > 8:
            lines.append(f"    … {len(v['nodes']) - 8} more")
    return "\n".join(lines)


# Layout changes for the colour-contrast pass only: axe cannot judge text that a sticky table header covers or
# that a horizontally scrolled container clips ("incomplete"), so the scan sees every table cell in full.
UNCLIP_CSS = "thead th { position: static !important; } .scroll { overflow: visible !important; }"


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
@pytest.mark.parametrize("which", [*DEMO_PAGES, "injection"])
def test_accessibility_scan_has_no_violations(request, open_page, which, color_scheme):
    """axe-core, every rule it runs by default (WCAG A/AA and best practices), in both colour schemes.

    Two passes over the same page: every rule but colour contrast on the page as rendered (with every
    ``<details>`` open), then colour contrast alone with :data:`UNCLIP_CSS` applied, so that each cell's text
    is measured against its real background. The long "All estimates" table stays closed for the second pass:
    it repeats the styles of the tables above it and would double the run time.
    """
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    p = open_page(_pages(request, which), color_scheme)
    page = p.page
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    structure = axe.run(page, options={"resultTypes": ["violations"], "rules": {"color-contrast": {"enabled": False}}})
    page.evaluate("() => document.querySelectorAll('#all-estimates details').forEach(d => d.open = false)")
    page.add_style_tag(content=UNCLIP_CSS)
    contrast = axe.run(page, options={"runOnly": ["color-contrast"], "resultTypes": ["violations", "incomplete"]})
    violations = structure.response["violations"] + contrast.response["violations"]
    assert not violations, f"axe-core found {len(violations)} violation(s) ({color_scheme} scheme):\n" + \
        _axe_report(violations)
    assert contrast.response["passes"], "the colour-contrast rule checked no element"
    assert not p.errors, "\n".join(p.errors)
