"""Simulated demo data: a small gold set and judge outputs with planted, documented behaviour.

:func:`simulate_demo` writes two self-contained tasks, each with its gold labels, its judge outputs
(raw text, as a judge would return them) and a ``metajudge.yaml`` that points at them with relative
paths:

``pointwise/``
    300 items rated for helpfulness on a 1–5 Likert scale by 3 of 4 simulated annotators, and
    three judges: ``strong-judge`` (3 samples per item), ``lenient-judge`` and ``noisy-judge``.
``pairwise/``
    300 pairs of responses (A / B / tie) labelled by 3 simulated annotators, and four judges, each run
    in both presentation orders and each carrying one planted bias: ``fair-judge`` (none),
    ``primacy-judge`` (position), ``verbose-judge`` (length) and ``basalt-judge`` (self-preference for
    its own model family); the config maps judges and systems to families for the self-preference probe.

Together the two tasks make every bias probe fire: position, length and self-preference on the pairwise
task, leniency and system-level validity (``lenient-judge``) on the pointwise task.

Everything is simulated from latent qualities with :func:`numpy.random.default_rng`; the pairwise labels
and verdicts come from :func:`metajudge.simulate.simulate_pairwise`. No public data is copied. The same
seed gives byte-identical files. The generative model, its parameters and the behaviour planted in each
judge are documented in ``gold_sets/demo/README.md``; the constants below are the single source of those
numbers.

The files also carry the defects a real run has, so that coverage reporting is exercised: a few
unparseable outputs, items missing from one judge, a duplicated row, missing mirrors of pairwise
runs, and judge text holding an HTML ``<script>`` string that every report must escape.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from .simulate import JudgeSpec, SystemSpec, simulate_pairwise

__all__ = ["simulate_demo"]

# --------------------------------------------------------------------------------------------------
# Parameters of the generative model (documented in gold_sets/demo/README.md; keep them in step).
# --------------------------------------------------------------------------------------------------

N_ITEMS = 300
"""Items per task."""

SYSTEMS: dict[str, float] = {
    "aurora-7b": -0.45,
    "basalt-13b": -0.10,
    "cirrus-34b": 0.15,
    "dune-70b": 0.40,
}
"""Simulated systems and their effect on latent quality (Likert points)."""

CATEGORIES: dict[str, tuple[float, float]] = {
    "coding": (0.30, -0.10),
    "writing": (0.25, 0.20),
    "math": (0.20, -0.25),
    "advice": (0.25, 0.10),
}
"""Category slice: (share of items, effect on latent quality)."""

# Pointwise task ------------------------------------------------------------------------------------

PW_QUALITY_MEAN = 3.1
"""Mean latent quality on the 1–5 scale before system and category effects."""

PW_QUALITY_SD = 0.9
"""Item-to-item standard deviation of latent quality."""

PW_ANNOTATORS: dict[str, tuple[float, float]] = {
    "ann1": (0.20, 0.50),
    "ann2": (-0.15, 0.55),
    "ann3": (0.00, 0.45),
    "ann4": (-0.30, 0.65),
}
"""Pointwise annotators: (additive bias, noise standard deviation)."""

PW_STRONG_SAMPLES = 3
"""Samples per item drawn from ``strong-judge`` (the other judges are sampled once)."""

PW_STRONG = {"item_sd": 0.30, "sample_sd": 0.25, "math_item_sd": 0.70}
"""``strong-judge``: item-level error SD (shared by its samples), per-sample SD, and item SD on math."""

PW_LENIENT = {"shift": 0.70, "slope": 0.60, "sd": 0.45}
"""``lenient-judge``: score = 3 + slope * (quality - 3) + shift + N(0, sd)."""

PW_NOISY_SD = 1.30
"""``noisy-judge``: noise SD around the latent quality."""

PW_UNPARSEABLE_RATE = 0.015
"""Share of each judge's rows whose output carries no usable rating."""

PW_MISSING = {"noisy-judge": 3}
"""Judge -> number of items it has no output for."""

