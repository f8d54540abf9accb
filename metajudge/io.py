"""Reading gold sets and judge outputs into standardized long frames.

:func:`read_frame` reads any supported source into a plain DataFrame; :func:`load_gold` and
:func:`load_judge` apply a configuration (column names, layout, verdict extraction) and return the
standardized long frames that alignment consumes.

Supported sources: CSV, TSV, JSON (a list of records or ``{column: [values]}``), JSONL, Parquet, a pandas
DataFrame, a ``datasets.Dataset`` / ``DatasetDict``, a ``save_to_disk`` folder, and a Hugging Face hub name.
``datasets`` is imported only when one of the last three is used.

Standardized gold frame (:func:`load_gold`)
    ``item_id`` (str), ``rater`` (str), ``label`` (object, raw as read), ``row`` (int, 1-based position of
    the record among the source's data records: header and blank lines not counted), and when configured
    ``system``, ``generator_a``, ``generator_b``, ``text_a``, ``text_b``, ``length_a``, ``length_b`` and one
    column per slice (str; a missing slice value becomes ``"(missing)"`` so group-bys never drop it).

Standardized judge frame (:func:`load_judge`)
    As above with ``rater`` = the judge name, plus ``raw`` (raw text when a verdict was extracted, else
    ``None``), ``parse_ok`` (False when text was present but no verdict could be extracted),
    ``parse_reason`` (``""``, ``"no match"``, ``"ambiguous"`` or ``"missing"``), ``order`` (``"AB"``,
    ``"BA"`` or ``None``) and ``repeat`` (str or ``None``).

``df.attrs`` holds ``source`` (display path or name), ``sha256`` (of the file bytes, ``None`` for in-memory
data and hub names) and ``missing_cells`` (wide gold: empty annotator cells that were left out).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .errors import ConfigError, InputError

if TYPE_CHECKING:  # pragma: no cover
    from .config import GoldConfig, JudgeConfig

__all__ = [
    "FORMATS",
    "ORDER_VALUES",
    "load_gold",
    "load_judge",
    "normalize_order",
    "read_frame",
    "sha256_of",
]

FormatName = Literal["auto", "csv", "tsv", "json", "jsonl", "parquet", "hf"]

#: File suffix -> format.
FORMATS: dict[str, str] = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
}
_HF_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")
_SUPPORTED = ("csv, tsv (.tsv/.tab), json, jsonl (.jsonl/.ndjson), parquet (.parquet/.pq), "
              "hf (a save_to_disk folder or a Hugging Face hub name)")

#: Accepted spellings of a shown order (case-insensitive) -> ``"AB"`` (item's A shown first) / ``"BA"``.
ORDER_VALUES: dict[str, str] = {
    "ab": "AB", "ba": "BA",
    "original": "AB", "swapped": "BA",
    "0": "AB", "1": "BA",
    "false": "AB", "true": "BA",
    "a_first": "AB", "b_first": "BA",
}

#: Placeholder for a missing slice value (so it forms its own group instead of vanishing).
MISSING_SLICE = "(missing)"

_RESERVED = ("item_id", "rater", "label", "row", "raw", "parse_ok", "parse_reason", "order", "repeat")
_OPTIONAL = ("system", "generator_a", "generator_b", "text_a", "text_b", "length_a", "length_b", "group")


# ---------------------------------------------------------------------------------------------- reading


def _is_hf(obj: Any, *names: str) -> bool:
    mod = sys.modules.get("datasets")
    if mod is None:
        return False
    return any(isinstance(obj, getattr(mod, n)) for n in names if hasattr(mod, n))


def _import_datasets(what: str) -> Any:
    try:
        import datasets
    except ImportError:
        raise InputError(f"{what}: reading Hugging Face datasets needs the 'datasets' package, which is not "
                         "installed; install it with pip install 'metajudge[hf]'.") from None
    return datasets


def _from_dataset_dict(dd: Mapping[str, Any], split: str | None, what: str, shown: str) -> Any:
    splits = list(dd.keys())
    if split is not None:
        if split not in dd:
            raise InputError(f"{what} ({shown}): split {split!r} not found; splits present: "
                             f"{', '.join(splits)}. Set split: to one of them.")
        return dd[split]
    if len(splits) == 1:
        return dd[splits[0]]
    raise InputError(f"{what} ({shown}): the dataset has {len(splits)} splits ({', '.join(splits)}) and no split "
                     "was chosen; set split: to one of them.")


def _hf_to_frame(obj: Any, split: str | None, what: str, shown: str) -> pd.DataFrame:
    if _is_hf(obj, "DatasetDict", "IterableDatasetDict"):
        obj = _from_dataset_dict(obj, split, what, shown)
    if _is_hf(obj, "IterableDataset"):
        raise InputError(f"{what} ({shown}): a streaming IterableDataset cannot be read; load it without "
                         "streaming=True, or save it with save_to_disk and point path: at the folder.")
    return obj.to_pandas()


def _open_text(path: Path) -> Any:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")  # closed by the caller's with-block


def _detect_format(path: Path, what: str) -> str:
    if path.is_dir():
        if any((path / m).exists() for m in _HF_MARKERS):
            return "hf"
        raise InputError(f"{what} ({path}): is a folder, but not a Hugging Face save_to_disk folder (none of "
                         f"{', '.join(_HF_MARKERS)} in it). Point path: at a data file, or at a folder written "
                         "by Dataset.save_to_disk.")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise InputError(f"{what} ({path}): cannot tell the format from the suffix "
                         f"{path.suffix or '(none)'!r}; supported formats: {_SUPPORTED}. Set format: (e.g. "
                         "format: csv) in the configuration to read it anyway.")
    return fmt


def _read_csv_arrow(path: Path, sep: str, string_columns: Sequence[str]) -> pd.DataFrame | None:
    """CSV/TSV through pyarrow's multithreaded reader, with pandas' conventions (the same missing-value
    spellings, empty strings missing, ``string_columns`` kept as text); ``None`` when the file needs pandas'
    reader (a parse error, values pyarrow would read as dates or times), which then reads it or explains the
    error."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if path.suffix.lower() == ".gz" or path.stat().st_size < 1 << 20:
        return None  # small files: pandas is as fast and its messages are the reference
    try:
        t = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=sep),
                          convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in string_columns},
                                                              strings_can_be_null=True))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowKeyError, UnicodeDecodeError):
        return None
    if any(pa.types.is_temporal(f.type) or pa.types.is_decimal(f.type) for f in t.schema):
        return None
    if len(set(t.column_names)) != len(t.column_names):
        return None  # duplicate headers: pandas renames them (a.1)
    return t.to_pandas()


