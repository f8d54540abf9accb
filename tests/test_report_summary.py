"""The report's summary, leaderboard (with significance letters), worst disagreements and methods section."""

from __future__ import annotations

import html as html_lib
import itertools
import re

import numpy as np
import pandas as pd
import pytest

import metajudge as mj
from metajudge.align import align
from metajudge.demo import simulate_demo
from metajudge.disagreements import DISAGREEMENT_COLUMNS, worst_disagreements, worst_disagreements_or_empty
from metajudge.plots import plot_leaderboard
from metajudge.report import render_html, write_report
from metajudge.report.html import board_metric, compact_letter_display, significance_letters
from metajudge.results import COVERAGE_COLUMNS, PROBLEM_COLUMNS, RESULT_COLUMNS, Analysis
from metajudge.scales import Scale

NAN = float("nan")
RESAMPLES = 100
EVIL = "<script>alert('x')</script>"


# ------------------------------------------------------------------------------------------ helpers
def _row(section, judge, kind, metric, est, lo=NAN, hi=NAN, *, reference="majority(humans)", level="item",
         slice="all", n=100, method="bootstrap-cluster", note="", p=NAN, p_adj=NAN, probe=""):
    return dict(section=section, judge=judge, rater_kind=kind, reference=reference, metric=metric, level=level,
                slice=slice, estimate=est, ci_low=lo, ci_high=hi, confidence_level=0.95, n=n, method=method,
                note=note, p_value=p, p_adjusted=p_adj, probe=probe)


def _analysis(rows, **kw) -> Analysis:
    return Analysis(results=pd.DataFrame(rows, columns=RESULT_COLUMNS),
                    coverage=pd.DataFrame(columns=COVERAGE_COLUMNS), problems=pd.DataFrame(columns=PROBLEM_COLUMNS),
                    confusion={}, scale=kw.pop("scale", Scale("nominal")), **kw)


def _section(html: str, sid: str) -> str:
    start = html.index(f'<section id="{sid}"')
    return html[start:html.index("</section>", start)]


def _text(fragment: str) -> str:
    fragment = re.sub(r"<svg.*?</svg>", " ", fragment, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _judge_cards(html: str) -> dict[str, str]:
    summary = _section(html, "summary")
    cards = re.findall(r'<article class="judge-summary"[^>]*>(.*?)</article>', summary, flags=re.DOTALL)
    out = {}
    for card in cards:
        name = _text(re.search(r"<h3[^>]*>(.*?)</h3>", card, flags=re.DOTALL).group(1))
        out[name] = card
    return out


def _visible(html: str) -> str:
    """The page without the embedded results JSON block."""
    return re.sub(r'<script type="application/json" id="metajudge-results">.*?</script>', "", html, flags=re.DOTALL)


# ------------------------------------------------------------------------------------------ demo runs
@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, tuple[Analysis, str]]:
    base = tmp_path_factory.mktemp("demo")
    simulate_demo(base / "data")
    out = {}
    for task in ("pointwise", "pairwise"):
        analysis = mj.run_config(base / "data" / task / "metajudge.yaml", n_resamples=RESAMPLES)
        written = write_report(analysis, base / task, figures=())
        out[task] = (analysis, written["report.html"].read_text(encoding="utf-8"))
    return out


def test_summary_has_three_lines_per_judge(demo):
    for task, (analysis, html) in demo.items():
        cards = _judge_cards(html)
        judges = list(dict.fromkeys(analysis.agreement["judge"]))
        assert list(cards) == judges, task
        metric = mj.results.display_name(board_metric(analysis))
        for judge, card in cards.items():
            lines = re.findall(r'<li class="(headline|position|biases)">', card)
            assert lines == ["headline", "position", "biases"], (task, judge)
            text = _text(card)
            # line 1: the headline metric with its CI
            row = analysis.agreement[(analysis.agreement["judge"] == judge) & (analysis.agreement["metric"] ==
                                                                               board_metric(analysis))
                                     & (analysis.agreement["slice"] == "all")].iloc[0]
            line1 = f"{metric} {row['estimate']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
            assert line1.replace("-", "−") in text
            # line 2: against the human ceiling (same leave-one-out references) and the best null baseline
            assert "Human ceiling" in text and "same leave-one-out references" in text
            assert re.search(r"(inside|below|above) the human ceiling", text), text
            assert "Best null baseline" in text
            # line 3: the biases significant after Holm, or an explicit "none"
            assert ("Significant after Holm" in text) != ("No bias significant after Holm" in text), text


