"""Tests of the plot functions and the deterministic figure writers."""

from __future__ import annotations

import re
import threading

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from metajudge.plots import ROW_STYLES, figure_to_svg, new_figure, plot_confusion, plot_forest, save_figure
from metajudge.results import RESULT_COLUMNS, display_name

LEVELS = ["poor", "fair", "good", "great"]  # declared order, deliberately not alphabetical
NAN = float("nan")


def _counts() -> pd.DataFrame:
    return pd.DataFrame([[5, 1, 0, 0], [1, 4, 2, 0], [0, 1, 6, 1], [0, 0, 2, 3]], index=LEVELS, columns=LEVELS)


def _results() -> pd.DataFrame:
    base = dict(metric="cohen_kappa_quadratic", level="item", slice="all", confidence_level=0.95, n=100,
                method="bootstrap", p_value=NAN, p_adjusted=NAN)
    rows = [
        dict(section="agreement", judge="zeta-judge", rater_kind="judge", reference="majority(humans)",
             estimate=0.6, ci_low=0.5, ci_high=0.7, note=""),
        dict(section="agreement", judge="alpha $judge$", rater_kind="judge", reference="majority(humans)",
             estimate=0.4, ci_low=0.3, ci_high=0.5, note=""),
        dict(section="ceiling", judge="h1", rater_kind="human", reference="majority(humans-h1)",
             estimate=0.65, ci_low=0.55, ci_high=0.75, note=""),
        dict(section="ceiling", judge="zeta-judge", rater_kind="judge", reference="majority(humans-h1)",
             estimate=0.62, ci_low=0.52, ci_high=0.72, note=""),
        dict(section="baseline", judge="random", rater_kind="baseline", reference="majority(humans)",
             estimate=0.0, ci_low=-0.05, ci_high=0.05, note=""),
        dict(section="baseline", judge="majority", rater_kind="baseline", reference="majority(humans)",
             estimate=NAN, ci_low=NAN, ci_high=NAN, note="undefined: p_e = 1"),
        dict(section="comparison", judge="a vs b", rater_kind="comparison", reference="majority(humans)",
             estimate=0.2, ci_low=0.1, ci_high=0.3, note=""),
        dict(section="agreement", judge="zeta-judge", rater_kind="judge", reference="majority(humans)",
             estimate=0.9, ci_low=0.8, ci_high=1.0, note="", **{"slice": "lang=de"}),
    ]
    return pd.DataFrame([{**base, **r} for r in rows], columns=RESULT_COLUMNS)


def test_plot_confusion_returns_axes_and_keeps_declared_order():
    ax = plot_confusion(_counts(), title="judge")
    assert isinstance(ax, Axes)
    assert [t.get_text() for t in ax.get_xticklabels()] == LEVELS
    assert [t.get_text() for t in ax.get_yticklabels()] == LEVELS
    texts = [t.get_text() for t in ax.texts]
    assert "6\n75%" in texts  # count and row share of good/good
    assert ax.get_title() == "judge"


def test_plot_confusion_on_given_axes_and_unnormalized():
    fig = new_figure()
    given = fig.add_subplot()
    counts = _counts().iloc[[3, 0, 2, 1], [3, 0, 2, 1]]  # any declared order is kept as is
    ax = plot_confusion(counts, ax=given, normalize=None, colorbar=False)
    assert ax is given
    assert [t.get_text() for t in ax.get_xticklabels()] == ["great", "poor", "good", "fair"]
    assert [t.get_text() for t in ax.texts][:2] == ["3", "0"]


def test_plot_confusion_bad_normalize():
    with pytest.raises(ValueError, match="normalize"):
        plot_confusion(_counts(), normalize="all")


def test_plot_confusion_empty_rows_and_thousands():
    counts = pd.DataFrame([[0, 0], [1234, 5]], index=["no", "yes"], columns=["no", "yes"])
    ax = plot_confusion(counts)
    assert "1,234\n100%" in [t.get_text() for t in ax.texts]


def test_plot_forest():
    ax = plot_forest(_results(), "cohen_kappa_quadratic")
    assert isinstance(ax, Axes)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["zeta-judge", r"alpha \$judge\$", "h1 vs majority(humans-h1)",
                      "zeta-judge vs majority(humans-h1)", "random", "majority"]
    assert ax.get_xlabel() == "Cohen's κ (quadratic): estimate and 95% CI"
    assert any(t.get_text() == "undefined: p_e = 1" for t in ax.texts)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [ROW_STYLES[k][0] for k in ("judge", "human", "ceiling_judge", "baseline")]
    markers = {h.get_marker() for h in ax.get_legend().legend_handles}
    assert len(markers) == 4  # marker redundancy, not colour only