def _read_csv(path: Path, sep: str, string_columns: Sequence[str], what: str) -> pd.DataFrame:
    kind = "TSV" if sep == "\t" else "CSV"
    fast = _read_csv_arrow(path, sep, string_columns)
    if fast is not None:
        return fast
    try:
        return pd.read_csv(path, sep=sep, dtype={c: str for c in string_columns} or None,
                           encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} ({path}): the file is empty: no rows (and no header). Check that it is the "
                         "right file.") from None
    except pd.errors.ParserError as exc:
        reason = str(exc).strip().splitlines()[-1]
        raise InputError(f"{what} ({path}): not a valid {kind} file: {reason}. Fix that line (a field with "
                         f"the separator {sep!r} or a newline must be quoted), or set format: if it is not "
                         f"{kind}.") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} ({path}): not UTF-8 text ({exc.reason} at byte {exc.start}); re-save the "
                         "file as UTF-8.") from None


def _read_json(path: Path, what: str) -> pd.DataFrame:
    try:
        with _open_text(path) as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} ({path}): not valid JSON at line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg}. If the file holds one JSON object per line, name it .jsonl or set "
                         "format: jsonl.") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} ({path}): not UTF-8 text ({exc.reason} at byte {exc.start}); re-save the "
                         "file as UTF-8.") from None
    if isinstance(data, list):
        for i, rec in enumerate(data):
            if not isinstance(rec, dict):
                raise InputError(f"{what} ({path}): record {i + 1} of the JSON list is a "
                                 f"{type(rec).__name__}, not an object; a JSON file must hold a list of "
                                 "objects ([{\"item_id\": ..., ...}, ...]) or an object of columns "
                                 "({\"item_id\": [...], ...}).")
        return pd.DataFrame.from_records(data) if data else pd.DataFrame()
    if isinstance(data, dict):
        lengths = {k: len(v) for k, v in data.items() if isinstance(v, list)}
        if data and len(lengths) == len(data) and len(set(lengths.values())) == 1:
            return pd.DataFrame(data)
        if data and len(lengths) == len(data):
            raise InputError(f"{what} ({path}): the JSON object of columns has columns of different lengths: "
                             f"{lengths}; every column list must have one value per row.")
        raise InputError(f"{what} ({path}): the JSON object is not a table: expected a list of records "
                         "([{...}, ...]) or an object of equally long column lists ({\"col\": [...]}); found "
                         f"an object with keys {list(data)[:8]}. Extract the table into its own file.")
    raise InputError(f"{what} ({path}): the JSON file holds a {type(data).__name__}, not a table; expected a "
                     "list of records or an object of column lists.")


def _read_jsonl_arrow(path: Path) -> pd.DataFrame | None:
    """JSONL through pyarrow's reader when every field is a plain value (text, number, boolean, null);
    ``None`` otherwise (nested values, mixed types, an invalid line): the line-by-line reader then reads the file
    or names the bad line."""
    import pyarrow as pa
    import pyarrow.json as pjson

    if path.suffix.lower() == ".gz" or path.stat().st_size < 1 << 20:
        return None
    try:
        t = pjson.read_json(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    plain = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_floating,
             pa.types.is_boolean, pa.types.is_null)
    if not all(any(f(field.type) for f in plain) for field in t.schema):
        return None
    return t.to_pandas()


def _read_jsonl(path: Path, what: str) -> pd.DataFrame:
    fast = _read_jsonl_arrow(path)
    if fast is not None:
        return fast
    records: list[dict[str, Any]] = []
    try:
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    snippet = line.strip()
                    snippet = snippet if len(snippet) <= 80 else snippet[:77] + "..."
                    raise InputError(f"{what} ({path}), line {lineno}: not valid JSON ({exc.msg} at column "
                                     f"{exc.colno}); the line reads {snippet!r}. Each line of a JSONL file "
                                     "must hold one JSON object; fix or remove that line.") from None
                if not isinstance(rec, dict):
                    raise InputError(f"{what} ({path}), line {lineno}: holds a {type(rec).__name__}, not a "
                                     "JSON object; each line of a JSONL file must be one object "
                                     "({\"item_id\": ..., ...}).")
                records.append(rec)
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} ({path}): not UTF-8 text ({exc.reason} at byte {exc.start}); re-save the "
                         "file as UTF-8.") from None
    return pd.DataFrame.from_records(records) if records else pd.DataFrame()


def _read_parquet(path: Path, what: str) -> pd.DataFrame:
    import pyarrow as pa

    try:
        return pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{what} ({path}): cannot be read as Parquet: {reason}. Check that the file is "
                         "complete, or set format: if it is not Parquet.") from None


def _read_hf_disk(path: Path, split: str | None, what: str) -> pd.DataFrame:
    datasets = _import_datasets(what)
    try:
        obj = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{what} ({path}): cannot be read as a Hugging Face save_to_disk folder: {reason}."
                         ) from None
    return _hf_to_frame(obj, split, what, str(path))


def _read_hf_hub(name: str, split: str | None, what: str) -> pd.DataFrame:
    datasets = _import_datasets(what)
    try:
        obj = datasets.load_dataset(name, split=split)
    except Exception as exc:  # the hub client raises many unrelated types; re-raised as InputError
        lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
        reason = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
        raise InputError(f"{what}: the dataset {name!r} could not be loaded from the Hugging Face hub "
                         f"({reason}). If this machine is offline or the name is wrong, load it where the hub "
                         "is reachable, save it with Dataset.save_to_disk(folder), and point path: at that "
                         "folder.") from exc
    return _hf_to_frame(obj, split, what, f"hf:{name}")


def read_frame(source: str | os.PathLike[str] | pd.DataFrame | Any, *, format: FormatName = "auto",
               split: str | None = None, what: str = "input",
               string_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a table from a file, folder, hub name or in-memory object.

    Parameters
    ----------
    source : path, DataFrame, datasets.Dataset or datasets.DatasetDict
        A file (format from its suffix unless ``format`` is given; ``.gz`` text files are decompressed), a
        ``save_to_disk`` folder, a Hugging Face hub name (with ``format="hf"``, when no such local path
        exists), or an in-memory table (a DataFrame is copied).
    format : {"auto", "csv", "tsv", "json", "jsonl", "parquet", "hf"}
    split : str, optional
        Split of a ``DatasetDict`` / hub dataset; required when there are several.
    what : str
        How to name the source in error messages, e.g. ``"judge 'gpt-judge'"``.
    string_columns : sequence of str
        Columns to read as text from CSV / TSV (so an id ``007`` stays ``"007"``); absent ones are ignored.

    Returns
    -------
    DataFrame
        With a fresh ``RangeIndex``; ``attrs["source"]`` names the source.

    Raises
    ------
    InputError
        Missing file, unknown suffix, parse error (JSONL: with the 1-based line number), no rows, hub
        dataset that cannot be loaded.
    """
    if isinstance(source, pd.DataFrame):
        df = source.copy()
        shown = "<DataFrame>"
    elif _is_hf(source, "Dataset", "DatasetDict", "IterableDataset", "IterableDatasetDict"):
        shown = f"<datasets.{type(source).__name__}>"
        df = _hf_to_frame(source, split, what, shown)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if format == "hf" and isinstance(source, str) and not path.exists():
            df = _read_hf_hub(source, split, what)
            shown = f"hf:{source}"
        else:
            shown = str(path)
            if not path.exists():
                raise InputError(f"{what}: file not found: {path.resolve()} (current directory: {Path.cwd()}). "
                                 "Check the path; relative paths in a configuration file are relative to the "
                                 "file's folder.")
            fmt = _detect_format(path, what) if format == "auto" else format
            if fmt != "hf" and path.is_dir():
                raise InputError(f"{what} ({path}): is a folder, but format is {fmt!r}; point path: at a file.")
            if fmt != "hf" and path.stat().st_size == 0:
                raise InputError(f"{what} ({path}): the file is empty: no rows. Check that it is the right file.")
            if fmt == "csv":
                df = _read_csv(path, ",", string_columns, what)
            elif fmt == "tsv":
                df = _read_csv(path, "\t", string_columns, what)
            elif fmt == "json":
                df = _read_json(path, what)
            elif fmt == "jsonl":
                df = _read_jsonl(path, what)
            elif fmt == "parquet":
                df = _read_parquet(path, what)
            elif fmt == "hf":
                if not path.is_dir():
                    raise InputError(f"{what} ({path}): format 'hf' needs a save_to_disk folder or a hub name, "
                                     "but this is a file; set format: to the file's format.")
                df = _read_hf_disk(path, split, what)
            else:
                raise InputError(f"{what} ({path}): unknown format {fmt!r}; supported: {_SUPPORTED}.")
    else:
        raise InputError(f"{what}: cannot read a {type(source).__name__}; pass a file path, a pandas DataFrame "
                         "or a datasets.Dataset.")
    if len(df) == 0:
        raise InputError(f"{what} ({shown}): no rows. The source holds {len(df.columns)} column(s) but no data; "
                         "check the file or the split.")
    df = df.reset_index(drop=True)
    df.attrs = {"source": shown}
    return df


def sha256_of(source: Any) -> str | None:
    """SHA-256 of a file's bytes; for a folder, of its files in sorted order (relative path and bytes).

    Returns ``None`` for in-memory objects and for strings that name no existing path (hub names).
    """
    if not isinstance(source, (str, os.PathLike)):
        return None
    path = Path(source).expanduser()
    if path.is_file():
        return _hash_file(path, hashlib.sha256()).hexdigest()
    if path.is_dir():
        h = hashlib.sha256()
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(f.relative_to(path).as_posix().encode("utf-8") + b"\0")
            h.update(_hash_file(f, hashlib.sha256()).digest())
        return h.hexdigest()
    return None


def _hash_file(path: Path, h: Any) -> Any:
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h


# ---------------------------------------------------------------------------------------------- value helpers


def _id_str(value: Any) -> str | None:
    """Text form of an id: ``3.0`` -> ``"3"``, ``"007"`` stays ``"007"``, missing -> ``None``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        s = value.strip()
        return s or None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip() or None
    return str(value)


def _ids(series: pd.Series) -> pd.Series:
    return pd.Series([_id_str(v) for v in series.tolist()], index=series.index, dtype=object)


def _raw(series: pd.Series) -> pd.Series:
    """The column as an object Series, with missing values as ``None`` (pandas 3 str columns use NaN)."""
    out = series.astype(object)
    return out.where(series.notna(), None)


def _nones(index: pd.Index) -> pd.Series:
    return pd.Series([None] * len(index), index=index, dtype=object)


def normalize_order(values: pd.Series | Iterable[Any], *, what: str = "input", column: str = "order",
                    rows: pd.Series | None = None) -> pd.Series:
    """Normalize shown-order values to ``"AB"`` (item's A shown first), ``"BA"`` (swapped) or ``None``.

    Accepted (case-insensitive, ``-`` or space read as ``_``): ``AB``/``BA``, ``original``/``swapped``,
    ``0``/``1``, ``false``/``true`` (true / 1 = swapped), ``A_first``/``B_first``. Missing values give ``None``.

    Raises
    ------
    InputError
        Naming the offending values, their rows and the accepted spellings.

    Examples
    --------
    >>> normalize_order(["AB", "swapped", 1, False, "B-first", None]).tolist()
    ['AB', 'BA', 'BA', 'AB', 'BA', None]
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    cache: dict[Any, str | None] = {}
    out: list[str | None] = []
    bad: list[int] = []
    for pos, v in enumerate(s.tolist()):
        key = _id_str(v)
        if key is None:
            out.append(None)
            continue
        norm = cache.get(key)
        if norm is None:
            norm = ORDER_VALUES.get(key.lower().replace("-", "_").replace(" ", "_"))
            if norm is not None:
                cache[key] = norm
        if norm is None:
            bad.append(pos)
        out.append(norm)
    if bad:
        found = list(dict.fromkeys(_id_str(s.iloc[p]) for p in bad))
        row_ids = [int(rows.iloc[p]) for p in bad[:5]] if rows is not None else [p + 1 for p in bad[:5]]
        raise InputError(f"{what}: column {column!r} holds {len(bad)} value(s) that are not a shown order: "
                         f"{', '.join(map(repr, found[:8]))} (rows {', '.join(map(str, row_ids))}"
                         f"{', ...' if len(bad) > 5 else ''}). Accepted: AB / BA, original / swapped, 0 / 1, "
                         "false / true, A_first / B_first (the second of each pair = the item's B shown first).")
    return pd.Series(out, index=s.index, dtype=object)


# ---------------------------------------------------------------------------------------------- loading


def _source_of(cfg: GoldConfig | JudgeConfig, base_dir: str | Path | None, data: Any,
               key: str) -> tuple[Any, str, str | None]:
    """(source to read, format, split) for a gold / judge configuration."""
    if data is not None:
        return data, "auto", cfg.split
    if cfg.path is not None:
        p = Path(cfg.path).expanduser()
        if not p.is_absolute():
            p = Path(base_dir if base_dir is not None else Path.cwd()) / p
        return p, cfg.format, cfg.split
    if cfg.dataset is not None:
        return cfg.dataset, "hf", cfg.split
    raise ConfigError(f"{key}: no data source; set {key}.path (a file or save_to_disk folder) or {key}.dataset "
                      "(a Hugging Face hub name), or pass the data directly.")


def _require(df: pd.DataFrame, column: str, key: str, what: str) -> None:
    _require_all(df, [(column, key)], what)


def _require_all(df: pd.DataFrame, needed: Sequence[tuple[str, str]], what: str) -> None:
    """Raise one InputError naming every configured column that is absent, and the keys to set."""
    absent = [(c, k) for c, k in needed if c not in df.columns]
    if not absent:
        return
    present = ", ".join(map(str, df.columns[:30])) + (", ..." if len(df.columns) > 30 else "")
    where = f"{what} ({df.attrs.get('source', '?')})"
    if len(absent) == 1:
        col, key = absent[0]
        raise InputError(f"{where}: column {col!r} not found; columns present: {present}. Set {key} in the "
                         "configuration to the right column name.")
    names = ", ".join(f"{c!r} ({k})" for c, k in absent)
    keys = ", ".join(dict.fromkeys(k for _, k in absent))
    raise InputError(f"{where}: columns {names} not found; columns present: {present}. Set {keys} in the "
                     "configuration to the right column names.")


def _item_cols(item: str | Sequence[str]) -> list[str]:
    """Item-id column(s): one name, or several whose values are joined with ':' (e.g. [qid, docid])."""
    return [item] if isinstance(item, str) else list(item)


def _item_ids(df: pd.DataFrame, column: str | Sequence[str], key: str, what: str) -> pd.Series:
    cols = _item_cols(column)
    ids = _ids(df[cols[0]])
    for c in cols[1:]:
        ids = ids + ":" + _ids(df[c])
    column = "+".join(cols)
    missing = ids.isna().to_numpy()
    if missing.any():
        rows = (np.flatnonzero(missing) + 1).tolist()
        shown = ", ".join(map(str, rows[:8])) + (", ..." if len(rows) > 8 else "")
        raise InputError(f"{what} ({df.attrs.get('source', '?')}): column {column!r} ({key}) is empty in "
                         f"{len(rows)} row(s): data rows {shown}. Every row needs an item id; fill them in or "
                         "remove those rows.")
    return ids


class _Builder:
    """Collects standardized output columns and guards against two sources for one name."""

    def __init__(self, df: pd.DataFrame, what: str, key: str) -> None:
        self.df = df
        self.what = what
        self.key = key
        self.cols: dict[str, pd.Series] = {}
        self.src: dict[str, str | None] = {}

    def add(self, name: str, values: pd.Series, src: str | None) -> None:
        if name in self.src and self.src[name] != src:
            raise ConfigError(f"{self.what}: the output column {name!r} would come from two columns "
                              f"({self.src[name]!r} and {src!r}); a slice may not reuse the name of a "
                              f"standard column. Rename the slice column or change {self.key}.columns.")
        self.cols[name] = values
        self.src[name] = src

    def optional(self, columns: Any) -> None:
        for name in _OPTIONAL:
            col = getattr(columns, name, None)
            if col is not None:
                _require(self.df, col, f"{self.key}.columns.{name}", self.what)
                self.add(name, _raw(self.df[col]), col)

    def slices(self, required: Sequence[str], optional: Sequence[str]) -> list[str]:
        missing: list[str] = []
        for col in list(required) + list(optional):
            if col in _RESERVED:
                raise ConfigError(f"{self.what}: slice column {col!r} has the name of a standard column "
                                  f"({', '.join(_RESERVED)}); rename that column in the data, or slice by "
                                  "another column.")
        for col in required:
            _require(self.df, col, f"{self.key}.slices", self.what)
            self.add(col, _slice_values(self.df[col]), col)
        for col in optional:
            if col in self.cols and self.src.get(col) == col:
                continue
            if col in self.df.columns:
                self.add(col, _slice_values(self.df[col]), col)
            else:
                missing.append(col)
        return missing

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.cols)


def _slice_values(series: pd.Series) -> pd.Series:
    return _ids(series).fillna(MISSING_SLICE).astype(object)


def load_gold(cfg: GoldConfig, base_dir: str | Path | None = None, *, data: Any = None,
              extra_slices: Sequence[str] = ()) -> pd.DataFrame:
    """Read the gold set into the standardized long frame (see the module docstring).

    Parameters
    ----------
    cfg : GoldConfig
    base_dir : path, optional
        Folder a relative ``cfg.path`` resolves against (default: the current directory).
    data : DataFrame or datasets.Dataset, optional
        Use this instead of reading ``cfg.path`` / ``cfg.dataset``.
    extra_slices : sequence of str
        Slice columns to include when present (the configuration's top-level ``slices``); those absent
        are listed in ``attrs["missing_slices"]``. Slices in ``cfg.slices`` must be present.

    Returns
    -------
    DataFrame
        Long layout: one row per (item, rater) label. Wide layout: annotator columns melted, empty cells left
        out and counted in ``attrs["missing_cells"]``. Rows with a missing label in the long layout are kept
        (``label`` is NaN / None) for alignment to count.

    Raises
    ------
    InputError
        Unreadable source, missing column (naming the ``gold.columns.*`` key to set), empty item ids.
    ConfigError
        No data source configured.
    """
    what = "gold set"
    source, fmt, split = _source_of(cfg, base_dir, data, "gold")
    cols = cfg.columns
    strings = _item_cols(cols.item) + ([cols.rater] if cols.rater and cfg.layout == "long" else [])
    df = read_frame(source, format=fmt, split=split, what=what, string_columns=strings)
    df.attrs["sha256"] = sha256_of(source) if data is None else None
    needed = [(c, "gold.columns.item") for c in _item_cols(cols.item)]
    if cfg.layout == "long":
        if cols.rater is not None:
            needed.append((cols.rater, "gold.columns.rater"))
        if cols.label is not None:
            needed.append((cols.label, "gold.columns.label"))
    else:
        needed += [(r, "gold.raters") for r in cfg.raters or []]
    needed += [(getattr(cols, n), f"gold.columns.{n}") for n in _OPTIONAL if getattr(cols, n, None) is not None]
    needed += [(c, "gold.slices") for c in cfg.slices]
    _require_all(df, needed, what)
    items = _item_ids(df, cols.item, "gold.columns.item", what)
    rows = pd.Series(np.arange(1, len(df) + 1), index=df.index)

    b = _Builder(df, what, "gold")
    b.add("item_id", items, "+".join(_item_cols(cols.item)))
    b.add("row", rows, None)
    b.optional(cols)
    if getattr(cols, "order", None) is not None:
        _require(df, cols.order, "gold.columns.order", what)
        b.add("order", normalize_order(df[cols.order], what=f"{what} ({df.attrs.get('source')})",
                                       column=cols.order, rows=rows), cols.order)
    missing_slices = b.slices(cfg.slices, [s for s in extra_slices if s not in cfg.slices])
    base = b.frame()

    if cfg.layout == "long":
        if cols.label is None:
            raise ConfigError("gold.columns.label is not set; name the column that holds the human labels "
                              "(or use layout: wide with raters: [...]).")
        _require(df, cols.label, "gold.columns.label", what)
        if cols.rater is not None:
            _require(df, cols.rater, "gold.columns.rater", what)
            rater = _ids(df[cols.rater]).fillna("(unknown)")
        else:
            rater = pd.Series("gold", index=df.index, dtype=object)
        out = base.assign(rater=rater, label=_raw(df[cols.label]))
        missing_cells = 0
    else:
        raters = list(cfg.raters or [])
        for r in raters:
            _require(df, r, "gold.raters", what)
        parts = []
        missing_cells = 0
        for r in raters:
            lab = _raw(df[r])
            empty = lab.map(lambda v: v is None or (isinstance(v, str) and not v.strip())
                            or (isinstance(v, float) and math.isnan(v))).to_numpy(dtype=bool)
            missing_cells += int(empty.sum())
            parts.append(base.loc[~empty].assign(rater=str(r), label=lab[~empty]))
        out = pd.concat(parts, ignore_index=True) if parts else base.iloc[:0].assign(rater=None, label=None)
        if out.empty:
            raise InputError(f"{what} ({df.attrs.get('source')}): every annotator cell in "
                             f"{', '.join(raters)} is empty; no labels to compare with.")
        out = out.sort_values(["row"], kind="stable").reset_index(drop=True)
    order = ["item_id", "rater", "label", "row"]
    out = out[order + [c for c in out.columns if c not in order]].reset_index(drop=True)
    out["label"] = out["label"].astype(object)
    out.attrs = {"source": df.attrs.get("source"), "sha256": df.attrs.get("sha256"),
                 "missing_cells": missing_cells, "missing_slices": missing_slices, "rows_read": len(df)}
    return out


def load_judge(cfg: JudgeConfig, base_dir: str | Path | None = None, *, data: Any = None,
               extra_slices: Sequence[str] = (), index: int | None = None) -> pd.DataFrame:
    """Read one judge's outputs into the standardized long frame (see the module docstring).

    Parameters
    ----------
    cfg : JudgeConfig
    base_dir : path, optional
        Folder a relative ``cfg.path`` resolves against.
    data : DataFrame or datasets.Dataset, optional
        Use this instead of reading ``cfg.path`` / ``cfg.dataset``.
    extra_slices : sequence of str
        Top-level slice columns to include when present (absent ones: ``attrs["missing_slices"]``).
    index : int, optional
        Position of the judge in the configuration, to name keys as ``judges[0].columns.label`` in messages.

    Returns
    -------
    DataFrame
        One row per judge output. With ``extract``, ``label`` is the extracted verdict (``None`` when it
        failed), ``raw`` the text and ``parse_ok`` / ``parse_reason`` say why. The ``unparseable`` setting
        is *not* applied here: alignment scores rows with ``parse_ok`` False as the fallback label (or
        excludes them) and counts them. Missing outputs (``parse_reason == "missing"``) are not unparseable:
        ``parse_ok`` is True and ``label`` is ``None``, so they are counted as missing labels.

    Raises
    ------
    InputError
        Unreadable source, missing column (naming the ``judges[i].columns.*`` key), empty item ids,
        unrecognised shown-order values.
    """
    from .extract import make_extractor

    what = f"judge {cfg.name!r}"
    key = f"judges[{index}]" if index is not None else f"judges[<{cfg.name}>]"
    source, fmt, split = _source_of(cfg, base_dir, data, key)
    cols = cfg.columns
    strings = _item_cols(cols.item) + ([cols.repeat] if cols.repeat else [])
    df = read_frame(source, format=fmt, split=split, what=what, string_columns=strings)
    df.attrs["sha256"] = sha256_of(source) if data is None else None
    verdict_col = cfg.verdict_column
    verdict_key = f"{key}.columns.text" if cols.text else f"{key}.columns.label"
    needed = [(c, f"{key}.columns.item") for c in _item_cols(cols.item)] + [(verdict_col, verdict_key)]
    needed += [(getattr(cols, n), f"{key}.columns.{n}") for n in ("order", "repeat", *_OPTIONAL)
               if getattr(cols, n, None) is not None]
    needed += [(c, f"{key}.slices") for c in cfg.slices]
    _require_all(df, needed, what)
    rows = pd.Series(np.arange(1, len(df) + 1), index=df.index)

    b = _Builder(df, what, key)
    b.add("item_id", _item_ids(df, cols.item, f"{key}.columns.item", what), "+".join(_item_cols(cols.item)))
    b.add("rater", pd.Series(cfg.name, index=df.index, dtype=object), None)
    values = _raw(df[verdict_col])
    if cfg.extract is not None:
        ex = make_extractor(cfg.extract)(values)
        label = ex["label"].astype(object)
        reason = ex["reason"].astype(object)
        raw = _raw(values.map(lambda v: None if v is None else (v if isinstance(v, str) else str(v))))
        parse_ok = ~reason.isin(["no match", "ambiguous"])
    else:
        label = values
        raw = _nones(df.index)
        missing = values.map(lambda v: v is None or (isinstance(v, str) and not v.strip())
                             or (isinstance(v, float) and math.isnan(v))).astype(bool)
        reason = pd.Series(np.where(missing, "missing", ""), index=df.index, dtype=object)
        parse_ok = pd.Series(True, index=df.index)
    b.add("label", label.astype(object), verdict_col)
    b.add("raw", raw, verdict_col)
    b.add("parse_ok", parse_ok.astype(bool), None)
    b.add("parse_reason", reason, None)
    if cols.order is not None:
        _require(df, cols.order, f"{key}.columns.order", what)
        order = normalize_order(df[cols.order], what=f"{what} ({df.attrs.get('source')})",
                                column=cols.order, rows=rows)
    else:
        order = _nones(df.index)
    b.add("order", order, cols.order)
    if cols.repeat is not None:
        _require(df, cols.repeat, f"{key}.columns.repeat", what)
        b.add("repeat", _ids(df[cols.repeat]), cols.repeat)
    else:
        b.add("repeat", _nones(df.index), None)
    b.add("row", rows, None)
    b.optional(cols)
    missing_slices = b.slices(cfg.slices, [s for s in extra_slices if s not in cfg.slices])
    out = b.frame().reset_index(drop=True)
    out.attrs = {"source": df.attrs.get("source"), "sha256": df.attrs.get("sha256"), "missing_cells": 0,
                 "missing_slices": missing_slices, "rows_read": len(df)}
    return out
