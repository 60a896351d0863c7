"""Boundary checks shared by the analytics modules (messages name the argument, the value and the rule)."""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

__all__ = [
    "EmptySelectionError",
    "TooFewPeriodsError",
    "check_choice",
    "check_int",
    "check_probability",
    "check_random_state",
]


class EmptySelectionError(ValueError):
    """The filters left nothing to analyse (no cases, or all values zero)."""


class TooFewPeriodsError(ValueError):
    """A time-series method got fewer periods (or events) than it needs."""


def check_int(value: object, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int within [low, high]; TypeError for non-integers, ValueError out of range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        msg = f"`{name}` must be an int; got {type(value).__name__} {value!r}"
        raise TypeError(msg)
    value = int(value)
    if low is not None and value < low:
        msg = f"`{name}` must be >= {low}; got {value}"
        raise ValueError(msg)
    if high is not None and value > high:
        msg = f"`{name}` must be <= {high}; got {value}"
        raise ValueError(msg)
    return value


def check_probability(value: object, name: str) -> float:
    """``value`` as a float in the open interval (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        msg = f"`{name}` must be a float in (0, 1); got {type(value).__name__} {value!r}"
        raise TypeError(msg)
    if not 0.0 < float(value) < 1.0:
        msg = f"`{name}` must be in the open interval (0, 1); got {value}"
        raise ValueError(msg)
    return float(value)


def check_choice(value: object, name: str, allowed: Iterable[str]) -> str:
    """``value`` if it is one of ``allowed`` (geopandas-style message otherwise)."""
    options = list(allowed)
    if value not in options:
        msg = f"`{name}` was {value!r} but is expected to be one of {options}"
        raise ValueError(msg)
    return str(value)


def check_random_state(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A ``np.random.Generator`` from an int seed, a Generator (used as is) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    msg = f"`seed` must be an int, a numpy.random.Generator or None; got {type(seed).__name__} {seed!r}"
    raise TypeError(msg)