def test_plot_forest_on_given_axes_and_errors():
    fig = Figure()
    given = fig.add_subplot()
    assert plot_forest(_results(), "cohen_kappa_quadratic", ax=given, slice="lang=de") is given
    with pytest.raises(ValueError, match="no rows for metric 'spearman'"):
        plot_forest(_results(), "spearman")


def test_plot_forest_all_undefined():
    df = _results()
    df[["estimate", "ci_low", "ci_high"]] = NAN
    ax = plot_forest(df, "cohen_kappa_quadratic")
    assert ax.get_xlim() == (-1.0, 1.0)


@pytest.mark.parametrize("suffix", ["pdf", "svg", "png"])
def test_save_figure_deterministic(tmp_path, suffix):
    paths = []
    for k in range(2):
        ax = plot_forest(_results(), "cohen_kappa_quadratic")
        paths.append(save_figure(ax.figure, tmp_path / f"sub{k}" / f"forest.{suffix}"))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].stat().st_size > 1000
    if suffix == "svg":
        assert b"<dc:date>" not in paths[0].read_bytes()
    if suffix == "pdf":
        assert b"CreationDate" not in paths[0].read_bytes()


@pytest.mark.parametrize("suffix", ["pdf", "svg", "png"])
def test_same_figure_saved_twice_is_identical(tmp_path, suffix):
    ax = plot_confusion(_counts())
    first = save_figure(ax.figure, tmp_path / f"a.{suffix}").read_bytes()
    figure_to_svg(ax.figure)
    assert save_figure(ax.figure, tmp_path / f"b.{suffix}").read_bytes() == first


def test_save_figure_bad_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.pdf, \.svg or \.png"):
        save_figure(new_figure(), tmp_path / "x.gif")


def test_figure_to_svg():
    ax = plot_confusion(_counts(), title="<img src=x onerror=alert(1)>")
    a = figure_to_svg(ax.figure, title="Confusion <b>", id_prefix="f1-")
    b = figure_to_svg(ax.figure, title="Confusion <b>", id_prefix="f1-")
    assert a == b
    assert a.startswith("<svg") and "<?xml" not in a and "DOCTYPE" not in a and "<metadata>" not in a
    assert "<title>Confusion &lt;b&gt;</title>" in a
    assert "<img" not in a
    ids = re.findall(r'\bid="([^"]+)"', a)
    assert ids and all(i.startswith("f1-") for i in ids)
    refs = re.findall(r'(?:href="#|url\(#)([^")]+)', a)
    assert refs and all(r.startswith("f1-") for r in refs)
    with pytest.raises(ValueError, match="id_prefix"):
        figure_to_svg(ax.figure, id_prefix='x" onload="y')


def test_plots_thread_safe():
    out: list[bytes] = []

    def work() -> None:
        ax = plot_confusion(_counts())
        out.append(figure_to_svg(ax.figure).encode())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 4 and len(set(out)) == 1


def test_no_pyplot_state():
    import sys

    plot_confusion(_counts())
    plot_forest(_results(), "cohen_kappa_quadratic")
    if "matplotlib.pyplot" in sys.modules:  # imported by something else; we must not have made figures
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []


def test_integer_like_numpy_counts():
    counts = pd.DataFrame(np.array([[1, 2], [3, 4]], dtype=np.int64), index=["b", "a"], columns=["b", "a"])
    ax = plot_confusion(counts)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]


# ------------------------------------------------------------------------------------------ probe plots
from metajudge.plots import (  # noqa: E402
    POSITION_CLASS_STYLES,
    plot_bland_altman,
    plot_position_classes,
    plot_prefer_longer,
    plot_score_distribution,
    plot_self_preference,
    plot_system_ranking,
)


def _classes() -> pd.DataFrame:
    return pd.DataFrame({"judge": ["zeta", "zeta", "zeta", "alpha $x$", "alpha $x$"],
                         "cls": ["recency", "consistent", "primacy", "consistent", "tie-break"],
                         "count": [20, 140, 40, 90, 10]})


def _prefer_longer() -> pd.DataFrame:
    bins = [-1.0, 0.0, 1.0]
    return pd.DataFrame({"rater": ["zeta"] * 3 + ["humans"] * 3, "bin": bins * 2,
                         "rate": [0.3, 0.5, 0.8, 0.4, 0.5, 0.6], "n": [10, 40, 12, 10, 40, 12]})


def _self_pref() -> pd.DataFrame:
    return pd.DataFrame({"judge": ["zeta", "zeta", "alpha", "alpha"], "group": ["own", "other"] * 2,
                         "value": [0.6, 0.5, 0.55, NAN], "ci_low": [0.5, 0.4, 0.5, NAN],
                         "ci_high": [0.7, 0.6, 0.6, NAN]})