PW_DUPLICATED = {"lenient-judge": 1}
"""Judge -> number of rows written twice (exact duplicates)."""

PW_INJECTION_JUDGE = "strong-judge"
"""The judge one of whose outputs holds an HTML ``<script>`` string."""

INJECTION = '<script>alert("x")</script>'
"""The HTML injection planted in one output of each task; a report must show it escaped."""

# Pairwise task ------------------------------------------------------------------------------------

PP_QUALITY_SD = 0.8
"""Item-level standard deviation of each response's latent quality around its system's effect."""

PP_LENGTH_MEDIAN: dict[str, float] = {
    "aurora-7b": 180.0,
    "basalt-13b": 260.0,
    "cirrus-34b": 220.0,
    "dune-70b": 340.0,
}
"""Median response length (whitespace tokens) per system."""

PP_LENGTH_LOG_SD = 0.45
"""Log-normal spread of response length around the system median."""

PP_SYSTEMS: tuple[SystemSpec, ...] = tuple(
    SystemSpec(name, quality, name.split("-")[0], PP_LENGTH_MEDIAN[name]) for name, quality in SYSTEMS.items()
)
"""The pairwise systems for :func:`metajudge.simulate.simulate_pairwise`: quality effect, model family (the
name before the dash: ``aurora`` … ``dune``) and median length."""

PP_HUMAN = {"accuracy": 2.5, "length_preference": 0.75, "tie": 0.6}
"""Pairwise annotators (ordered logit): log-odds per unit quality difference, per unit log length ratio, and
the tie threshold."""

PP_ANNOTATORS = ("ann1", "ann2", "ann3")
"""Every pair is labelled by these three annotators."""

_PP_BASE = {"accuracy": 3.0, "noise": 0.5, "tie": 0.75, "length": 0.75}

PP_JUDGES: tuple[JudgeSpec, ...] = (
    JudgeSpec("fair-judge", family="cirrus", **_PP_BASE),
    JudgeSpec("primacy-judge", family="cirrus", position=0.25, **_PP_BASE),
    JudgeSpec("verbose-judge", family="basalt", **{**_PP_BASE, "length": 3.0}),
    JudgeSpec("basalt-judge", family="basalt", self_preference=1.5, **_PP_BASE),
)
"""The pairwise judges (:class:`metajudge.simulate.JudgeSpec`), one bias each: ``fair-judge`` none (more
accurate than an annotator, the annotators' length weight); ``primacy-judge`` answers "first shown" in 25% of
runs regardless of content; ``verbose-judge`` weighs the log length ratio 3.0 instead of 0.75;
``basalt-judge`` (a model of the basalt family) adds 1.5 log-odds to basalt-13b's answers."""

PP_FAMILIES: dict[str, str] = {j.name: str(j.family) for j in PP_JUDGES}
"""Judge -> model family, written to ``probes.self_preference.families`` in the pairwise config."""

PP_GENERATOR_FAMILIES: dict[str, str] = {s.name: s.family_name for s in PP_SYSTEMS}
"""System -> model family, written to ``probes.self_preference.generator_families``."""

PP_UNPARSEABLE = {"fair-judge": 3, "primacy-judge": 5, "verbose-judge": 2, "basalt-judge": 2}
"""Judge -> number of runs whose judgment has no verdict tag or two conflicting tags."""

PP_MISSING_MIRROR = {"primacy-judge": 3}
"""Judge -> number of items whose ``BA`` run is missing (only the ``AB`` run was recorded)."""

PP_INJECTION_JUDGE = "fair-judge"
"""The pairwise judge one of whose judgments holds :data:`INJECTION`."""

