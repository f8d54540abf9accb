"""Exception classes. Every error metajudge raises on bad input derives from :class:`MetajudgeError`.

Messages follow one pattern: what went wrong, where (file, column, line, key), what was expected,
what was found, and how to fix it. The CLI prints the message as one paragraph and exits 1.
"""

from __future__ import annotations


class MetajudgeError(Exception):
    """Base class of all errors caused by input, configuration or an analysis that cannot run."""


class InputError(MetajudgeError):
    """A data file or object cannot be read: missing file, missing column, empty file, bad line."""


class ConfigError(MetajudgeError):
    """The configuration file or CLI flags are invalid (unknown key, wrong type, missing field)."""


class ScaleError(MetajudgeError):
    """Labels do not fit the declared scale, or a scale needs a declared order that is missing."""


class AlignmentError(MetajudgeError):
    """Gold set and judge outputs cannot be joined (for example: no item in common)."""


class MetricInputError(MetajudgeError, ValueError):
    """Arrays passed to a metric have the wrong shape, length or content."""