def test_summary_biases_match_the_planted_ones(demo):
    _, pw = demo["pointwise"]
    cards = {j: _text(c) for j, c in _judge_cards(pw).items()}
    assert "No bias significant after Holm" in cards["strong-judge"]
    assert "Leniency shift (judge − human)" in cards["lenient-judge"]
    # system-ranking correlations are validity, not bias: never listed even when significant
    assert all("System ranking" not in c for c in cards.values())
    _, pr = demo["pairwise"]
    cards = {j: _text(c) for j, c in _judge_cards(pr).items()}
    assert "First-position rate" in cards["primacy-judge"]
    assert "First-position rate" not in cards["fair-judge"]
    assert "Prefer-longer excess (judge − human)" in cards["verbose-judge"]
    assert "Self-preference (equal opportunity)" in cards["basalt-judge"]
    assert "Self-preference" not in cards["fair-judge"]
    # a rate the humans share is flagged as shared
    assert "the humans show it too" in cards["fair-judge"]


def test_summary_against_ceiling_and_best_baseline(demo):
    analysis, html = demo["pairwise"]
    metric = board_metric(analysis)
    assert metric == "cohen_kappa"  # the comparisons between judges are computed for κ, not for α
    base = analysis.baselines[(analysis.baselines["metric"] == metric) & (analysis.baselines["slice"] == "all")]
    best = base.sort_values("estimate", ascending=False).iloc[0]
    for judge, card in _judge_cards(html).items():
        text = _text(card)
        assert f"Best null baseline ({best['judge']}) {best['estimate']:.3f}".replace("-", "−") in text
        ceil = analysis.ceiling[(analysis.ceiling["metric"] == metric)]
        jc = ceil[(ceil["judge"] == judge) & (ceil["rater_kind"] == "judge")].iloc[0]
        hc = ceil[ceil["judge"] == "human_ceiling"].iloc[0]
        assert f"judge {jc['estimate']:.3f}" in text and f"humans {hc['estimate']:.3f}" in text


def test_summary_unit_positions_and_filters():
    rows = [
        _row("agreement", "good", "judge", "cohen_kappa", 0.80, 0.75, 0.85),
        _row("agreement", "weak", "judge", "cohen_kappa", 0.20, 0.10, 0.30),
        _row("ceiling", "human_ceiling", "human", "cohen_kappa", 0.70, 0.65, 0.76, reference="leave-one-annotator-out"),
        _row("ceiling", "good", "judge", "cohen_kappa", 0.68, 0.60, 0.74, reference="leave-one-annotator-out"),
        _row("ceiling", "weak", "judge", "cohen_kappa", 0.15, 0.05, 0.25, reference="leave-one-annotator-out"),
        _row("ceiling", "human_ceiling@weak", "human", "cohen_kappa", 0.71, 0.66, 0.77, reference="on weak's items"),
        _row("baseline", "random_uniform", "baseline", "cohen_kappa", 0.01, -0.05, 0.07),
        _row("baseline", "always_longer", "baseline", "cohen_kappa", 0.25, 0.15, 0.35),
        _row("probe", "good", "judge", "first_position_rate", 0.51, p=0.6, p_adj=1.0, probe="position"),
        _row("probe", "good", "judge", "system_rank_spearman", 1.0, p=0.001, p_adj=0.01, probe="system"),
        _row("probe", "weak", "judge", "first_position_rate", 0.7, p=1e-6, p_adj=2e-6, probe="position"),
        _row("probe", "weak", "judge", "tie_rate_difference", 0.02, p=0.03, p_adj=0.06, probe="leniency"),
    ]
    html = render_html(_analysis(rows))
    cards = {j: _text(c) for j, c in _judge_cards(html).items()}
    assert "inside the human ceiling's interval" in cards["good"]
    assert "clearly above it" in cards["good"] and "(always_longer)" in cards["good"]
    assert "No bias significant after Holm" in cards["good"]  # the significant system rank is not a bias
    # the judge that skipped items is compared with the ceiling on its own items
    assert "below the human ceiling's interval" in cards["weak"]
    assert "humans on the items it rated 0.710" in cards["weak"]
    assert "not clearly above it" in cards["weak"]
    assert "First-position rate 0.700" in cards["weak"] and "Tie-rate difference" not in cards["weak"]