# Text templates: no digits and no "[[" in free text, so extraction is unambiguous.
_PW_RATIONALES: dict[int, tuple[str, ...]] = {
    1: (
        "The response does not address the request and contains errors.",
        "The response is off-topic and would mislead the user.",
    ),
    2: (
        "The response is partly relevant but misses key requirements.",
        "The response attempts the task but the main answer is wrong.",
    ),
    3: (
        "The response is adequate but leaves out important details.",
        "The response answers the question in a generic way.",
    ),
    4: (
        "The response is clear but misses an edge case.",
        "The response is correct and useful, with minor omissions.",
    ),
    5: (
        "The response is accurate, complete and well organised.",
        "The response fully solves the task and explains each step.",
    ),
}
_PW_UNPARSEABLE = (
    "I cannot rate this.",
    "The response is well written.\nRating: excellent",
    "The response is mostly fine.\nRating: N/A",
)
_PP_RATIONALES = {
    "A": (
        "Assistant A follows the instructions more closely than Assistant B.",
        "Assistant A is more accurate and more complete.",
        "Assistant A gives a more thorough and detailed answer.",
    ),
    "B": (
        "Assistant B follows the instructions more closely than Assistant A.",
        "Assistant B is more accurate and more complete.",
        "Assistant B gives a more thorough and detailed answer.",
    ),
    "C": (
        "Both assistants are equally helpful.",
        "The two answers are of similar quality and neither is clearly better.",
    ),
}
_PP_UNPARSEABLE = (
    "Both responses have merits and I cannot choose between them.",
    "Assistant A is more detailed: [[A]]. On reflection, Assistant B is more accurate: [[B]]",
    "I would need more context about the user's goal before deciding.",
)


# --------------------------------------------------------------------------------------------------
# Writers (deterministic bytes)
# --------------------------------------------------------------------------------------------------


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` as JSON Lines with sorted keys and ``\\n`` line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, sort_keys=True) + "\n")


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """Write a CSV file with ``\\n`` line ends and minimal quoting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` with ``\\n`` line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


# --------------------------------------------------------------------------------------------------
# Simulation helpers
# --------------------------------------------------------------------------------------------------


def _likert(x: np.ndarray) -> np.ndarray:
    """Round to the nearest integer and clip to 1–5."""
    return np.clip(np.rint(x), 1, 5).astype(int)


def _draw_items(
    rng: np.random.Generator, prefix: str
) -> tuple[list[str], np.ndarray, list[str]]:
    """Draw item ids, category indices and category names for one task."""
    ids = [f"{prefix}-{i + 1:04d}" for i in range(N_ITEMS)]
    cat_names = list(CATEGORIES)
    shares = np.array([CATEGORIES[c][0] for c in cat_names])
    cat_idx = rng.choice(len(cat_names), size=N_ITEMS, p=shares / shares.sum())
    return ids, cat_idx, cat_names


def _pick(rng: np.random.Generator, n: int) -> list[int]:
    """Pick ``n`` distinct item indices at random; returned sorted."""
    return sorted(int(i) for i in rng.choice(N_ITEMS, size=n, replace=False))


# --------------------------------------------------------------------------------------------------
# Pointwise task
# --------------------------------------------------------------------------------------------------


def _pointwise_config() -> str:
    """YAML text of the pointwise task's configuration."""
    judges = "".join(
        f"  - name: {name}\n"
        f"    path: judges/{name}.jsonl\n"
        "    columns: {item: item_id, text: output, repeat: sample}\n"
        "    extract: rating\n"
        for name in ("strong-judge", "lenient-judge", "noisy-judge")
    )
    return (
        "# Simulated demo, written by `metajudge demo` (metajudge.demo.simulate_demo).\n"
        "# Data card: gold_sets/demo/README.md in the metajudge repository.\n"
        'title: "metajudge demo: pointwise helpfulness (simulated)"\n'
        "task: pointwise\n"
        "scale: {kind: ordinal, levels: [1, 2, 3, 4, 5]}\n"
        "gold:\n"
        "  path: gold.csv\n"
        "  layout: long\n"
        "  columns: {item: item_id, rater: annotator, label: score, system: system}\n"
        "judges:\n"
        f"{judges}"
        "bootstrap: {n_resamples: 1000, confidence_level: 0.95, seed: 0}\n"
        "slices: [category]\n"
    )


