"""Simulated gold sets and judges with planted biases of chosen strength (METRICS.md §5).

The simulator is the proof that the bias probes measure what they claim: it draws human labels and judge
verdicts from a documented generative model in which position bias, length bias, self-preference and
leniency are separate, named parameters of each simulated judge, and it gives the population value of
every probe metric under that model (:meth:`Simulation.true_effects`), so that a test can check that a
probe's confidence interval covers the truth and that its test does not reject when nothing was planted.

Public API
----------
:class:`SystemSpec`
    A response generator: name, quality effect, model family, median length.
:class:`JudgeSpec`
    A simulated judge: accuracy and noise, plus the planted biases ``position``, ``length``,
    ``self_preference`` and ``leniency``.
:func:`simulate_pairwise`, :func:`simulate_pointwise`
    Draw a data set; return a :class:`Simulation` holding the gold frame, one frame per judge (the standard
    long frames of :mod:`metajudge.io`), the families and the scale, with
    :meth:`Simulation.align` (the :class:`~metajudge.align.AlignedTable`, via :func:`metajudge.align.align`),
    :meth:`Simulation.table` (the same table built directly, for calibration loops),
    :meth:`Simulation.probe_options` (the self-preference families for :func:`metajudge.probes.run_probes`)
    and :meth:`Simulation.true_effects` (population values of the probe metrics under the model).

Generative model, pairwise (A / tie / B)
---------------------------------------
Each item is a pair of responses from two distinct systems drawn uniformly, in random A/B assignment.

- Latent quality of a response from system ``s``: ``q = quality_s + N(0, quality_sd²)``; length in tokens
  ``max(5, round(length_s · exp(N(0, length_sd²))))``. ``Δq = q_A − q_B``, ``Δℓ = log(len_A / len_B)``.
- A verdict from a *strength* ``m`` (log-odds in favour of A) and a tie threshold ``τ ≥ 0`` is the ordered
  logit ``P(A) = σ(m − τ)``, ``P(B) = σ(−m − τ)``, ``P(tie) = 1 − P(A) − P(B)`` (no ties when ``τ = 0``).
- Each of ``n_humans`` annotators votes independently, in the item frame, with strength
  ``human_accuracy·Δq + human_length_preference·Δℓ`` and threshold ``human_tie``.
- A judge's item strength is ``m = accuracy·Δq + length·Δℓ + self_preference·(own_A − own_B) + noise·ε``,
  ``ε ~ N(0, 1)`` drawn once per item and shared by all its runs, where ``own_X`` is 1 when response X comes
  from a system of the judge's family. Each run shows the pair in an order (``AB``: A first; ``BA``: B
  first), draws an ordered-logit verdict on the *shown* slots with strength ``m`` (``AB``) or ``−m``
  (``BA``) and threshold ``tie``, and then, with probability ``position``, answers "first shown slot"
  regardless of content. Judge verdicts are written in the shown frame (``order_frame = "shown"``).

Generative model, pointwise
---------------------------
Each item is one response from a system drawn uniformly (or, with ``responses_per_prompt = k > 1``, each
prompt has ``k`` responses from ``k`` distinct systems and a ``group`` column naming the prompt).

- Latent quality ``q = c + prompt effect + quality_s + N(0, quality_sd²)`` with ``c`` the middle of the
  scale (3 on 1–5; 0 on an interval scale) and prompt effect ``N(0, prompt_sd²)`` (0 when ``k = 1``).
- Annotator ``h`` scores ``q + human_length_preference·ℓ + N(0, human_sd²)``, ``ℓ = log(len / L̄)`` with
  ``L̄`` the geometric mean of the systems' median lengths.
- A judge scores ``c + slope·(q − c) + leniency + self_preference·own + length·ℓ + noise·ε_item +
  sample_noise·ε_sample`` (``ε_item`` shared by the item's ``repeats`` samples).
- Likert scales round to the nearest level and clip to ``1..levels``; ``levels=None`` keeps the numbers.

All randomness comes from :func:`numpy.random.default_rng`: the items from ``[seed, 0]``, the humans from
``[seed, 1]`` and each judge from ``[seed, 2, crc32(name)]``, so adding or removing a judge leaves the
other judges' verdicts unchanged and the same seed gives identical frames.

Examples
--------
>>> from metajudge.simulate import JudgeSpec, simulate_pairwise
>>> sim = simulate_pairwise(200, [JudgeSpec("fair"), JudgeSpec("selfish", family="dune", self_preference=1.5)],
...                         seed=1)
>>> sorted(sim.judges), len(sim.gold), sim.families
(['fair', 'selfish'], 600, {'selfish': 'dune'})
>>> table = sim.align()
>>> sorted(table.judges), table.scale.kind
(['fair', 'selfish'], 'pairwise')
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from .scales import Scale

__all__ = ["DEFAULT_SYSTEMS", "JudgeSpec", "Simulation", "SystemSpec", "simulate_pairwise", "simulate_pointwise"]

#: Seed of the large-sample Monte Carlo behind :meth:`Simulation.true_effects` (fixed, documented).
TRUE_EFFECTS_SEED = 20240917
#: Items drawn by :meth:`Simulation.true_effects` by default.
TRUE_EFFECTS_ITEMS = 200_000


@dataclass(frozen=True)
class SystemSpec:
    """A simulated response generator.

    Parameters
    ----------
    name : str
        Written in the ``generator_a`` / ``generator_b`` (pairwise) or ``system`` (pointwise) column.
    quality : float
        Effect on latent quality (pairwise: log-odds units once multiplied by an accuracy; pointwise: scale
        points).
    family : str, optional
        Model family (default: ``name``). A judge of this family shows its ``self_preference`` on it.
    length : float
        Median response length in tokens.
    """

    name: str
    quality: float = 0.0
    family: str | None = None
    length: float = 250.0

    @property
    def family_name(self) -> str:
        return self.family if self.family is not None else self.name


#: Four fictional systems, as in the bundled demo: better systems also write longer answers.
DEFAULT_SYSTEMS: tuple[SystemSpec, ...] = (
    SystemSpec("aurora-7b", -0.45, "aurora", 180.0),
    SystemSpec("basalt-13b", -0.10, "basalt", 260.0),
    SystemSpec("cirrus-34b", 0.15, "cirrus", 220.0),
    SystemSpec("dune-70b", 0.40, "dune", 340.0),
)


@dataclass(frozen=True)
class JudgeSpec:
    """A simulated judge and the biases planted in it.

    Parameters
    ----------
    name : str
    family : str, optional
        The judge's model family; needed for self-preference (``Simulation.families``).
    accuracy : float, default 2.0
        Pairwise: log-odds of preferring A per unit of latent quality difference ``Δq``.
    noise : float, default 0.5
        Pairwise: SD of the judge's item-level error on the log-odds scale (shared by both orders and all
        repeats of an item). Pointwise: SD of the item-level score error (scale points).
    position : float, default 0.0
        Pairwise: probability that a run answers "first shown slot" regardless of content (primacy).
    length : float, default 0.0
        Pairwise: log-odds per unit ``log(len_A / len_B)`` in favour of the longer response. Pointwise:
        score points per unit ``log(len / L̄)``.
    self_preference : float, default 0.0
        Pairwise: log-odds bonus for a response of the judge's own family. Pointwise: score points added to
        outputs of its own family.
    leniency : float, default 0.0
        Pointwise: score shift (points) on every output.
    tie : float, default 0.5
        Pairwise: ordered-logit tie threshold (0: never ties). Ignored when the scale has no ties.
    slope : float, default 1.0
        Pointwise: weight on latent quality around the middle of the scale (< 1 compresses scores).
    sample_noise : float, default 0.3
        Pointwise: SD of the per-sample score error (repeats of one item differ by this).
    """

    name: str
    family: str | None = None
    accuracy: float = 2.0
    noise: float = 0.5
    position: float = 0.0
    length: float = 0.0
    self_preference: float = 0.0
    leniency: float = 0.0
    tie: float = 0.5
    slope: float = 1.0
    sample_noise: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.position <= 1.0:
            raise ValueError(f"JudgeSpec {self.name!r}: position is a probability in [0, 1]; got {self.position}.")
        if self.tie < 0 or self.noise < 0 or self.sample_noise < 0:
            raise ValueError(f"JudgeSpec {self.name!r}: tie, noise and sample_noise must be ≥ 0.")


@dataclass
class Simulation:
    """A simulated data set and everything needed to analyse it.

    Attributes
    ----------
    task : {"pairwise", "pointwise"}
    gold : DataFrame
        Standard long gold frame. Pairwise: ``item_id, rater, label`` ("A" / "B" / "tie", item frame),
        ``generator_a, generator_b, length_a, length_b`` (+ ``order`` when ``human_order``). Pointwise:
        ``item_id, rater, label, system, length_a`` (the response's length) (+ ``group``).
    judges : dict of str -> DataFrame
        Standard judge frames: ``item_id, label, order, repeat`` (pairwise, ``label`` in the **shown**
        frame: "A" = first shown slot) or ``item_id, label, repeat`` (pointwise); ``repeat`` is the run
        index as a string ("0", "1", ...), as :func:`metajudge.io.load_judge` returns it.
    families : dict
        Judge -> family, for the judges that have one (``probes.self_preference.families``).
    generator_families : dict
        System -> family (``probes.self_preference.generator_families``).
    scale : Scale
    order_frame : dict
        Judge -> ``"shown"`` (pairwise) for :func:`metajudge.align.align`.
    specs : tuple of JudgeSpec
    systems : tuple of SystemSpec
    params : dict
        The remaining generation parameters (used by :meth:`true_effects`).
    """

    task: str
    gold: pd.DataFrame
    judges: dict[str, pd.DataFrame]
    families: dict[str, str]
    generator_families: dict[str, str]
    scale: Scale
    order_frame: dict[str, str]
    specs: tuple[JudgeSpec, ...]
    systems: tuple[SystemSpec, ...]
    params: dict[str, Any]
    _truth: dict[tuple[int, int], pd.DataFrame] = field(default_factory=dict, repr=False)

    def align(self, **kwargs: Any):
        """The :class:`~metajudge.align.AlignedTable` of this simulation (keyword arguments go to
        :func:`metajudge.align.align`; ``order_frame`` defaults to :attr:`order_frame`)."""
        from .align import align

        kwargs.setdefault("order_frame", self.order_frame)
        return align(self.gold, self.judges, self.scale, **kwargs)

    def table(self):
        """The same :class:`~metajudge.align.AlignedTable` as :meth:`align` (default arguments), built directly.

        Simulated frames have no defects to count (no duplicates, unparseable or missing rows), so the table
        can be assembled with array operations and no parsing; this is several times faster than
        :meth:`align` and meant for calibration loops over hundreds of simulations. ``tests/test_simulate.py``
        checks that both give the same data, reference, coverage and item attributes (text columns of
        ``data`` have object dtype here).
        """
        from .align import AlignedTable, default_aggregate
        from .results import COVERAGE_COLUMNS, PROBLEM_COLUMNS

        scale = self.scale
        g = self.gold
        ids = g["item_id"].to_numpy(dtype=object)
        items, first, gpos = np.unique(ids, return_index=True, return_inverse=True)
        attr_cols = [c for c in ("system", "generator_a", "generator_b", "length_a", "length_b", "group")
                     if c in g.columns]
        item_attrs = pd.DataFrame({c: g[c].to_numpy()[first] for c in attr_cols}, index=pd.Index(items, name="item_id"))
        k = len(scale.levels) if scale.levels is not None else 0
        gcode = self._codes(g["label"])
        cols: dict[str, list[np.ndarray]] = {c: [] for c in ("item_id", "rater", "rater_kind", "label", "value",
                                                             "order", "shown", "repeat", "_pos")}

        def add(n: int, **kw: Any) -> None:
            for c in cols:
                v = kw.get(c)
                cols[c].append(np.asarray(v) if isinstance(v, np.ndarray) else np.full(n, v, dtype=object))

        g_order = g["order"].to_numpy(dtype=object) if "order" in g else np.full(len(g), None, dtype=object)
        g_shown = (np.where(g_order == "BA", (k - 1) - gcode, gcode) if "order" in g
                   else np.full(len(g), np.nan))
        add(len(g), item_id=ids, rater=g["rater"].to_numpy(dtype=object), rater_kind="human",
            label=g["label"].to_numpy(dtype=object), value=gcode, order=g_order, shown=g_shown, _pos=gpos)
        for name, f in self.judges.items():
            c = self._codes(f["label"])
            fid = f["item_id"].to_numpy(dtype=object)
            pos = np.searchsorted(items, fid)
            if self.task == "pairwise":
                order = f["order"].to_numpy(dtype=object)
                add(len(f), item_id=fid, rater=name, rater_kind="judge", label=f["label"].to_numpy(dtype=object),
                    value=np.where(order == "BA", (k - 1) - c, c), order=order, shown=c,
                    repeat=f["repeat"].to_numpy(dtype=object), _pos=pos)
            else:
                add(len(f), item_id=fid, rater=name, rater_kind="judge", label=f["label"].to_numpy(dtype=object),
                    value=c, shown=np.full(len(f), np.nan), repeat=f["repeat"].to_numpy(dtype=object), _pos=pos)
        flat = {c: np.concatenate(v) for c, v in cols.items()}
        pos = flat.pop("_pos").astype(int)
        flat["value"] = flat["value"].astype(float)
        flat["shown"] = flat["shown"].astype(float)
        for c in attr_cols:
            flat[c] = item_attrs[c].to_numpy()[pos]
        data = pd.DataFrame({c: pd.Series(v, dtype=object) if v.dtype == object else v for c, v in flat.items()})
        if "raw" not in data:  # align keeps raw judge text; simulated judges have none
            data["raw"] = None
        aggregate = default_aggregate(scale)
        ref, n_undef = self._reference(gcode, gpos, len(items), aggregate, k)
        ref = pd.Series(ref, index=pd.Index(items, name="item"), name="v")
        defined = set(items[np.isfinite(ref.to_numpy())])
        zero = dict.fromkeys(("missing_in_gold", "missing_in_judge", "duplicate_rows", "unparseable",
                              "out_of_scale", "missing_label", "excluded_rows", "fallback_rows"), 0)
        cov = [{"source": "gold", "kind": "gold", "path": "gold", "rows": len(g), "items": len(items),
                "matched_items": len(defined), **zero, "reference_undefined": int(len(items) - len(defined))}]
        for name, f in self.judges.items():
            judged = set(f["item_id"])
            cov.append({"source": name, "kind": "judge", "path": name, "rows": len(f), "items": len(judged),
                        "matched_items": len(judged & defined), **zero, "reference_undefined": 0})
        notes = []
        if n_undef:
            notes.append(f"{n_undef} item(s) have no {aggregate} human label (a tie among annotators) and are "
                         "left out of judge-vs-human agreement; they are counted as reference_undefined")
        return AlignedTable(
            data=data, scale=scale, coverage=pd.DataFrame(cov, columns=COVERAGE_COLUMNS),
            problems=pd.DataFrame(columns=PROBLEM_COLUMNS), humans=sorted(set(g["rater"].astype(str))),
            judges=list(self.judges), reference=ref, aggregate=aggregate, notes=notes, item_attrs=item_attrs,
            excluded=pd.DataFrame(columns=["item_id", "rater", "order", "repeat", "reason", "raw"]))

    @staticmethod
    def _reference(code: np.ndarray, pos: np.ndarray, n: int, aggregate: str, k: int) -> tuple[np.ndarray, int]:
        """Aggregated human code per item, as :func:`metajudge.align.aggregate_values` computes it."""
        if aggregate == "mean":
            cnt = np.bincount(pos, minlength=n)
            return np.bincount(pos, weights=code, minlength=n) / cnt, 0
        if aggregate == "median":  # median_low of each item's codes
            o = np.lexsort((code, pos))
            cnt = np.bincount(pos, minlength=n)
            start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
            return code[o][start + (cnt - 1) // 2], 0
        counts = np.bincount(pos * k + code.astype(int), minlength=n * k).reshape(n, k)
        top = counts.max(axis=1)
        unique = (counts == top[:, None]).sum(axis=1) == 1
        ref = np.where(unique, counts.argmax(axis=1).astype(float), np.nan)
        return ref, int((~unique).sum())

    def _codes(self, labels: pd.Series) -> np.ndarray:
        """Scale codes of simulated labels (vectorised: the labels are clean)."""
        if self.scale.kind == "interval":
            return labels.to_numpy(dtype=float)
        if self.task == "pointwise":
            return labels.to_numpy(dtype=float) - 1.0
        lab = labels.to_numpy(dtype=object)
        out = np.full(len(lab), np.nan)
        for i, lv in enumerate(self.scale.levels or ()):
            out[lab == lv] = i
        return out

    def probe_options(self) -> dict[str, dict[str, Any]]:
        """Options for :func:`metajudge.probes.run_probes`: the self-preference families."""
        return {"self_preference": {"families": dict(self.families),
                                    "generator_families": dict(self.generator_families)}}

    def spec(self, judge: str) -> JudgeSpec:
        for s in self.specs:
            if s.name == judge:
                return s
        raise KeyError(f"no simulated judge {judge!r}; judges: {[s.name for s in self.specs]}")

    def true_effects(self, *, n_items: int = TRUE_EFFECTS_ITEMS, seed: int = TRUE_EFFECTS_SEED) -> pd.DataFrame:
        """Population values of the probe metrics under this simulation's generative model.

        Computed by a large-sample Monte Carlo over item latents (``n_items`` items, its own fixed
        ``seed``, independent of the data's seed), with every per-item probability or expectation taken
        analytically given the latents (ordered-logit probabilities; normal CDFs for rounded scores), so the
        Monte Carlo error is small (about ``0.3/√n_items`` for the pairwise rates). Self-rank metrics are a
        plain Monte Carlo of the model (``n_items`` prompts, capped at 20,000). Results are cached.

        Returns a frame ``judge, metric, value`` (``judge`` is ``"(humans)"`` for human-only rates).
        Definitions (each matches the estimator of the probe that reports it):

        pairwise
            ``first_position_rate``: share of runs answering the first shown slot among decisive runs;
            ``position_consistency``: share of items whose ``AB`` and ``BA`` runs agree (A/B or B/A in the
            shown frame, or tie/tie), one run per order (both orders only);
            ``tie_rate``: share of judge runs that are ties (``"(humans)"``: of human votes);
            ``prefer_longer_rate``: share of decisive runs (item frame) preferring the longer response,
            on pairs of unequal length (``"(humans)"``: of decisive human votes);
            ``prefer_longer_excess``: judge minus human prefer-longer rate;
            ``self_preference_eo``: ``P(judge prefers own | human prefers own) − P(judge prefers other |
            human prefers other)`` on self-vs-other pairs, each human vote a condition and each item's judge
            verdicts averaged over its runs (judge ties prefer neither);
            ``self_preference_inflation``: judge win rate of its own family's responses on self-vs-other
            pairs (ties count ½, runs averaged per item) minus the human win rate (per vote) of the same
            responses;
            ``<metric>_peer_adjusted``: the mean over peers (the other judges with a declared, different
            family ``G``) of (judge's metric − peer's metric) for the judge's family, both computed on the
            self-vs-other pairs whose other response is not of family ``G``.
        pointwise
            ``leniency_shift``: mean over items of (judge mean score − mean human score);
            ``self_preference_did``: the same mean on own-family outputs minus on other outputs;
            ``self_rank_difference`` (``responses_per_prompt > 1``): mean over prompts of the judge's rank of
            its own system's response minus the human consensus rank (ranks ``1..k``, ``k`` = best, ties
            averaged; consensus = rank of the mean human score; prompts where the judge's scores are all
            equal left out);
            ``<metric>_peer_adjusted``: as for pairwise, leaving out the peer's own-family outputs (DiD) or
            systems (ranks) for both the judge and the peer.
        """
        key = (int(n_items), int(seed))
        if key not in self._truth:
            if self.task == "pairwise":
                self._truth[key] = _pairwise_truth(self, n_items, seed)
            else:
                self._truth[key] = _pointwise_truth(self, n_items, seed)
        return self._truth[key].copy()

    def true_effect(self, judge: str, metric: str, **kwargs: Any) -> float:
        """One value of :meth:`true_effects` (NaN when the metric does not apply to the judge)."""
        t = self.true_effects(**kwargs)
        hit = t[(t["judge"] == judge) & (t["metric"] == metric)]
        return float(hit["value"].iloc[0]) if len(hit) else math.nan


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _systems(systems: Sequence[SystemSpec] | Mapping[str, float] | None) -> tuple[SystemSpec, ...]:
    if systems is None:
        return DEFAULT_SYSTEMS
    if isinstance(systems, Mapping):
        out = tuple(SystemSpec(str(k), float(v)) for k, v in systems.items())
    else:
        out = tuple(s if isinstance(s, SystemSpec) else SystemSpec(str(s)) for s in systems)
    names = [s.name for s in out]
    if len(out) < 2 or len(set(names)) != len(names):
        raise ValueError(f"need at least two systems with distinct names; got {names}.")
    return out


def _judge_rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, 2, zlib.crc32(name.encode("utf-8"))])


def _check_judges(judges: Sequence[JudgeSpec]) -> tuple[JudgeSpec, ...]:
    specs = tuple(judges)
    names = [j.name for j in specs]
    if not specs or len(set(names)) != len(names):
        raise ValueError(f"need at least one judge and distinct judge names; got {names}.")
    return specs


def _ids(prefix: str, n: int) -> np.ndarray:
    width = max(4, len(str(n)))
    return np.array([f"{prefix}-{i + 1:0{width}d}" for i in range(n)], dtype=object)


def _ordered_logit(m: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P(first/A), P(tie), P(second/B)) of the ordered logit with strength ``m`` and threshold ``tau``."""
    p1 = expit(m - tau)
    if tau == 0:
        return p1, np.zeros_like(p1), 1.0 - p1
    p3 = expit(-m - tau)
    return p1, np.clip(1.0 - p1 - p3, 0.0, 1.0), p3


def _draw3(rng: np.random.Generator, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Draw codes 0 / 1 / 2 with probabilities (p1, p2, 1 − p1 − p2), elementwise."""
    u = rng.random(np.shape(p1))
    return np.where(u < p1, 0, np.where(u < p1 + p2, 1, 2))


def _pair_latents(rng: np.random.Generator, n: int, systems: tuple[SystemSpec, ...], quality_sd: float,
                  length_sd: float) -> dict[str, np.ndarray]:
    k = len(systems)
    sa = rng.integers(0, k, size=n)
    sb = (sa + rng.integers(1, k, size=n)) % k
    qual = np.array([s.quality for s in systems])
    med = np.array([s.length for s in systems])
    eq = rng.normal(0.0, 1.0, (2, n))
    el = rng.normal(0.0, 1.0, (2, n))
    len_a = np.maximum(5, np.rint(med[sa] * np.exp(length_sd * el[0]))).astype(int)
    len_b = np.maximum(5, np.rint(med[sb] * np.exp(length_sd * el[1]))).astype(int)
    dq = qual[sa] - qual[sb] + quality_sd * (eq[0] - eq[1])
    return {"sa": sa, "sb": sb, "len_a": len_a, "len_b": len_b, "dq": dq, "dl": np.log(len_a / len_b)}


def _peer_specs(sim: Simulation, spec: JudgeSpec) -> list[JudgeSpec]:
    """The judges with a declared family other than ``spec``'s (the probe's peers)."""
    f = str(spec.family).strip().lower()
    return [q for q in sim.specs if q.name != spec.name and q.family is not None and q.family.strip().lower() != f]


def _own(systems: tuple[SystemSpec, ...], family: str | None) -> np.ndarray:
    if family is None:
        return np.zeros(len(systems))
    f = str(family).strip().lower()
    return np.array([s.family_name.strip().lower() == f for s in systems], dtype=float)


def _judge_strength(spec: JudgeSpec, lat: Mapping[str, np.ndarray], systems: tuple[SystemSpec, ...],
                    eps: np.ndarray) -> np.ndarray:
    own = _own(systems, spec.family)
    return (spec.accuracy * lat["dq"] + spec.length * lat["dl"]
            + spec.self_preference * (own[lat["sa"]] - own[lat["sb"]]) + spec.noise * eps)


def _shown_probs(m_shown: np.ndarray, spec: JudgeSpec, tau: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shown-frame run probabilities (first, tie, second) including the forced-first answers."""
    f, t, s = _ordered_logit(m_shown, tau)
    pos = spec.position
    return pos + (1 - pos) * f, (1 - pos) * t, (1 - pos) * s


# --------------------------------------------------------------------------------------------------
# pairwise
# --------------------------------------------------------------------------------------------------


def simulate_pairwise(
    n_items: int,
    judges: Sequence[JudgeSpec],
    *,
    n_humans: int = 3,
    both_orders: bool = True,
    repeats: int = 1,
    systems: Sequence[SystemSpec] | Mapping[str, float] | None = None,
    ties: bool = True,
    quality_sd: float = 0.8,
    length_sd: float = 0.45,
    human_accuracy: float = 2.0,
    human_length_preference: float = 0.0,
    human_tie: float = 0.5,
    human_order: bool = False,
    seed: int = 0,
) -> Simulation:
    """Simulate a pairwise gold set (A / tie / B) and judges with planted biases.

    Parameters
    ----------
    n_items : int
        Number of pairs.
    judges : sequence of JudgeSpec
    n_humans : int, default 3
        Annotators per pair (``h1`` … ``hN``); each votes independently.
    both_orders : bool, default True
        Judges see every pair in both orders (``AB`` and ``BA``); otherwise in one random, recorded order.
    repeats : int, default 1
        Runs per (pair, order), numbered 0.. in the ``repeat`` column.
    systems : sequence of SystemSpec or mapping name -> quality, optional
        Default :data:`DEFAULT_SYSTEMS`.
    ties : bool, default True
        Whether the scale has a tie level; without it all tie thresholds are 0.
    quality_sd, length_sd : float
        Response-level SD of latent quality and of log length.
    human_accuracy, human_length_preference, human_tie : float
        The annotators' ordered-logit weight on ``Δq``, on ``Δℓ``, and tie threshold.
    human_order : bool, default False
        Record a random shown order for the annotators in an ``order`` column of the gold frame (they have
        no position bias; labels stay in the item frame).
    seed : int, default 0

    Returns
    -------
    Simulation

    Examples
    --------
    >>> sim = simulate_pairwise(50, [JudgeSpec("primacy", position=0.3)], repeats=2, seed=0)
    >>> f = sim.judges["primacy"]
    >>> len(f), sorted(f["order"].unique()), sorted(f["repeat"].unique())
    (200, ['AB', 'BA'], ['0', '1'])
    """
    specs = _check_judges(judges)
    systems_ = _systems(systems)
    if n_items < 1 or n_humans < 1 or repeats < 1:
        raise ValueError("n_items, n_humans and repeats must be ≥ 1.")
    h_tau = human_tie if ties else 0.0
    lat = _pair_latents(np.random.default_rng([seed, 0]), n_items, systems_, quality_sd, length_sd)
    ids = _ids("pair", n_items)
    names = np.array([s.name for s in systems_], dtype=object)

    hrng = np.random.default_rng([seed, 1])
    pa, pt, _ = _ordered_logit(human_accuracy * lat["dq"] + human_length_preference * lat["dl"], h_tau)
    votes = _draw3(hrng, np.repeat(pa[:, None], n_humans, 1), np.repeat(pt[:, None], n_humans, 1))
    words = np.array(["A", "tie", "B"], dtype=object)
    gold = pd.DataFrame({
        "item_id": np.repeat(ids, n_humans),
        "rater": np.tile(np.array([f"h{h + 1}" for h in range(n_humans)], dtype=object), n_items),
        "label": words[votes.ravel()],
        "generator_a": np.repeat(names[lat["sa"]], n_humans),
        "generator_b": np.repeat(names[lat["sb"]], n_humans),
        "length_a": np.repeat(lat["len_a"], n_humans),
        "length_b": np.repeat(lat["len_b"], n_humans),
    })
    if human_order:
        gold["order"] = np.repeat(np.where(hrng.random(n_items) < 0.5, "AB", "BA").astype(object), n_humans)

    frames: dict[str, pd.DataFrame] = {}
    for spec in specs:
        jrng = _judge_rng(seed, spec.name)
        tau = spec.tie if ties else 0.0
        m = _judge_strength(spec, lat, systems_, jrng.normal(0.0, 1.0, n_items))
        if both_orders:
            orders = np.array(["AB", "BA"], dtype=object)
            order = np.tile(np.repeat(orders, repeats), n_items)          # per item: AB×r, BA×r
            item = np.repeat(np.arange(n_items), 2 * repeats)
            rep = np.tile(np.arange(repeats), 2 * n_items)
        else:
            first = np.where(jrng.random(n_items) < 0.5, "AB", "BA").astype(object)
            order = np.repeat(first, repeats)
            item = np.repeat(np.arange(n_items), repeats)
            rep = np.tile(np.arange(repeats), n_items)
        sign = np.where(order == "AB", 1.0, -1.0)
        p1, p2, _ = _shown_probs(sign * m[item], spec, tau)
        shown = _draw3(jrng, p1, p2)
        frames[spec.name] = pd.DataFrame({"item_id": ids[item], "label": words[shown], "order": order,
                                          "repeat": rep.astype(str).astype(object)})
    params = {"n_humans": n_humans, "both_orders": both_orders, "repeats": repeats, "ties": ties,
              "quality_sd": quality_sd, "length_sd": length_sd, "human_accuracy": human_accuracy,
              "human_length_preference": human_length_preference, "human_tie": h_tau,
              "human_order": human_order, "seed": seed, "n_items": n_items}
    return Simulation(
        task="pairwise", gold=gold, judges=frames,
        families={s.name: s.family for s in specs if s.family is not None},
        generator_families={s.name: s.family_name for s in systems_},
        scale=Scale("pairwise", ties=ties), order_frame={s.name: "shown" for s in specs},
        specs=specs, systems=systems_, params=params,
    )


def _pairwise_truth(sim: Simulation, n: int, seed: int) -> pd.DataFrame:
    p = sim.params
    rng = np.random.default_rng([seed, 0])
    lat = _pair_latents(rng, n, sim.systems, p["quality_sd"], p["length_sd"])
    ha, ht, hb = _ordered_logit(p["human_accuracy"] * lat["dq"] + p["human_length_preference"] * lat["dl"],
                                p["human_tie"])
    longer_a = lat["len_a"] > lat["len_b"]
    unequal = lat["len_a"] != lat["len_b"]
    rows: list[tuple[str, str, float]] = []

    def longer_rate(pa: np.ndarray, pb: np.ndarray) -> float:
        pl = np.where(longer_a, pa, pb)[unequal]
        ps = np.where(longer_a, pb, pa)[unequal]
        return float(pl.sum() / (pl.sum() + ps.sum()))

    h_longer = longer_rate(ha, hb)
    rows += [("(humans)", "tie_rate", float(ht.mean())), ("(humans)", "prefer_longer_rate", h_longer)]
    item_frame: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for spec in sim.specs:
        tau = spec.tie if p["ties"] else 0.0
        m = _judge_strength(spec, lat, sim.systems, rng.normal(0.0, 1.0, n))
        f1, t1, s1 = _shown_probs(m, spec, tau)       # order AB: first = A
        f2, t2, s2 = _shown_probs(-m, spec, tau)      # order BA: first = B
        # item-frame probabilities averaged over the two orders (both orders, or one random order)
        ja, jt, jb = (f1 + s2) / 2, (t1 + t2) / 2, (s1 + f2) / 2
        item_frame[spec.name] = (ja, jt, jb)
        rows.append((spec.name, "first_position_rate", float((f1 + f2).sum() / (f1 + s1 + f2 + s2).sum())))
        if p["both_orders"]:
            rows.append((spec.name, "position_consistency", float((f1 * s2 + s1 * f2 + t1 * t2).mean())))
        rows.append((spec.name, "tie_rate", float(jt.mean())))
        j_longer = longer_rate(ja, jb)
        rows += [(spec.name, "prefer_longer_rate", j_longer), (spec.name, "prefer_longer_excess", j_longer - h_longer)]

    def self_pref(judge: str, family: str, exclude: str | None = None) -> tuple[float, float]:
        own = _own(sim.systems, family)
        oa, ob = own[lat["sa"]] == 1, own[lat["sb"]] == 1
        sel = oa != ob
        if exclude is not None:  # a peer's baseline leaves out pairs whose other response is of its own family
            ex = _own(sim.systems, exclude)
            sel &= np.where(oa, ex[lat["sb"]], ex[lat["sa"]]) == 0
        if not sel.any():
            return math.nan, math.nan
        ja, jt, jb = (x[sel] for x in item_frame[judge])
        a_own = oa[sel]
        j_own, j_oth = np.where(a_own, ja, jb), np.where(a_own, jb, ja)
        h_own, h_oth = np.where(a_own, ha[sel], hb[sel]), np.where(a_own, hb[sel], ha[sel])
        eo = (h_own * j_own).sum() / h_own.sum() - (h_oth * j_oth).sum() / h_oth.sum()
        infl = (j_own + jt / 2).mean() - (h_own + ht[sel] / 2).mean()
        return float(eo), float(infl)

    for spec in sim.specs:
        if spec.family is None:
            continue
        eo, infl = self_pref(spec.name, spec.family)
        if math.isnan(eo):
            continue
        rows += [(spec.name, "self_preference_eo", eo), (spec.name, "self_preference_inflation", infl)]
        peers = _peer_specs(sim, spec)
        if peers:  # matched: judge and peer on the pairs whose other response is not of the peer's family
            adj = np.array([np.subtract(self_pref(spec.name, spec.family, exclude=q.family),
                                        self_pref(q.name, spec.family, exclude=q.family)) for q in peers])
            rows += [(spec.name, "self_preference_eo_peer_adjusted", float(np.mean(adj[:, 0]))),
                     (spec.name, "self_preference_inflation_peer_adjusted", float(np.mean(adj[:, 1])))]
    return pd.DataFrame(rows, columns=["judge", "metric", "value"])


# --------------------------------------------------------------------------------------------------
# pointwise
# --------------------------------------------------------------------------------------------------


def _pointwise_latents(rng: np.random.Generator, n_prompts: int, k: int, systems: tuple[SystemSpec, ...],
                       center: float, quality_sd: float, prompt_sd: float, length_sd: float) -> dict[str, np.ndarray]:
    ns = len(systems)
    if k == 1:
        sys_idx = rng.integers(0, ns, size=n_prompts)
    else:
        sys_idx = np.argsort(rng.random((n_prompts, ns)), axis=1)[:, :k].ravel()
    n = n_prompts * k
    qual = np.array([s.quality for s in systems])
    med = np.array([s.length for s in systems])
    prompt = np.repeat(rng.normal(0.0, prompt_sd, n_prompts), k) if k > 1 else np.zeros(n)
    q = center + prompt + qual[sys_idx] + quality_sd * rng.normal(0.0, 1.0, n)
    length = np.maximum(5, np.rint(med[sys_idx] * np.exp(length_sd * rng.normal(0.0, 1.0, n)))).astype(int)
    lbar = float(np.exp(np.mean(np.log(med))))
    return {"sys": sys_idx, "q": q, "length": length, "ell": np.log(length / lbar),
            "prompt": np.repeat(np.arange(n_prompts), k)}


def _score(x: np.ndarray, levels: int | None) -> np.ndarray:
    return x if levels is None else np.clip(np.rint(x), 1, levels)


def _expected_score(mu: np.ndarray, sd: float, levels: int | None) -> np.ndarray:
    """E[clip(round(N(mu, sd²)), 1, levels)] (or mu on an interval scale)."""
    if levels is None:
        return mu
    if sd == 0:
        return _score(mu, levels)
    cuts = np.arange(1, levels) + 0.5
    return 1.0 + norm.cdf((mu[..., None] - cuts) / sd).sum(axis=-1)


def _judge_mean(spec: JudgeSpec, lat: Mapping[str, np.ndarray], systems: tuple[SystemSpec, ...],
                center: float) -> np.ndarray:
    own = _own(systems, spec.family)[lat["sys"]]
    return (center + spec.slope * (lat["q"] - center) + spec.leniency + spec.self_preference * own
            + spec.length * lat["ell"])


def simulate_pointwise(
    n_items: int,
    judges: Sequence[JudgeSpec],
    *,
    n_humans: int = 3,
    levels: int | None = 5,
    repeats: int = 1,
    responses_per_prompt: int = 1,
    systems: Sequence[SystemSpec] | Mapping[str, float] | None = None,
    quality_sd: float = 0.9,
    prompt_sd: float = 0.5,
    length_sd: float = 0.45,
    human_sd: float = 0.5,
    human_length_preference: float = 0.0,
    seed: int = 0,
) -> Simulation:
    """Simulate a pointwise gold set (Likert ``1..levels`` or interval scores) and judges with planted biases.

    Parameters
    ----------
    n_items : int
        Number of rated responses; with ``responses_per_prompt = k > 1``, the number of prompts (each with
        ``k`` responses from distinct systems, so ``k·n_items`` items, ``group`` = the prompt id).
    judges : sequence of JudgeSpec
    n_humans : int, default 3
    levels : int or None, default 5
        Likert levels ``1..levels`` (ordinal scale); ``None`` for an interval scale (unrounded scores,
        centred on 0).
    repeats : int, default 1
        Samples per item from each judge (``repeat`` column).
    responses_per_prompt : int, default 1
    systems : sequence of SystemSpec or mapping name -> quality, optional
    quality_sd, prompt_sd, length_sd, human_sd : float
    human_length_preference : float
        Points per unit log length in the annotators' scores.
    seed : int, default 0

    Examples
    --------
    >>> sim = simulate_pointwise(100, [JudgeSpec("lenient", leniency=0.7)], seed=0)
    >>> sorted(sim.gold.columns), sim.scale.kind
    (['item_id', 'label', 'length_a', 'rater', 'system'], 'ordinal')
    >>> round(sim.true_effect("lenient", "leniency_shift", n_items=20_000), 1)
    0.6
    """
    specs = _check_judges(judges)
    systems_ = _systems(systems)
    k = int(responses_per_prompt)
    if n_items < 1 or n_humans < 1 or repeats < 1 or not 1 <= k <= len(systems_):
        raise ValueError("n_items, n_humans, repeats ≥ 1 and 1 ≤ responses_per_prompt ≤ number of systems.")
    center = 0.0 if levels is None else (1 + levels) / 2
    lat = _pointwise_latents(np.random.default_rng([seed, 0]), n_items, k, systems_, center, quality_sd,
                             prompt_sd, length_sd)
    n = n_items * k
    ids = _ids("resp", n) if k > 1 else _ids("item", n)
    names = np.array([s.name for s in systems_], dtype=object)
    hrng = np.random.default_rng([seed, 1])
    hx = (lat["q"] + human_length_preference * lat["ell"])[:, None] + human_sd * hrng.normal(0.0, 1.0, (n, n_humans))
    hs = _score(hx, levels)
    gold = pd.DataFrame({
        "item_id": np.repeat(ids, n_humans),
        "rater": np.tile(np.array([f"h{h + 1}" for h in range(n_humans)], dtype=object), n),
        "label": hs.ravel().astype(int) if levels is not None else hs.ravel(),
        "system": np.repeat(names[lat["sys"]], n_humans),
        "length_a": np.repeat(lat["length"], n_humans),
    })
    if k > 1:
        gold["group"] = np.repeat(_ids("prompt", n_items)[lat["prompt"]], n_humans)
    frames: dict[str, pd.DataFrame] = {}
    for spec in specs:
        jrng = _judge_rng(seed, spec.name)
        mu = _judge_mean(spec, lat, systems_, center) + spec.noise * jrng.normal(0.0, 1.0, n)
        x = mu[:, None] + spec.sample_noise * jrng.normal(0.0, 1.0, (n, repeats))
        s = _score(x, levels)
        frames[spec.name] = pd.DataFrame({"item_id": np.repeat(ids, repeats),
                                          "label": s.ravel().astype(int) if levels is not None else s.ravel(),
                                          "repeat": np.tile(np.arange(repeats), n).astype(str).astype(object)})
    scale = (Scale("interval") if levels is None
             else Scale("ordinal", levels=tuple(str(v) for v in range(1, levels + 1))))
    params = {"n_humans": n_humans, "levels": levels, "repeats": repeats, "responses_per_prompt": k,
              "quality_sd": quality_sd, "prompt_sd": prompt_sd, "length_sd": length_sd, "human_sd": human_sd,
              "human_length_preference": human_length_preference, "center": center, "seed": seed,
              "n_items": n_items}
    return Simulation(
        task="pointwise", gold=gold, judges=frames,
        families={s.name: s.family for s in specs if s.family is not None},
        generator_families={s.name: s.family_name for s in systems_},
        scale=scale, order_frame={}, specs=specs, systems=systems_, params=params,
    )


def _pointwise_truth(sim: Simulation, n: int, seed: int) -> pd.DataFrame:
    p = sim.params
    levels, center = p["levels"], p["center"]
    rng = np.random.default_rng([seed, 0])
    k = p["responses_per_prompt"]
    lat = _pointwise_latents(rng, max(1, n // k), k, sim.systems, center, p["quality_sd"], p["prompt_sd"],
                             p["length_sd"])
    eh = _expected_score(lat["q"] + p["human_length_preference"] * lat["ell"], p["human_sd"], levels)
    rows: list[tuple[str, str, float]] = []
    diffs: dict[str, np.ndarray] = {}
    for spec in sim.specs:
        sd = math.hypot(spec.noise, spec.sample_noise)
        diffs[spec.name] = d = _expected_score(_judge_mean(spec, lat, sim.systems, center), sd, levels) - eh
        rows.append((spec.name, "leniency_shift", float(d.mean())))
    for spec in sim.specs:
        if spec.family is None:
            continue
        own = _own(sim.systems, spec.family)[lat["sys"]] == 1
        if not (own.any() and (~own).any()):
            continue
        d = diffs[spec.name]
        did = float(d[own].mean() - d[~own].mean())
        rows.append((spec.name, "self_preference_did", did))
        adj = []
        for q in _peer_specs(sim, spec):  # matched: judge and peer without the peer's own-family outputs
            keep = _own(sim.systems, q.family)[lat["sys"]] == 0
            dj, dq = diffs[spec.name], diffs[q.name]
            adj.append((dj[own & keep].mean() - dj[~own & keep].mean())
                       - (dq[own & keep].mean() - dq[~own & keep].mean()))
        if adj:
            rows.append((spec.name, "self_preference_did_peer_adjusted", float(np.mean(adj))))
    fam_specs = [s for s in sim.specs if s.family is not None]
    if k > 1 and fam_specs:
        rows += _rank_truth(sim, min(n, 20_000), seed, fam_specs)
    return pd.DataFrame(rows, columns=["judge", "metric", "value"])


def _rank_truth(sim: Simulation, n_prompts: int, seed: int, specs: list[JudgeSpec]) -> list[tuple[str, str, float]]:
    """Plain Monte Carlo of the self-rank difference (ranks 1..k within each prompt, k = best)."""
    p = sim.params
    levels, center, k = p["levels"], p["center"], p["responses_per_prompt"]
    rng = np.random.default_rng([seed, 5])
    lat = _pointwise_latents(rng, n_prompts, k, sim.systems, center, p["quality_sd"], p["prompt_sd"],
                             p["length_sd"])
    n = n_prompts * k
    hx = (lat["q"] + p["human_length_preference"] * lat["ell"])[:, None]
    h = _score(hx + p["human_sd"] * rng.normal(0.0, 1.0, (n, p["n_humans"])), levels).mean(axis=1)
    scores: dict[str, np.ndarray] = {}
    for spec in sim.specs:
        mu = _judge_mean(spec, lat, sim.systems, center) + spec.noise * rng.normal(0.0, 1.0, n)
        j = _score(mu[:, None] + spec.sample_noise * rng.normal(0.0, 1.0, (n, p["repeats"])), levels).mean(axis=1)
        scores[spec.name] = j.reshape(n_prompts, k)
    hmat = h.reshape(n_prompts, k)

    def rank_diff(jmat: np.ndarray, own: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per prompt: informative & own present, and mean (judge − consensus) rank of the own response(s)."""
        jm = np.where(keep, jmat, np.nan)
        hm = np.where(keep, hmat, np.nan)
        jr, hr = _row_ranks(jm), _row_ranks(hm)
        informative = (np.nanmax(np.where(keep, jm, -np.inf), axis=1) > np.nanmin(np.where(keep, jm, np.inf), axis=1))
        o = own & keep
        has = informative & o.any(axis=1) & (keep.sum(axis=1) >= 2)
        d = np.where(o, jr - hr, 0.0).sum(axis=1) / np.maximum(o.sum(axis=1), 1)
        return has, d

    out = []
    all_keep = np.ones((n_prompts, k), dtype=bool)
    for spec in specs:
        own = (_own(sim.systems, spec.family)[lat["sys"]] == 1).reshape(n_prompts, k)
        has, d = rank_diff(scores[spec.name], own, all_keep)
        if not has.any():
            continue
        out.append((spec.name, "self_rank_difference", float(d[has].mean())))
        adj = []
        for q in _peer_specs(sim, spec):
            keep = (_own(sim.systems, q.family)[lat["sys"]] == 0).reshape(n_prompts, k)
            h1, d1 = rank_diff(scores[spec.name], own, keep)
            h2, d2 = rank_diff(scores[q.name], own, keep)
            common = has & h1 & h2
            if common.any():
                adj.append(float(d1[common].mean() - d2[common].mean()))
        if adj:
            out.append((spec.name, "self_rank_difference_peer_adjusted", float(np.mean(adj))))
    return out


def _row_ranks(mat: np.ndarray) -> np.ndarray:
    """Average-tie ranks within rows (1 = lowest); NaN cells left out and NaN."""
    x, y = mat[:, :, None], mat[:, None, :]
    return np.where(np.isfinite(mat), (y < x).sum(axis=2) + ((y == x).sum(axis=2) + 1) / 2, np.nan)
