"""The ``metajudge`` command: thin commands over the library.

Data go to stdout, progress and messages to stderr. Exit codes: 0 success, 1 bad input or an analysis that
cannot run (one readable paragraph, no traceback unless ``--debug``), 2 usage errors.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="metajudge: judge the judges. Agreement of LLM judges with human annotators, "
                       "with honest confidence intervals.")

ConfigArg = Annotated[Optional[Path], typer.Argument(help="Config file (YAML or TOML). Optional when "
                                                          "--gold and --judge are given.")]
SeedOpt = Annotated[Optional[int], typer.Option("--seed", help="Bootstrap seed (overrides the config).")]
ResOpt = Annotated[Optional[int], typer.Option("--n-resamples", help="Bootstrap resamples (overrides the config).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or messages on stderr.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", help="Override a config value: --set "
                                                                   "gold.columns.item=qid (repeatable).")]
GoldOpt = Annotated[Optional[str], typer.Option("--gold", help="Gold-set file (instead of a config); with "
                                                               "--data-dir, the name of a registered public "
                                                               "gold set (metajudge gold list).")]
DataDirOpt = Annotated[Optional[Path], typer.Option("--data-dir", help="Folder holding the files of the "
                                                                       "registered gold set named by --gold.")]
GoldOptionOpt = Annotated[Optional[list[str]], typer.Option("--gold-option", help="KEY=VALUE option of the "
                                                                                  "registered gold set "
                                                                                  "(repeatable; metajudge gold "
                                                                                  "show NAME lists them).")]
JudgeOpt = Annotated[Optional[list[str]], typer.Option("--judge", help="NAME=PATH of a judge output file "
                                                                       "(repeatable; instead of a config).")]
ScaleOpt = Annotated[Optional[str], typer.Option("--scale", help="Scale kind: binary, nominal, ordinal, "
                                                                 "interval, pairwise.")]
LevelsOpt = Annotated[Optional[str], typer.Option("--levels", help="Comma-separated levels in order, "
                                                                   "e.g. poor,fair,good.")]
ItemOpt = Annotated[Optional[str], typer.Option("--item", help="Item-id column (gold and judges).")]
RaterOpt = Annotated[Optional[str], typer.Option("--rater", help="Annotator column of the gold set.")]
LabelOpt = Annotated[Optional[str], typer.Option("--label", help="Label column of the gold set.")]
JLabelOpt = Annotated[Optional[str], typer.Option("--judge-label", help="Verdict column of the judge files.")]
JTextOpt = Annotated[Optional[str], typer.Option("--judge-text", help="Raw-output column of the judge files.")]
ExtractOpt = Annotated[Optional[str], typer.Option("--extract", help="Verdict extraction preset "
                                                                     "(mt-bench, rating, output-ab, score).")]


def _fail(exc: BaseException, debug: bool) -> None:
    if debug:
        raise exc
    msg = " ".join(str(exc).split())
    sys.stderr.write(textwrap.fill(f"error: {msg}", width=100, break_long_words=False,
                                   break_on_hyphens=False) + "\n")
    raise typer.Exit(1)


def _parse_sets(sets: list[str] | None, flag: str = "--set") -> dict[str, str]:
    out: dict[str, str] = {}
    for s in sets or []:
        if "=" not in s:
            raise typer.BadParameter(f"{flag} expects KEY=VALUE, got {s!r}", param_hint=flag)
        key, value = s.split("=", 1)
        out[key.strip()] = value
    return out


def _build_config(config: Path | None, sets: list[str] | None, gold: Path | str | None, judge: list[str] | None,
                  scale: str | None, levels: str | None, item: str | None, rater: str | None, label: str | None,
                  judge_label: str | None, judge_text: str | None, extract: str | None) -> Any:
    from .config import apply_overrides, config_from_dict, load_config

    overrides = _parse_sets(sets)
    flags = {"--gold": gold, "--judge": judge, "--scale": scale, "--levels": levels, "--item": item,
             "--rater": rater, "--label": label, "--judge-label": judge_label, "--judge-text": judge_text,
             "--extract": extract}
    given = [k for k, v in flags.items() if v]
    if config is not None and given:
        raise typer.BadParameter(f"{', '.join(given)} describe the data without a config; with a CONFIG file, "
                                 "change the data with --set KEY=VALUE instead", param_hint="CONFIG")
    if config is not None:
        cfg = load_config(config)
    else:
        if gold is None or not judge:
            raise typer.BadParameter("give a CONFIG file, or --gold and at least one --judge NAME=PATH",
                                     param_hint="CONFIG")
        if scale is None:
            raise typer.BadParameter("without a config, --scale is required", param_hint="--scale")
        judges = []
        for j in judge:
            if "=" not in j:
                raise typer.BadParameter(f"--judge expects NAME=PATH, got {j!r}", param_hint="--judge")
            name, path = j.split("=", 1)
            cols: dict[str, Any] = {}
            if item:
                cols["item"] = item
            if judge_text:
                cols["text"] = judge_text
            elif judge_label:
                cols["label"] = judge_label
            entry: dict[str, Any] = {"name": name, "path": str(Path(path).resolve()), "columns": cols}
            if extract:
                entry["extract"] = extract
            judges.append(entry)
        gcols: dict[str, Any] = {}
        if item:
            gcols["item"] = item
        if rater:
            gcols["rater"] = rater
        if label:
            gcols["label"] = label
        sc: dict[str, Any] = {"kind": scale}
        if levels:
            sc["levels"] = [v.strip() for v in levels.split(",")]
        cfg = config_from_dict({"scale": sc, "gold": {"path": str(Path(gold).resolve()), "columns": gcols},
                                "judges": judges}, base_dir=Path.cwd())
    if overrides:
        cfg = apply_overrides(cfg, overrides)
    return cfg


@app.command()
def report(config: ConfigArg = None, output: Annotated[Path, typer.Option("--output", "-o",
                                                                          help="Output folder.")] = Path("reports/run"),
           seed: SeedOpt = None, n_resamples: ResOpt = None, quiet: QuietOpt = False, debug: DebugOpt = False,
           set_: SetOpt = None, gold: GoldOpt = None, judge: JudgeOpt = None, scale: ScaleOpt = None,
           levels: LevelsOpt = None, item: ItemOpt = None, rater: RaterOpt = None, label: LabelOpt = None,
           judge_label: JLabelOpt = None, judge_text: JTextOpt = None, extract: ExtractOpt = None,
           probe_: ProbeOpt = None, data_dir: DataDirOpt = None, gold_option: GoldOptionOpt = None,
           engine: Annotated[Optional[str], typer.Option("--engine", help="local or dask: reduce every judge's "
                                                                          "files (a file, a folder or a glob of "
                                                                          "Parquet shards) to count tables, in "
                                                                          "this process or on Dask workers, and "
                                                                          "report agreement, coverage and leniency "
                                                                          "from them. Default: the full in-memory "
                                                                          "analysis, or local when a judge path "
                                                                          "is a folder or glob.")] = None,
           scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Address of a running Dask "
                                                                             "scheduler (with --engine dask; "
                                                                             "default: a local cluster).")] = None,
           figures: Annotated[str, typer.Option("--figures", help="Figure files to write besides the "
                                                                  "inline SVG: none, or a comma list of svg, "
                                                                  "pdf, png.")] = "none",
           from_: Annotated[Optional[Path], typer.Option("--from", help="Re-render the report of an earlier "
                                                                        "run from its results.json (or its report "
                                                                        "folder) without recomputing; no CONFIG "
                                                                        "or data flags.")] = None,
           ) -> None:
    """Write DIR/report.html, DIR/results.json and DIR/tables/*.csv for a config, or re-render them (--from).

    With --from RESULTS (a results.json or the report folder holding it) nothing is recomputed: the report is
    rendered again from the stored results, byte for byte what the run wrote. With --gold NAME --data-dir DIR
    the data is a registered public gold set (metajudge gold list), read from DIR.
    """
    from .errors import MetajudgeError
    from .report.html import FIGURE_FORMATS

    figs = tuple(f.strip() for f in figures.split(",") if f.strip() and f.strip() != "none")
    bad = [f for f in figs if f not in FIGURE_FORMATS]
    if bad:
        raise typer.BadParameter(f"unknown figure format(s) {bad}; use none or a comma list of "
                                 f"{', '.join(FIGURE_FORMATS)}", param_hint="--figures")
    if from_ is not None:
        flags = {"CONFIG": config, "--set": set_, "--seed": seed, "--n-resamples": n_resamples, "--probe": probe_,
                 "--gold": gold, "--judge": judge, "--scale": scale, "--levels": levels, "--item": item,
                 "--rater": rater, "--label": label, "--judge-label": judge_label, "--judge-text": judge_text,
                 "--extract": extract, "--data-dir": data_dir, "--gold-option": gold_option, "--engine": engine,
                 "--scheduler": scheduler}
        given = [k for k, v in flags.items() if v is not None and v != []]
        if given:
            raise typer.BadParameter(f"--from re-renders a finished run and cannot be combined with "
                                     f"{', '.join(given)}; to recompute, give a CONFIG (or --gold/--judge) "
                                     "without --from", param_hint="--from")
        _rerender(from_, output, figs, quiet, debug)
        return
    if data_dir is not None or gold_option:
        flags = {"CONFIG": config, "--set": set_, "--judge": judge, "--scale": scale, "--levels": levels,
                 "--item": item, "--rater": rater, "--label": label, "--judge-label": judge_label,
                 "--judge-text": judge_text, "--extract": extract}
        given = [k for k, v in flags.items() if v is not None and v != []]
        if given:
            raise typer.BadParameter(f"--gold NAME --data-dir DIR runs a registered gold set as its adapter "
                                     f"reads it, and cannot be combined with {', '.join(given)}",
                                     param_hint="--data-dir")
        if gold is None or data_dir is None:
            raise typer.BadParameter("a registered gold set needs both --gold NAME and --data-dir DIR "
                                     "(metajudge gold list shows the names)", param_hint="--gold")
    try:
        from .pipeline import run
        from .report import write_report

        names = _probe_names(probe_)
        if engine is not None and engine not in ("local", "dask"):
            raise typer.BadParameter(f"unknown engine {engine!r}; use local or dask", param_hint="--engine")
        if scheduler and engine != "dask":
            raise typer.BadParameter("--scheduler needs --engine dask", param_hint="--scheduler")
        if engine is not None and data_dir is not None:
            raise typer.BadParameter("a registered gold set runs the full in-memory analysis; --engine is for "
                                     "configs whose judges are large Parquet files or shards", param_hint="--engine")
        if data_dir is not None:
            from .goldsets import run_gold_set

            analysis = run_gold_set(str(gold), data_dir, options=_parse_sets(gold_option, "--gold-option"),
                                    seed=0 if seed is None else seed,
                                    n_resamples=1000 if n_resamples is None else n_resamples,
                                    probes=names if names is not None else "default", quiet=quiet)
        else:
            cfg = _build_config(config, set_, gold, judge, scale, levels, item, rater, label, judge_label,
                                judge_text, extract)
            from .engine import is_sharded, run_sharded

            if engine is not None or is_sharded(cfg):
                if names is not None:
                    raise typer.BadParameter("the count-table engine runs the leniency rows only; --probe needs "
                                             "the full in-memory analysis (no --engine, judge paths that are "
                                             "files)", param_hint="--probe")
                import pyarrow as pa

                # the system allocator gives freed Arrow buffers back at once (jemalloc keeps them a while):
                # peak memory for a 1e7-row log drops by about 100 MB
                pa.set_memory_pool(pa.system_memory_pool())
                analysis = run_sharded(cfg, engine=engine or "local", scheduler=scheduler, seed=seed,
                                       n_resamples=n_resamples, quiet=quiet)
            else:
                analysis = run(cfg, seed=seed, n_resamples=n_resamples, quiet=quiet,
                               probes=names if names is not None else "config", strict_probes=names is not None)
        _write(write_report, analysis, output, figures=figs)
    except MetajudgeError as exc:
        _fail(exc, debug)
        return
    if not quiet:
        _summary(analysis)
        html = Path(output) / "report.html"
        sys.stderr.write(f"wrote {html}, {Path(output) / 'results.json'}, {Path(output) / 'tables'}/\n")


def _rerender(source: Path, output: Path, figs: tuple[str, ...], quiet: bool, debug: bool) -> None:
    """``report --from``: read results.json and write the report folder again, recomputing nothing."""
    from .errors import MetajudgeError

    try:
        from .report import write_report
        from .report.load import load_run

        analysis, path = load_run(source)
        out = Path(output)
        if out.resolve() == path.parent.resolve() and not quiet:
            sys.stderr.write(f"re-rendering in place: {path} is rewritten (the same content)\n")
        _write(write_report, analysis, out, figures=figs)
    except MetajudgeError as exc:
        _fail(exc, debug)
        return
    if not quiet:
        _summary(analysis)
        sys.stderr.write(f"re-rendered {path} -> {out / 'report.html'}, {out / 'results.json'}, {out / 'tables'}/\n")


def _write(fn: Any, *args: Any, **kw: Any) -> Any:
    """Call a writer, turning file-system errors into an InputError that names the folder."""
    from .errors import InputError

    try:
        return fn(*args, **kw)
    except OSError as exc:
        where = Path(exc.filename).resolve() if getattr(exc, "filename", None) else "the output folder"
        raise InputError(f"cannot write the report to {where}: {exc.strerror or exc}. Choose another --output "
                         "folder (it must be a folder you can write to, not a file).") from None


def _summary(analysis: Any) -> None:
    from .analysis import HEADLINE
    from .results import display_name

    cov = analysis.coverage
    for _, r in cov.iterrows():
        if r["kind"] == "gold":
            sys.stderr.write(f"coverage  gold {r['rows']:,} rows / {r['items']:,} items\n")
        else:
            sys.stderr.write(f"coverage  {r['source']}: {r['matched_items']:,} matched, {r['missing_in_judge']:,} "
                             f"missing, {r['unparseable']:,} unparseable, {r['duplicate_rows']:,} duplicate rows\n")
    res = analysis.results
    metric = next((m for m in HEADLINE[analysis.scale.kind] if (res["metric"] == m).any()), None)
    if metric is None:
        return

    def fmt(rows: Any) -> str:
        if rows.empty:
            return "—"
        r = rows.iloc[0]
        if r["estimate"] != r["estimate"]:
            return "undefined"
        ci = "" if r["ci_low"] != r["ci_low"] else f" [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
        return f"{r['estimate']:.2f}{ci}"

    sel = res[(res["metric"] == metric) & (res["slice"] == "all") & res["level"].isin(["item", "dataset"])]
    ceiling = fmt(sel[(sel["section"] == "ceiling") & (sel["judge"] == "human_ceiling")])
    for judge in analysis.coverage.loc[analysis.coverage["kind"] == "judge", "source"]:
        own = fmt(sel[(sel["section"] == "agreement") & (sel["judge"] == judge)])
        same_ref = fmt(sel[(sel["section"] == "ceiling") & (sel["judge"] == judge)])
        sys.stderr.write(f"agreement {judge}  {display_name(metric)} {own}  · vs leave-one-out references "
                         f"{same_ref} (human ceiling {ceiling})\n")


@app.command()
def agree(config: ConfigArg = None,
          fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
          seed: SeedOpt = None, n_resamples: ResOpt = None, quiet: QuietOpt = False, debug: DebugOpt = False,
          set_: SetOpt = None, gold: GoldOpt = None, judge: JudgeOpt = None, scale: ScaleOpt = None,
          levels: LevelsOpt = None, item: ItemOpt = None, rater: RaterOpt = None, label: LabelOpt = None,
          judge_label: JLabelOpt = None, judge_text: JTextOpt = None, extract: ExtractOpt = None) -> None:
    """Print the agreement table (judges, human ceiling, baselines) to stdout."""
    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter(f"--format must be table, csv or json; got {fmt!r}", param_hint="--format")
    from .errors import MetajudgeError

    try:
        cfg = _build_config(config, set_, gold, judge, scale, levels, item, rater, label, judge_label,
                            judge_text, extract)
        from .pipeline import run

        analysis = run(cfg, seed=seed, n_resamples=n_resamples, quiet=quiet, probes=[])
    except MetajudgeError as exc:
        _fail(exc, debug)
        return
    res = analysis.results
    _emit(res[res["section"].isin(["agreement", "ceiling", "baseline"])], fmt)


def _emit(res: Any, fmt: str) -> None:
    """Write result rows to stdout as a text table, CSV or JSON (NaN as null)."""
    if fmt == "csv":
        sys.stdout.write(res.to_csv(index=False, float_format="%.10g", lineterminator="\n"))
    elif fmt == "json":
        import json
        import math

        recs = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
                for r in res.to_dict(orient="records")]
        sys.stdout.write(json.dumps(recs, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(format_table(res) + "\n")


ProbeOpt = Annotated[Optional[str], typer.Option("--probe", help="Comma list of probes: position, length, "
                                                                  "self_preference, leniency, system "
                                                                  "(default: every probe the data allows).")]


def _probe_names(probe: str | None) -> list[str] | None:
    from .probes import PROBES

    if probe is None:
        return None
    names = [p.strip() for p in probe.split(",") if p.strip()]
    bad = [p for p in names if p not in PROBES]
    if bad or not names:
        raise typer.BadParameter(f"unknown probe(s) {bad}; choose from {', '.join(PROBES)}", param_hint="--probe")
    return names


@app.command()
def probe(config: ConfigArg = None, probe_: ProbeOpt = None,
          fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
          seed: SeedOpt = None, n_resamples: ResOpt = None, quiet: QuietOpt = False, debug: DebugOpt = False,
          set_: SetOpt = None, gold: GoldOpt = None, judge: JudgeOpt = None, scale: ScaleOpt = None,
          levels: LevelsOpt = None, item: ItemOpt = None, rater: RaterOpt = None, label: LabelOpt = None,
          judge_label: JLabelOpt = None, judge_text: JTextOpt = None, extract: ExtractOpt = None) -> None:
    """Run the bias probes (position, length, self-preference, leniency, system) and print their estimates."""
    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter(f"--format must be table, csv or json; got {fmt!r}", param_hint="--format")
    names = _probe_names(probe_)
    from .errors import MetajudgeError

    try:
        cfg = _build_config(config, set_, gold, judge, scale, levels, item, rater, label, judge_label,
                            judge_text, extract)
        from .pipeline import run

        analysis = run(cfg, seed=seed, n_resamples=n_resamples, quiet=quiet,
                       probes=names if names is not None else "config", strict_probes=names is not None)
    except MetajudgeError as exc:
        _fail(exc, debug)
        return
    if not quiet:
        for pr in analysis.probes:
            for why in pr.skipped:
                sys.stderr.write(f"{pr.probe}: not measured: {why}\n")
    _emit(analysis.results[analysis.results["section"] == "probe"], fmt)


def format_table(res: Any) -> str:
    """Plain-text agreement table: one line per (section, rater, metric, level, slice)."""
    pct = f"{res['confidence_level'].iloc[0]:.0%}" if len(res) else "95%"
    head = f"{'section':<10} {'rater':<24} {'metric':<30} {'level':<8} {'slice':<18} {'estimate':>9}  {pct + ' CI':<19} {'n':>7}  note"
    lines = [head, "-" * len(head)]
    for _, r in res.iterrows():
        est = "—" if r["estimate"] != r["estimate"] else f"{r['estimate']:.4f}"
        ci = "" if r["ci_low"] != r["ci_low"] else f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]"
        lines.append(f"{r['section']:<10} {str(r['judge'])[:24]:<24} {r['metric'][:30]:<30} {r['level']:<8} "
                     f"{str(r['slice'])[:18]:<18} {est:>9}  {ci:<19} {r['n']:>7}  {r['note']}")
    return "\n".join(lines)


def _run_labels(titles: list[str], paths: list[Path]) -> list[str]:
    """Names of the compared runs: their titles when those differ, else the file stems, else the folder and
    stem, else the position ("run 1", ...)."""
    def distinct(xs: list[str]) -> bool:
        return all(xs) and len(set(xs)) == len(xs)

    stems = [p.stem if p.name != "results.json" else p.parent.name for p in paths]
    for cand in (titles, stems, [p.parent.name + "/" + p.stem for p in paths], [str(p) for p in paths]):
        if distinct(cand):
            return cand
    return [f"run {k + 1}" for k in range(len(paths))]


def format_leaderboard(board: Any) -> str:
    """Plain-text leaderboard: a line naming the metric, then rank, judge, run, estimate, CI and n."""
    import pandas as pd

    from .report.export import format_confidence
    from .results import display_name

    metric = ", ".join(dict.fromkeys(display_name(str(m)) for m in board["metric"]))
    levels = [str(v) for v in dict.fromkeys(board["level"]) if str(v) != "item"]
    ci = format_confidence(board["confidence_level"])
    width = max([len("judge"), *(len(str(j)) for j in board["judge"])])
    rwidth = max([len("run"), *(len(str(r)) for r in board["run"])])
    head = f"{'rank':>4}  {'judge':<{width}}  {'run':<{rwidth}}  {'estimate':>9}  {ci:<19} {'n':>7}"
    level = f" ({', '.join(levels)})" if levels else ""
    lines = [f"leaderboard by {metric}{level}, slice all", head, "-" * len(head)]
    for _, r in board.iterrows():
        rank = "" if pd.isna(r["rank"]) else str(int(r["rank"]))
        est = "—" if pd.isna(r["estimate"]) else f"{r['estimate']:.4f}"
        ci_t = "" if pd.isna(r["ci_low"]) or pd.isna(r["ci_high"]) else f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]"
        n = "" if pd.isna(r["n"]) else f"{int(r['n'])}"
        lines.append(f"{rank:>4}  {str(r['judge']):<{width}}  {str(r['run']):<{rwidth}}  {est:>9}  {ci_t:<19} {n:>7}")
    return "\n".join(lines)


def _leaderboard_html(board: Any, title: str) -> str:
    import pandas as pd
    from markupsafe import escape

    from .report.export import format_confidence
    from .results import display_name

    metric = ", ".join(dict.fromkeys(display_name(str(m)) for m in board["metric"]))
    ci = format_confidence(board["confidence_level"])
    rows = []
    for _, r in board.iterrows():
        rank = "" if pd.isna(r["rank"]) else str(int(r["rank"]))
        est = "—" if r["estimate"] != r["estimate"] else f"{r['estimate']:.3f}".replace("-", "\u2212")
        ci_t = "" if r["ci_low"] != r["ci_low"] else (f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
                                                      .replace("-", "\u2212"))
        n = "" if r["n"] != r["n"] else f"{int(r['n']):,}"
        cls = "" if str(r["kind"]) == "judge" else ' class="ceiling"'
        rows.append(f"<tr{cls}><td>{rank}</td><td>{escape(str(r['judge']))}</td><td>{escape(str(r['run']))}</td>"
                    f"<td class=num>{est}</td><td class=num>{ci_t}</td><td class=num>{n}</td></tr>")
    body = "\n".join(rows)
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + str(escape(title))
            + "</title><style>body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;"
            "padding:0 1rem}table{border-collapse:collapse}th,td{padding:.3rem .7rem;border-bottom:1px solid #ccc;"
            "text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}tr.ceiling td"
            "{font-style:italic}</style></head><body>\n<h1>" + str(escape(title)) + "</h1>\n<table><thead><tr>"
            f"<th>Rank</th><th>Judge</th><th>Run</th><th>{escape(metric)}</th><th>{escape(ci)}</th><th>n</th>"
            "</tr></thead><tbody>\n" + body + "\n</tbody></table>\n</body></html>\n")


@app.command()
def compare(runs: Annotated[list[Path], typer.Argument(help="Two or more results.json files (or report "
                                                            "folders) of runs on the same gold set.")],
            output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Also write "
                                                           "DIR/leaderboard.csv, .tex and .html.")] = None,
            fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
            quiet: QuietOpt = False, debug: DebugOpt = False) -> None:
    """One leaderboard (headline metric per judge, with its CI) from several runs on the same gold set."""
    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter(f"--format must be table, csv or json; got {fmt!r}", param_hint="--format")
    if len(runs) < 2:
        raise typer.BadParameter("compare needs at least two runs (results.json files or report folders)",
                                 param_hint="RUNS")
    from .errors import MetajudgeError

    try:
        from .report.export import leaderboard, leaderboard_to_latex
        from .report.load import RunMismatchError, check_comparable, load_run

        loaded = [load_run(r) for r in runs]
        paths = [p for _, p in loaded]
        check_comparable([(str(p), a) for a, p in loaded])
        labels = _run_labels([str(a.title) for a, _ in loaded], paths)
        try:
            board = leaderboard(list(zip(labels, [a for a, _ in loaded], strict=True)))
        except ValueError as exc:
            raise RunMismatchError(f"cannot build one leaderboard from {', '.join(map(str, paths))}: {exc}") from None
        if output is not None:
            out = Path(output)

            def write_all() -> None:
                out.mkdir(parents=True, exist_ok=True)
                (out / "leaderboard.csv").write_bytes(
                    board.to_csv(index=False, float_format="%.10g", lineterminator="\n").encode("utf-8"))
                (out / "leaderboard.tex").write_bytes(
                    ("% written by metajudge compare; needs \\usepackage{booktabs}\n" + leaderboard_to_latex(
                        board, caption="Judges of " + ", ".join(labels) + " ranked on one gold set.",
                        label="tab:leaderboard")).encode("utf-8"))
                (out / "leaderboard.html").write_bytes(
                    _leaderboard_html(board, "metajudge leaderboard: " + ", ".join(labels)).encode("utf-8"))

            _write(write_all)
    except MetajudgeError as exc:
        _fail(exc, debug)
        return
    if fmt == "table":
        sys.stdout.write(format_leaderboard(board) + "\n")
    elif fmt == "csv":
        sys.stdout.write(board.to_csv(index=False, float_format="%.10g", lineterminator="\n"))
    else:
        import json

        from .report.export import records

        sys.stdout.write(json.dumps(records(board), indent=2, ensure_ascii=False) + "\n")
    if not quiet and output is not None:
        sys.stderr.write(f"wrote {out / 'leaderboard.csv'}, {out / 'leaderboard.tex'}, {out / 'leaderboard.html'}\n")


@app.command("figures")
def figures_cmd(run: Annotated[Path, typer.Argument(help="results.json of a run, or the report folder that "
                                                         "holds it.")],
                output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output folder "
                                                               "(default: RUN's folder/paper).")] = None,
                fmt: Annotated[str, typer.Option("--format", "-f", help="Comma list of pdf, svg, png.")]
                = "pdf,svg,png",
                width: Annotated[str, typer.Option("--width", help="one (3.5 in), two (7.16 in) or both.")]
                = "both",
                quiet: QuietOpt = False, debug: DebugOpt = False) -> None:
    """Paper figures (one- and two-column widths) and LaTeX tables of a run, without recomputing."""
    from .figures import FIGURE_FORMATS, WIDTH_CHOICES

    formats = [f.strip().lower() for f in fmt.split(",") if f.strip()]
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad or not formats:
        raise typer.BadParameter(f"unknown figure format(s) {bad}; use a comma list of "
                                 f"{', '.join(FIGURE_FORMATS)}", param_hint="--format")
    if width not in WIDTH_CHOICES:
        raise typer.BadParameter(f"--width must be one of {', '.join(WIDTH_CHOICES)}; got {width!r}",
                                 param_hint="--width")
    from .errors import MetajudgeError

    try:
        from .figures import write_paper
        from .report.load import load_run

        analysis, path = load_run(run)
        out = Path(output) if output is not None else path.parent / "paper"
        written = _write(write_paper, analysis, out, formats=formats, widths=width)
    except MetajudgeError as exc:
        _fail(exc, debug)
        return
    if not quiet:
        n_tex = sum(1 for k in written if k.endswith(".tex"))
        sys.stderr.write(f"wrote {len(written) - n_tex} figure files and {n_tex} LaTeX tables to {out}/\n")


@app.command()
def demo(output: Annotated[Path, typer.Option("--output", "-o", help="Output folder.")] = Path("reports/demo"),
         seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation and the bootstrap.")] = 0,
         n_resamples: ResOpt = None, quiet: QuietOpt = False, debug: DebugOpt = False) -> None:
    """Simulate the bundled demo (pointwise and pairwise tasks) and write its full reports."""
    from .errors import MetajudgeError

    try:
        from .config import load_config
        from .demo import simulate_demo
        from .pipeline import run
        from .report import write_report

        output = Path(output)
        configs = _write(simulate_demo, output / "data", seed=seed)
        written = []
        for task, cfg_path in configs.items():
            cfg = load_config(cfg_path)
            analysis = run(cfg, seed=seed, n_resamples=n_resamples, quiet=quiet)
            _write(write_report, analysis, output / task)
            written.append((task, output / task / "report.html"))
            if not quiet:
                _summary(analysis)
        index = output / "index.html"
        items = "\n".join(f'<li><a href="{t}/report.html">{t}</a></li>' for t, _ in written)
        _write(lambda p, t: p.write_text(t, encoding="utf-8"), index,
               "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>metajudge demo</title></head>"
               f"<body><main><h1>metajudge demo</h1><ul>\n{items}\n</ul></main></body></html>\n")
    except MetajudgeError as exc:
        _fail(exc, debug)
        return
    if not quiet:
        for task, p in written:
            sys.stderr.write(f"wrote {p} ({p.stat().st_size / 1e6:.1f} MB), results.json, tables/\n")
        sys.stderr.write(f"index: {index}\n")


gold_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="The registry of public gold sets: list them, show one's data card.")
app.add_typer(gold_app, name="gold")


@gold_app.command("list")
def gold_list(fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table") -> None:
    """List the registered public gold sets (name, task, scale, license, where the data lives)."""
    import pandas as pd

    from .goldsets import registry

    rows = [{"name": s.name, "title": s.title, "task": s.task, "scale": s.scale, "license": s.license,
             "location": s.location} for s in registry().values()]
    df = pd.DataFrame(rows)
    if fmt == "csv":
        sys.stdout.write(df.to_csv(index=False, lineterminator="\n"))
    elif fmt == "json":
        import json

        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    elif fmt == "table":
        for r in rows:
            sys.stdout.write(f"{r['name']:<22} {r['title']}\n{'':<22} {r['scale']}; license {r['license']}\n"
                             f"{'':<22} data: {r['location']}\n")
        sys.stdout.write("\nrun one: metajudge report --gold NAME --data-dir DIR; details: metajudge gold show NAME\n")
    else:
        raise typer.BadParameter(f"unknown format {fmt!r}; use table, csv or json", param_hint="--format")


@gold_app.command("show")
def gold_show(name: Annotated[str, typer.Argument(help="Registered gold-set name (metajudge gold list).")],
              debug: DebugOpt = False) -> None:
    """Show a gold set's registry entry (files read, options) and its data card."""
    from .errors import MetajudgeError
    from .goldsets import card_text, get_spec

    try:
        spec = get_spec(name)
        head = [f"name:     {spec.name}", f"title:    {spec.title}", f"paper:    {spec.paper}",
                f"license:  {spec.license}", f"data:     {spec.location}", f"folder:   {spec.folder}/",
                f"files:    {', '.join(spec.files) or '(see layout)'}", f"task:     {spec.task}",
                f"scale:    {spec.scale}"]
        if spec.layout_note:
            head.append(f"layout:   {spec.layout_note}")
        for k, v in spec.options.items():
            head.append(f"option:   {k}: {v}")
        head.append(f"run:      metajudge report --gold {spec.name} --data-dir DIR")
        try:
            card = card_text(spec.name)
        except MetajudgeError as exc:
            card = f"(no data card: {exc})"
    except MetajudgeError as exc:
        _fail(exc, debug)
        return
    sys.stdout.write("\n".join(head) + "\n\n" + card.rstrip("\n") + "\n")


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