def _simulate_pointwise(rng: np.random.Generator, out: Path) -> Path:
    """Simulate and write the pointwise task under ``out``; return its config path."""
    ids, cat_idx, cat_names = _draw_items(rng, "pw")
    sys_names = list(SYSTEMS)
    sys_idx = rng.integers(0, len(sys_names), size=N_ITEMS)
    cat_eff = np.array([CATEGORIES[c][1] for c in cat_names])[cat_idx]
    sys_eff = np.array([SYSTEMS[s] for s in sys_names])[sys_idx]
    quality = PW_QUALITY_MEAN + sys_eff + cat_eff + rng.normal(0.0, PW_QUALITY_SD, N_ITEMS)

    # Gold: each item rated by 3 of the 4 annotators (one left out at random).
    ann_names = list(PW_ANNOTATORS)
    skipped = rng.integers(0, len(ann_names), size=N_ITEMS)
    bias = np.array([PW_ANNOTATORS[a][0] for a in ann_names])
    sd = np.array([PW_ANNOTATORS[a][1] for a in ann_names])
    human = _likert(quality[:, None] + bias + sd * rng.normal(0.0, 1.0, (N_ITEMS, len(ann_names))))
    gold_rows: list[list[Any]] = []
    for i in range(N_ITEMS):
        for a, name in enumerate(ann_names):
            if a != skipped[i]:
                row = [ids[i], name, int(human[i, a]), cat_names[cat_idx[i]], sys_names[sys_idx[i]]]
                gold_rows.append(row)
    _write_csv(out / "gold.csv", ["item_id", "annotator", "score", "category", "system"], gold_rows)

    # Judges: latent judge scores per (item, sample).
    is_math = np.array([cat_names[c] == "math" for c in cat_idx])
    item_sd = np.where(is_math, PW_STRONG["math_item_sd"], PW_STRONG["item_sd"])
    strong_item = rng.normal(0.0, 1.0, N_ITEMS) * item_sd
    strong = _likert(
        quality[:, None]
        + strong_item[:, None]
        + rng.normal(0.0, PW_STRONG["sample_sd"], (N_ITEMS, PW_STRONG_SAMPLES))
    )
    lenient = _likert(
        3.0
        + PW_LENIENT["slope"] * (quality - 3.0)
        + PW_LENIENT["shift"]
        + rng.normal(0.0, PW_LENIENT["sd"], N_ITEMS)
    )[:, None]
    noisy = _likert(quality + rng.normal(0.0, PW_NOISY_SD, N_ITEMS))[:, None]

    for name, scores in (("strong-judge", strong), ("lenient-judge", lenient), ("noisy-judge", noisy)):
        missing = set(_pick(rng, PW_MISSING.get(name, 0)))
        keys = [(i, s) for i in range(N_ITEMS) if i not in missing for s in range(scores.shape[1])]
        n_bad = max(2, int(round(PW_UNPARSEABLE_RATE * len(keys))))
        bad = set(int(k) for k in rng.choice(len(keys), size=n_bad, replace=False))
        bad_variant = rng.integers(0, len(_PW_UNPARSEABLE), size=len(keys))
        variant = rng.integers(0, 2, size=len(keys))
        good = [k for k in range(len(keys)) if k not in bad]
        _ = int(rng.choice(good)) if name == PW_INJECTION_JUDGE else -1  # keeps the random stream stable
        # the injection is the first unparseable output, so it is among the raw texts every report shows
        injected = min(bad) if name == PW_INJECTION_JUDGE else -1
        dup = set(int(k) for k in rng.choice(good, size=PW_DUPLICATED.get(name, 0), replace=False))
        rows: list[dict[str, Any]] = []
        for k, (i, s) in enumerate(keys):
            score = int(scores[i, s])
            if k == injected:
                text = f"The response quotes the page source verbatim: {INJECTION}\nNo rating given."
            elif k in bad:
                text = _PW_UNPARSEABLE[bad_variant[k]]
            else:
                text = f"{_PW_RATIONALES[score][variant[k]]}\nRating: {score}"
            row = {"item_id": ids[i], "sample": s, "output": text}
            rows.append(row)
            if k in dup:
                rows.append(dict(row))
        _write_jsonl(out / "judges" / f"{name}.jsonl", rows)

    config = out / "metajudge.yaml"
    _write_text(config, _pointwise_config())
    return config