def _bland_altman() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"judge": ["zeta"] * 30 + ["alpha"] * 30, "mean": rng.integers(0, 5, 60) / 2,
                         "diff": rng.integers(-2, 3, 60)})


def _distribution() -> pd.DataFrame:
    return pd.DataFrame({"rater": ["zeta"] * 3 + ["humans"] * 4, "value": ["fair", "good", "great"] + LEVELS,
                         "share": [0.2, 0.5, 0.3, 0.1, 0.2, 0.4, 0.3]})


def _ranking() -> pd.DataFrame:
    return pd.DataFrame({"judge": ["zeta"] * 4, "system": ["sys-b", "sys-a", "$sys$", "sys-d"],
                         "human_score": [3.1, 2.4, 3.8, 1.9], "judge_score": [3.3, 2.2, 3.9, 2.5],
                         "human_rank": [2, 3, 1, 4], "judge_rank": [2, 4, 1, 3]})


PROBE_PLOTS = [
    (plot_position_classes, _classes),
    (plot_prefer_longer, _prefer_longer),
    (plot_self_preference, _self_pref),
    (plot_bland_altman, _bland_altman),
    (plot_score_distribution, _distribution),
    (plot_system_ranking, _ranking),
]


@pytest.mark.parametrize(("fn", "make"), PROBE_PLOTS, ids=[f.__name__ for f, _ in PROBE_PLOTS])
def test_probe_plots_return_axes_on_given_axes(fn, make):
    assert isinstance(fn(make()), Axes)
    given = new_figure().add_subplot()
    assert fn(make(), ax=given) is given
    assert not any(t.get_text().startswith("no data") for t in given.texts)


@pytest.mark.parametrize(("fn", "make"), PROBE_PLOTS, ids=[f.__name__ for f, _ in PROBE_PLOTS])
def test_probe_plots_handle_empty_and_incomplete_frames(fn, make):
    empty = make().iloc[0:0]
    ax = fn(empty)
    assert isinstance(ax, Axes) and [t.get_text() for t in ax.texts] == ["no data"]
    given = new_figure().add_subplot()
    assert fn(pd.DataFrame(), ax=given) is given
    assert given.texts[0].get_text().startswith("no data (missing column")
    assert fn(None).texts[0].get_text() == "no data"  # type: ignore[arg-type]
    all_nan = make()
    numeric = [c for c in all_nan.columns if c in ("count", "rate", "value", "mean", "share", "judge_score")]
    all_nan[numeric[:1]] = NAN
    assert isinstance(fn(all_nan), Axes)


def test_plot_position_classes():
    ax = plot_position_classes(_classes(), title="Position")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["zeta\n(n = 200)", "alpha \\$x\\$\n(n = 100)"]  # order of appearance; $ escaped
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [POSITION_CLASS_STYLES[c][2] for c in ("consistent", "primacy", "recency")] + ["tie-break"]
    hatches = [h.get_hatch() for h in ax.get_legend().legend_handles]
    assert len(set(hatches)) == 4  # not colour only
    texts = [t.get_text() for t in ax.texts]
    assert "140" in texts and "90" in texts and "20" in texts
    assert ax.get_xlim() == (0.0, 1.0)