# ------------------------------------------------------------------------------------ letters
def test_compact_letter_display_known_cases():
    assert compact_letter_display(["A", "B", "C"], [("A", "B")]) == {"A": "a", "B": "b", "C": "ab"}
    assert compact_letter_display(["A", "B", "C"], []) == {"A": "a", "B": "a", "C": "a"}
    all_differ = [("A", "B"), ("B", "C"), ("A", "C")]
    assert compact_letter_display(["A", "B", "C"], all_differ) == {"A": "a", "B": "b", "C": "c"}
    got = compact_letter_display(["A", "B", "C", "D"], [("A", "C"), ("A", "D"), ("B", "D")])
    assert got == {"A": "a", "B": "ab", "C": "bc", "D": "c"}
    assert compact_letter_display([], []) == {}


@pytest.mark.parametrize("seed", range(25))
def test_compact_letter_display_property(seed):
    rng = np.random.default_rng(seed)
    names = [f"j{k}" for k in range(int(rng.integers(2, 8)))]
    sig = [(a, b) for a, b in itertools.combinations(names, 2) if rng.random() < 0.5]
    letters = compact_letter_display(names, sig)
    for a, b in itertools.combinations(names, 2):
        share = bool(set(letters[a]) & set(letters[b]))
        assert share == ((a, b) not in sig), (a, b, letters, sig)
    assert letters[names[0]].startswith("a")


def _letters_analysis() -> Analysis:
    rows = [
        _row("agreement", "A", "judge", "cohen_kappa", 0.80, 0.75, 0.85),
        _row("agreement", "B", "judge", "cohen_kappa", 0.60, 0.55, 0.65),
        _row("agreement", "C", "judge", "cohen_kappa", 0.70, 0.62, 0.78),
        _row("ceiling", "human_ceiling", "human", "cohen_kappa", 0.72, 0.68, 0.76, reference="leave-one-annotator-out"),
        _row("baseline", "random_uniform", "baseline", "cohen_kappa", 0.0, -0.05, 0.05),
        _row("comparison", "A vs B", "comparison", "cohen_kappa_difference", 0.2, 0.1, 0.3, method="paired-bootstrap",
             p=0.001, p_adj=0.003),
        _row("comparison", "A vs C", "comparison", "cohen_kappa_difference", 0.1, -0.02, 0.2,
             method="paired-bootstrap", p=0.2, p_adj=0.4),
        _row("comparison", "B vs C", "comparison", "cohen_kappa_difference", -0.1, -0.2, 0.01,
             method="paired-bootstrap", p=0.04, p_adj=0.08),
        # another metric's comparison must not change the letters
        _row("comparison", "B vs C", "comparison", "percent_agreement_difference", -0.1, -0.2, -0.05,
             method="paired-bootstrap", p=0.001, p_adj=0.003),
    ]
    return _analysis(rows)


def test_leaderboard_order_and_letters():
    a = _letters_analysis()
    assert significance_letters(a.results, "cohen_kappa") == {"A": "a", "C": "ab", "B": "b"}
    html = render_html(a)
    board = _section(html, "leaderboard")
    table = board[board.index("<table"):board.index("</table>")]
    names = [_text(x) for x in re.findall(r'<th scope="row">(.*?)<span class="tag', table)]
    assert names == ["A", "C", "B", "human_ceiling", "random_uniform"]
    letters = re.findall(r'<td class="letters">(.*?)</td>', table)
    assert letters == ["a", "ab", "b", "", ""]
    assert "Piepho (2004)" in board and "Holm-adjusted" in board
    assert 'id="leaderboard_cohen_kappa"' in board  # the figure, inline


def test_letters_missing_comparisons():
    a = _letters_analysis()
    res = a.results
    assert significance_letters(res[res["section"] != "comparison"], "cohen_kappa") is None
    # a pair without an adjusted p-value counts as not significantly different
    res = res.copy()
    res.loc[res["judge"] == "A vs B", "p_adjusted"] = NAN
    assert significance_letters(res, "cohen_kappa") == {"A": "a", "C": "a", "B": "a"}


def test_plot_leaderboard():
    a = _letters_analysis()
    ax = plot_leaderboard(a.results, "cohen_kappa", letters={"A": "a", "C": "ab", "B": "b"})
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["A  [a]", "C  [ab]", "B  [b]", "baseline: random_uniform"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("human ceiling" in t for t in legend) and "null baseline" in legend
    assert any(p.get_hatch() == "//" for p in ax.patches)  # the ceiling band
    with pytest.raises(ValueError, match="no judge rows"):
        plot_leaderboard(a.results, "not_a_metric")


# ------------------------------------------------------------------------------ worst disagreements
def _ordinal_table():
    items = ["i1", "i2", "i3", "i4", "i5"]
    gold = pd.DataFrame([{"item_id": it, "rater": r, "label": lab, "text_a": txt, "text_b": "short answer"}
                         for it, txt, labs in (("i1", EVIL, (1, 1)), ("i2", "x" * 450, (5, 5)),
                                               ("i3", "fine", (3, 3)), ("i4", "ok", (2, 2)), ("i5", "t", (4, 4)))
                         for r, lab in zip(("h1", "h2"), labs)])
    # judge: i1 -> 4, 4, 5 (mean 4.33, distance 3.33); i2 -> 2 (3); i3 -> 3 (0); i4 -> 5 (3); i5 -> 3 (1)
    judge = pd.DataFrame({"item_id": ["i1", "i1", "i1", "i2", "i3", "i4", "i5"], "label": [4, 4, 5, 2, 3, 5, 3],
                          "repeat": [0, 1, 2, 0, 0, 0, 0]})
    t = align(gold, {"j": judge}, Scale("ordinal", levels=[1, 2, 3, 4, 5]))
    assert items == sorted(t.reference.index)
    return t


def test_worst_disagreements_ordinal():
    t = _ordinal_table()
    d = worst_disagreements(t)
    assert list(d.columns) == DISAGREEMENT_COLUMNS
    assert list(d["item_id"]) == ["i1", "i2", "i4", "i5"]  # distance desc, then item id; i3 agrees
    assert np.allclose(d["distance"], [10 / 3, 3, 3, 1])
    assert list(d["n_rows"]) == [3, 1, 1, 1]
    first = d.iloc[0]
    assert first["reference_label"] == "1" and first["human_labels"] == "h1: 1, h2: 1"
    assert first["judge_label"] == "4 (repeat 0) / 4 (repeat 1) / 5 (repeat 2)"
    assert first["text_a"] == EVIL and first["text_b"] == "short answer"
    assert first["raw"] == ""  # the aligned table carries no raw text
    assert list(worst_disagreements(t, per_judge=2)["item_id"]) == ["i1", "i2"]
    assert worst_disagreements(t, per_judge=0).empty
    # deterministic
    pd.testing.assert_frame_equal(d, worst_disagreements(t))


def test_worst_disagreements_pairwise_nominal_interval():
    gold = pd.DataFrame({"item_id": ["p1", "p2", "p3", "p4"], "rater": "h", "label": ["A", "tie", "B", "A"]})
    judge = pd.DataFrame({"item_id": ["p1", "p1", "p2", "p3", "p3", "p4"], "label": ["B", "A", "A", "A", "A", "A"],
                          "order": ["AB", "BA", "AB", "AB", "BA", "AB"]})
    t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "shown"})
    d = worst_disagreements(t)
    # p1: shown B then shown A in BA = B, B in the item frame -> 2; p3: A then B -> mean tie -> 1; p2: A vs tie -> 1
    assert list(d["item_id"]) == ["p1", "p2", "p3"]
    assert list(d["distance"]) == [2.0, 1.0, 1.0]
    assert d.iloc[0]["judge_label"] == "B (shown AB) / B (shown BA)"
    # nominal with three categories: the share of rows that differ
    gold = pd.DataFrame({"item_id": ["n1", "n2"], "rater": "h", "label": ["red", "blue"]})
    judge = pd.DataFrame({"item_id": ["n1", "n1", "n2"], "label": ["green", "red", "red"], "repeat": [0, 1, 0]})
    d = worst_disagreements(align(gold, {"j": judge}, Scale("nominal", levels=["red", "green", "blue"])))
    assert list(d["item_id"]) == ["n2", "n1"] and list(d["distance"]) == [1.0, 0.5]
    # interval: the absolute difference of the judge's mean and the reference
    gold = pd.DataFrame({"item_id": ["v1", "v1", "v2"], "rater": ["a", "b", "a"], "label": [1.0, 3.0, 5.0]})
    judge = pd.DataFrame({"item_id": ["v1", "v2"], "label": [2.5, 1.0]})
    d = worst_disagreements(align(gold, {"j": judge}, Scale("interval")))
    assert list(d["item_id"]) == ["v2", "v1"] and np.allclose(d["distance"], [4.0, 0.5])