# --------------------------------------------------------------------------------------------------
# Pairwise task
# --------------------------------------------------------------------------------------------------


def _pairwise_config() -> str:
    """YAML text of the pairwise task's configuration."""
    judges = "".join(
        f"  - name: {j.name}\n"
        f"    path: judges/{j.name}.jsonl\n"
        "    columns: {item: item_id, text: judgment, order: order}\n"
        "    extract: mt-bench\n"
        "    order_frame: shown\n"
        for j in PP_JUDGES
    )
    families = ", ".join(f"{k}: {v}" for k, v in PP_FAMILIES.items())
    generators = ", ".join(f"{k}: {v}" for k, v in PP_GENERATOR_FAMILIES.items())
    return (
        "# Simulated demo, written by `metajudge demo` (metajudge.demo.simulate_demo).\n"
        "# Data card: gold_sets/demo/README.md in the metajudge repository.\n"
        'title: "metajudge demo: pairwise preference (simulated)"\n'
        "task: pairwise\n"
        "scale: {kind: pairwise, ties: true}\n"
        "gold:\n"
        "  path: gold.jsonl\n"
        "  layout: long\n"
        "  columns: {item: item_id, rater: annotator, label: winner, generator_a: generator_a,"
        " generator_b: generator_b, length_a: length_a, length_b: length_b}\n"
        "judges:\n"
        f"{judges}"
        "bootstrap: {n_resamples: 1000, confidence_level: 0.95, seed: 0}\n"
        "slices: [category]\n"
        "probes:\n"
        "  self_preference:\n"
        f"    families: {{{families}}}\n"
        f"    generator_families: {{{generators}}}\n"
    )


def _simulate_pairwise(rng: np.random.Generator, out: Path) -> Path:
    """Simulate and write the pairwise task under ``out``; return its config path.

    Labels and verdicts come from :func:`metajudge.simulate.simulate_pairwise` (its own seed drawn from
    ``rng``); ``rng`` also draws the category slice and the planted defects.
    """
    ids, cat_idx, cat_names = _draw_items(rng, "pair")
    sim = simulate_pairwise(
        N_ITEMS, PP_JUDGES, n_humans=len(PP_ANNOTATORS), systems=PP_SYSTEMS, quality_sd=PP_QUALITY_SD,
        length_sd=PP_LENGTH_LOG_SD, human_accuracy=PP_HUMAN["accuracy"],
        human_length_preference=PP_HUMAN["length_preference"], human_tie=PP_HUMAN["tie"],
        seed=int(rng.integers(0, 2**31 - 1)),
    )
    items = sim.gold.drop_duplicates("item_id").set_index("item_id")
    assert list(items.index) == ids  # the simulator numbers pairs as the demo does
    category = dict(zip(ids, (cat_names[c] for c in cat_idx)))

    # Gold: three annotators per pair, item frame (A / B / tie).
    annotator = {f"h{k + 1}": name for k, name in enumerate(PP_ANNOTATORS)}
    gold_rows: list[dict[str, Any]] = [
        {
            "item_id": r.item_id,
            "annotator": annotator[r.rater],
            "winner": r.label,
            "category": category[r.item_id],
            "generator_a": r.generator_a,
            "generator_b": r.generator_b,
            "length_a": int(r.length_a),
            "length_b": int(r.length_b),
        }
        for r in sim.gold.itertuples(index=False)
    ]
    _write_jsonl(out / "gold.jsonl", gold_rows)

    # Judges: one run per (item, order); verdicts written in the shown frame.
    tag = {"A": "A", "B": "B", "tie": "C"}
    for spec in PP_JUDGES:
        name = spec.name
        verdicts = sim.judges[name]
        runs = {(o, i): tag[v] for o, i, v in zip(verdicts["order"], verdicts["item_id"], verdicts["label"])}
        missing_ba = set(_pick(rng, PP_MISSING_MIRROR.get(name, 0)))
        keys = [(o, i) for o in ("AB", "BA") for i in range(N_ITEMS) if not (o == "BA" and i in missing_ba)]
        bad = set(int(k) for k in rng.choice(len(keys), size=PP_UNPARSEABLE.get(name, 0), replace=False))
        bad_variant = rng.integers(0, len(_PP_UNPARSEABLE), size=len(keys))
        variant = rng.integers(0, 3, size=len(keys))
        good = [k for k in range(len(keys)) if k not in bad]
        injected = int(rng.choice(good)) if name == PP_INJECTION_JUDGE else -1
        rows: list[dict[str, Any]] = []
        for k, (order, i) in enumerate(keys):
            v = runs[(order, ids[i])]
            if k in bad:
                text = _PP_UNPARSEABLE[bad_variant[k]]
            else:
                reasons = _PP_RATIONALES[v]
                reason = reasons[variant[k] % len(reasons)]
                if k == injected:
                    reason = f"Assistant A's answer contains raw markup ({INJECTION}). {reason}"
                text = f"{reason}\nFinal verdict: [[{v}]]"
            rows.append({"item_id": ids[i], "order": order, "judgment": text})
        _write_jsonl(out / "judges" / f"{name}.jsonl", rows)

    config = out / "metajudge.yaml"
    _write_text(config, _pairwise_config())
    return config