def test_plot_prefer_longer():
    ax = plot_prefer_longer(_prefer_longer())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["humans", "zeta"]  # humans first, beside the judge
    styles = {h.get_label(): (h.get_marker(), h.get_linestyle()) for h in ax.get_legend().legend_handles}
    assert styles["humans"] != styles["zeta"]
    assert any(list(line.get_ydata()) == [0.5, 0.5] for line in ax.get_lines())  # reference line
    without_n = _prefer_longer().drop(columns="n")
    ax = plot_prefer_longer(without_n)
    assert "marker area ∝ pairs in bin" not in [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_self_preference():
    ax = plot_self_preference(_self_pref())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["zeta", "alpha"]  # not sorted
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["own", "other"]
    assert any(t.get_text() == "undefined" for t in ax.texts)
    assert len(ax.patches) == 3  # the undefined bar is not drawn
    no_ci = _self_pref().drop(columns=["ci_low", "ci_high"]).assign(metric="self_preference_eo")
    ax = plot_self_preference(no_ci)
    assert "confidence interval" not in [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_self_preference_several_metrics():
    bars = pd.DataFrame({"judge": ["zeta", "zeta", "alpha", "alpha"] * 2,
                         "metric": ["self_preference_eo"] * 4 + ["self_preference_inflation"] * 4,
                         "group": ["own", "other"] * 2 + ["judge", "human"] * 2,
                         "value": [0.9, 0.3, 0.7, 0.6, 0.8, 0.6, 0.5, 0.5]})
    ax = plot_self_preference(bars)
    assert len(ax.figure.axes) == 2  # one panel per metric: the values are on different scales
    assert [a.get_title() for a in ax.figure.axes] == [display_name("self_preference_eo"),
                                                       display_name("self_preference_inflation")]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["zeta", "alpha"]
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert legend == ["own", "other", "judge", "human"]
    given = plot_self_preference(bars, ax=new_figure().add_subplot())
    labels = [t.get_text() for t in given.get_xticklabels()]
    assert labels[0] == "zeta\n" + display_name("self_preference_eo") and len(labels) == 4


def test_plot_prefer_longer_scores():
    frame = _prefer_longer().rename(columns={"rate": "score"})
    ax = plot_prefer_longer(frame)
    assert ax.get_ylabel() == "mean score"
    assert not any(list(line.get_ydata()) == [0.5, 0.5] for line in ax.get_lines())


def test_plot_bland_altman_panels_and_limits():
    ax = plot_bland_altman(_bland_altman())
    assert len(ax.figure.axes) == 2  # one panel per judge
    assert ax.get_title().startswith("zeta\nshift ")
    diff = _bland_altman().query("judge == 'zeta'")["diff"]
    assert f"{diff.mean():+.2f}".replace("-", "−") in ax.get_title()
    one = plot_bland_altman(_bland_altman(), judge="alpha")
    assert len(one.figure.axes) == 1 and one.get_title().startswith("alpha")
    fixed = plot_bland_altman(_bland_altman(), judge="zeta", limits=(0.5, -1.0, 2.0))
    assert fixed.get_title() == "zeta\nshift +0.50, LoA [−1.00, +2.00]"
    per_judge = plot_bland_altman(_bland_altman(), limits={"zeta": {"shift": 0.25, "lower": -1, "upper": 1}})
    assert "shift +0.25" in per_judge.get_title()
    cols = _bland_altman().assign(shift=0.1, loa_low=-0.9, loa_high=1.1)
    assert "LoA [−0.90, +1.10]" in plot_bland_altman(cols, judge="alpha").get_title()
    overlay = plot_bland_altman(_bland_altman(), ax=new_figure().add_subplot())
    assert len(overlay.figure.axes) == 1
    assert [t.get_text() for t in overlay.get_legend().get_texts()][:2] == ["zeta", "alpha"]
    no_judge = plot_bland_altman(_bland_altman().drop(columns="judge"))
    assert no_judge.get_title().startswith("shift ")
    assert plot_bland_altman(_bland_altman(), judge="nobody").texts[0].get_text() == "no data for nobody"


def test_plot_score_distribution_keeps_level_order():
    ax = plot_score_distribution(_distribution())
    # order of first appearance ("fair" came first), never alphabetical
    assert [t.get_text() for t in ax.get_xticklabels()] == ["fair", "good", "great", "poor"]
    ax = plot_score_distribution(_distribution(), levels=LEVELS)
    assert [t.get_text() for t in ax.get_xticklabels()] == LEVELS
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["humans", "zeta"]
    cat = _distribution().assign(value=pd.Categorical(_distribution()["value"], categories=LEVELS, ordered=True))
    assert [t.get_text() for t in plot_score_distribution(cat).get_xticklabels()] == LEVELS
    nums = pd.DataFrame({"rater": ["humans"] * 3, "value": [5, 1, 3], "share": [0.2, 0.3, 0.5]})
    assert [t.get_text() for t in plot_score_distribution(nums, levels=[1, 2, 3, 4, 5]).get_xticklabels()] == \
        ["1", "2", "3", "4", "5"]


def test_plot_system_ranking():
    ax = plot_system_ranking(_ranking())
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["sys-b", "sys-a", r"\$sys\$", "sys-d"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["zeta (Spearman ρ = 0.80)", "identity (y = x)"]
    assert len(ax.get_lines()) == 2  # trend and identity
    bare = _ranking().drop(columns=["judge", "human_rank", "judge_rank"])
    ax = plot_system_ranking(bare, max_labels=2)
    assert ax.texts == [] or all(not t.get_text().startswith("sys") for t in ax.texts)
    assert plot_system_ranking(_ranking(), judge="other").texts[0].get_text() == "no data for other"


def test_probe_plots_deterministic_svg():
    a = figure_to_svg(plot_bland_altman(_bland_altman()).figure, id_prefix="p-")
    b = figure_to_svg(plot_bland_altman(_bland_altman()).figure, id_prefix="p-")
    assert a == b


def test_probe_plots_no_pyplot_state():
    import sys

    for fn, make in PROBE_PLOTS:
        fn(make())
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []
