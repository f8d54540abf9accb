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
from metajudge.results import RESULT_COLUMNS

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