# --------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------


def simulate_demo(out_dir: str | Path, *, seed: int = 0) -> dict[str, Path]:
    """Write the simulated demo gold sets, judge outputs and configurations.

    Two tasks are simulated from latent response qualities (see ``gold_sets/demo/README.md`` for the
    generative model and the behaviour planted in each judge):

    * ``pointwise``: 300 items, helpfulness on an ordinal 1–5 scale; each item rated by 3 of 4
      annotators with annotator-specific bias and noise; judges ``strong-judge`` (3 samples per
      item), ``lenient-judge`` (shifted up and compressed) and ``noisy-judge``.
    * ``pairwise``: 300 pairs (A / B / tie) labelled by 3 annotators who slightly prefer longer
      answers, drawn with :func:`metajudge.simulate.simulate_pairwise`; judges ``fair-judge``,
      ``primacy-judge`` (position bias), ``verbose-judge`` (length bias) and ``basalt-judge``
      (self-preference), each run in both presentation orders, verdicts in the MT-Bench ``[[A]]`` /
      ``[[B]]`` / ``[[C]]`` format in the shown frame.

    Files written under ``out_dir``::

        pointwise/gold.csv                  long: item_id, annotator, score, category, system
        pointwise/judges/<judge>.jsonl      item_id, sample, output
        pointwise/metajudge.yaml
        pairwise/gold.jsonl                 long: item_id, annotator, winner, category,
                                            generator_a, generator_b, length_a, length_b
        pairwise/judges/<judge>.jsonl       item_id, order ("AB" / "BA"), judgment
        pairwise/metajudge.yaml             (with probes.self_preference families)

    Existing files of the same names are overwritten; other files are left alone.

    Parameters
    ----------
    out_dir : str or Path
        Directory to write into; created if needed.
    seed : int, default 0
        Seed of the single :func:`numpy.random.default_rng` stream that drives the simulation.
        The same seed gives byte-identical files.

    Returns
    -------
    dict of str to Path
        ``{"pointwise": <config path>, "pairwise": <config path>}``, the ``metajudge.yaml`` of
        each task. Paths inside a configuration are relative to its directory.

    Examples
    --------
    >>> import tempfile
    >>> from metajudge.demo import simulate_demo
    >>> with tempfile.TemporaryDirectory() as d:
    ...     paths = simulate_demo(d, seed=0)
    ...     print(sorted(paths), paths["pointwise"].name, paths["pairwise"].parent.name)
    ['pairwise', 'pointwise'] metajudge.yaml pairwise
    """
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    pointwise = _simulate_pointwise(rng, out / "pointwise")
    pairwise = _simulate_pairwise(rng, out / "pairwise")
    return {"pointwise": pointwise, "pairwise": pairwise}