def test_worst_disagreements_uses_raw_when_carried():
    t = _ordinal_table()
    t.data["raw"] = None
    judge_rows = t.data["rater"] == "j"
    t.data.loc[judge_rows, "raw"] = [f"Rating: {v + 1:.0f} {EVIL}" for v in t.data.loc[judge_rows, "value"]]
    d = worst_disagreements(t)
    assert d.iloc[1]["raw"] == f"Rating: 2 {EVIL}"
    assert d.iloc[0]["raw"].startswith("[repeat 0] Rating: 4")


def test_worst_disagreements_never_raise():
    t = _ordinal_table()
    t.data = t.data.drop(columns=["value"])
    d = worst_disagreements_or_empty(t)
    assert d.empty and list(d.columns) == DISAGREEMENT_COLUMNS and "value" in d.attrs["error"]


def test_analyze_stores_disagreements():
    t = _ordinal_table()
    a = mj.analyze(t, n_resamples=20, seed=1)
    d = a.extra["disagreements"]
    assert isinstance(d, pd.DataFrame) and list(d["item_id"]) == ["i1", "i2", "i4", "i5"]


def test_disagreements_section_escapes_and_truncates(tmp_path):
    t = _ordinal_table()
    t.data["raw"] = None
    t.data.loc[t.data["rater"] == "j", "raw"] = "judge said " + EVIL
    a = mj.analyze(t, n_resamples=20, seed=1)
    html = write_report(a, tmp_path, figures=())["report.html"].read_text(encoding="utf-8")
    visible = _visible(html)
    sec = _section(visible, "disagreements")
    assert EVIL not in html and "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in sec
    assert "Judge output (raw)" in sec and "Text A" in sec
    # the 450-character text: cut at 200 with the whole text behind "show all", no JavaScript needed
    assert "x" * 200 + "…</pre>" in sec and "x" * 201 + "…" not in sec
    assert '<details class="more"><summary>show all (450 characters)</summary><pre class="raw">' + "x" * 450 in sec
    assert html.count("<script") == 1  # only the JSON data block
    rows = re.findall(r'<th scope="row"><code>(.*?)</code></th>', sec)
    assert rows == ["i1", "i2", "i4", "i5"]


def test_disagreements_error_is_shown():
    a = _letters_analysis()
    failed = pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
    failed.attrs["error"] = "ValueError: <boom>"
    a.extra["disagreements"] = failed
    sec = _section(render_html(a), "disagreements")
    assert "Could not be computed" in sec and "ValueError: &lt;boom&gt;" in sec
    b = _letters_analysis()  # no disagreements table at all: no section
    assert 'id="disagreements"' not in render_html(b)


# ------------------------------------------------------------------------------------------ methods
def test_methods_section_from_what_was_computed(demo):
    for task, (analysis, html) in demo.items():
        sec = _text(_section(html, "methods"))
        assert f"Bootstrap resamples {RESAMPLES}" in sec and "Seed 0" in sec and "95% CI" in sec
        for method in analysis.results["method"].dropna().unique():
            assert f"<code>{method}</code>" in _section(html, "methods"), (task, method)
        assert "probes.position.missing_mirror = exclude" in sec
        assert "probes.position.both_unparseable = exclude" in sec
        assert "Holm 1979" in sec and "Piepho 2004" in sec
        assert "excluded (counted in the coverage table)" in sec  # unparseable policy per judge
        n_probe = int(analysis.results.loc[analysis.results["section"] == "probe", "p_value"].notna().sum())
        assert f"probe : {n_probe} tests" in sec.replace("probe: ", "probe : ")
    pw = _text(_section(demo["pointwise"][1], "methods"))
    assert "median: the median of the human labels" in pw and "Cohen 1968" in pw and "Krippendorff 2011" in pw
    pr = _text(_section(demo["pairwise"][1], "methods"))
    assert "majority: the most frequent human label" in pr
    for ref in ("Shi et al. 2024", "Wataoka et al. 2024", "Dubois et al. 2024", "Tan et al. 2024", "Scott 1955",
                "Gwet 2008", "Fleiss 1971", "Cohen 1960"):
        assert ref in pr, ref
    assert "Shi, L., et al. (2024). Judging the judges" in pr  # the reference list


# ----------------------------------------------------------------------------- structure, determinism
def test_every_table_has_a_caption_and_every_svg_a_title(demo):
    for task, (_, html) in demo.items():
        tables = re.findall(r"<table[^>]*>\s*(<[a-z]+)", html)
        assert tables and all(t == "<caption" for t in tables), task
        svgs = re.findall(r"<svg[^>]*>\s*(<[a-z]+)", html)
        assert svgs and all(t == "<title" for t in svgs), task
        assert all('role="img"' in s for s in re.findall(r"<svg[^>]*>", html))
    # the hand-built analysis too
    html = render_html(_letters_analysis())
    assert html.count("<table") == html.count("<caption")


def test_sections_and_navigation(demo):
    _, html = demo["pairwise"]
    order = [html.index(f'<section id="{s}"') for s in ("summary", "leaderboard", "coverage", "agreement", "probes",
                                                        "disagreements", "methods", "provenance")]
    assert order == sorted(order)
    for s in ("summary", "leaderboard", "disagreements", "methods"):
        assert f'href="#{s}"' in html


def test_report_deterministic(demo, tmp_path):
    analysis, html = demo["pointwise"]
    assert render_html(analysis) == render_html(analysis)
    a = write_report(analysis, tmp_path / "a", figures=("svg",))
    b = write_report(analysis, tmp_path / "b", figures=("svg",))
    for key in a:
        assert a[key].read_bytes() == b[key].read_bytes(), key
    assert "figures/leaderboard_cohen_kappa_quadratic.svg" in a


def test_demo_report_still_has_one_script_and_no_raw_injection(demo):
    for _, (_, html) in demo.items():
        assert re.findall(r"<script[^>]*>", html) == ['<script type="application/json" id="metajudge-results">']
        assert "<script>alert" not in html


def test_bootstrap_floor_warning(demo):
    # 100 resamples: p >= 1/101, and Holm over the comparison family multiplies it past 0.05
    _, html = demo["pairwise"]
    board = _text(_section(html, "leaderboard"))
    assert "smallest paired-bootstrap p-value is 1/(100 + 1)" in board
    assert "smallest paired-bootstrap p-value" in _text(_section(html, "methods"))
    # with enough resamples there is no warning; with 20 and four bootstrap comparisons there is
    a = _letters_analysis()
    a.provenance = {"n_resamples": 2000}
    assert "smallest paired-bootstrap p-value" not in render_html(a)
    a.provenance = {"n_resamples": 20}
    assert "multiplies it by at least 4" in _text(_section(render_html(a), "leaderboard"))
