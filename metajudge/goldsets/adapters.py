"""Imports every adapter module so that each registers its gold set."""

from . import mt_bench  # noqa: F401
