"""Routing a case to its responsible department: category + location → department (派遣 rules).

DOMAIN.md §3.1: "部件先属主、后属地; 事件先属地、后属主" — a component (部件) goes to its **owner** first and
to the territorial authority only when the owner has no department there; an event (事件) goes to the
**territory** first, then to the owner. A rule names the owner and the territory as department *keys*
(``CG`` 城管执法, ``HW`` 环卫, ``SZ`` 市政 …); the key is resolved against the departments of the city: the
district's own department ``<district>-<key>`` if it exists, else a city-wide department ``<key>``.

The table (``cases/data/routing.csv``; a city passes its own CSV or TOML ``[[rule]]`` tables) has columns
``category_code`` (exact code, prefix ending in ``*``, or ``*``), ``kind`` (``component``, ``event`` or
``*``), ``owner``, ``territory`` (keys, may be empty) and ``note``. The most specific rule wins: exact code
before longer prefixes before ``*``, exact kind before ``*``. A case whose rule or department cannot be
found is **flagged** (``route_flag`` ``no_rule`` / ``no_department`` / ``no_district``) instead of being
sent somewhere arbitrary; the dispatcher routes it by hand.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ROUTE_FLAGS", "ROUTING_FILE", "RoutingRule", "RoutingTable", "load_routing_table", "route_cases"]

ROUTING_FILE = Path(__file__).with_name("data") / "routing.csv"
ROUTE_FLAGS = ("no_rule", "no_department", "no_district")
KINDS = ("component", "event")


@dataclass(frozen=True)
class RoutingRule:
    """Owner and territory department keys of the cases of ``category_code`` and ``kind``."""

    category_code: str
    kind: str
    owner: str | None
    territory: str | None

    def specificity(self) -> tuple[int, int]:
        """Sort key: exact code, then longer prefixes, then ``*``; exact kind before ``*``."""
        c = self.category_code
        return (100 if not c.endswith("*") else len(c) - 1), int(self.kind != "*")

    def matches(self, code: str, kind: str) -> bool:
        """Whether the rule applies to a case of ``code`` and ``kind``."""
        c = self.category_code
        ok = code == c if not c.endswith("*") else code.startswith(c[:-1])
        return ok and self.kind in ("*", kind)

    def candidates(self, kind: str) -> tuple[tuple[str, str], ...]:
        """``(via, key)`` in the order tried: the owner first for components, the territory for events."""
        owner, territory = ("owner", self.owner), ("territory", self.territory)
        order = (owner, territory) if kind == "component" else (territory, owner)
        return tuple((via, key) for via, key in order if key)


class RoutingTable:
    """Routing rules with most-specific-first lookup."""

    def __init__(self, rules: Iterable[RoutingRule]) -> None:
        self.rules = tuple(sorted(rules, key=lambda r: r.specificity(), reverse=True))

    def rule_for(self, code: str, kind: str) -> RoutingRule | None:
        """The most specific rule for ``code`` / ``kind``, or None."""
        return next((r for r in self.rules if r.matches(code, kind)), None)


def _blank(value: Any) -> str | None:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()
    return text or None


def load_routing_table(path: str | Path | None = None) -> RoutingTable:
    """Read rules from CSV or TOML (``[[rule]]`` with the same keys); default the shipped table."""
    path = Path(path) if path is not None else ROUTING_FILE
    if path.suffix.lower() == ".toml":
        with path.open("rb") as fh:
            rows = pd.DataFrame(tomllib.load(fh).get("rule", []))
    else:
        rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("category_code", "kind", "owner", "territory") if c not in rows.columns]
    if missing:
        msg = f"{path}: missing columns {missing}"
        raise ValueError(msg)
    bad = sorted(set(rows["kind"]) - {*KINDS, "*"})
    if bad:
        msg = f"{path}: kind must be component, event or *, got {bad}"
        raise ValueError(msg)
    return RoutingTable(
        RoutingRule(str(r.category_code).strip(), str(r.kind).strip(), _blank(r.owner), _blank(r.territory))
        for r in rows.itertuples(index=False)
    )


def route_cases(
    category_code: Any,
    kind: Any,
    district: Any,
    departments: Iterable[str],
    *,
    table: RoutingTable | None = None,
) -> pd.DataFrame:
    """Responsible department of each case.

    Parameters
    ----------
    category_code, kind, district
        Array-likes of one length: the case's category code, ``component`` / ``event`` (missing → event),
        and the district (area code) its location falls in (missing → only city-wide departments).
    departments
        Department ids of the city (``departments.department_id``: ``<district>-<key>`` or ``<key>``).
    table
        Routing rules (default :func:`load_routing_table`).

    Returns
    -------
    pandas.DataFrame
        Same length and order: ``department`` (NA when flagged), ``via`` (``owner`` / ``territory``),
        ``route_flag`` (NA when routed, else one of :data:`ROUTE_FLAGS`). Vectorised over the distinct
        (code, kind, district) triples.
    """
    table = table or load_routing_table()
    known = set(departments)
    frame = pd.DataFrame(
        {
            "code": pd.Series(np.asarray(category_code, dtype=object)).astype("string").fillna(""),
            "kind": pd.Series(np.asarray(kind, dtype=object)).astype("string").fillna("event"),
            "district": pd.Series(np.asarray(district, dtype=object)).astype("string").fillna(""),
        }
    )
    keys = frame.drop_duplicates().reset_index(drop=True)
    out_dept, out_via, out_flag = [], [], []
    for code, kd, dist in keys.itertuples(index=False):  # one pass per distinct triple, not per case
        rule = table.rule_for(code, kd)
        dept = via = flag = None
        if rule is None:
            flag = "no_rule"
        else:
            # each key: the district's own department, then a city-wide one; the second key only after both
            tried = [
                (v, d) for v, key in rule.candidates(kd) for d in ([f"{dist}-{key}"] if dist else []) + [key]
            ]
            via, dept = next(((v, d) for v, d in tried if d in known), (None, None))
            if dept is None:
                flag = "no_district" if not dist else "no_department"
        out_dept.append(dept)
        out_via.append(via)
        out_flag.append(flag)
    keys["department"] = pd.array(out_dept, dtype="string")
    keys["via"] = pd.array(out_via, dtype="string")
    keys["route_flag"] = pd.array(out_flag, dtype="string")
    merged = frame.merge(keys, on=["code", "kind", "district"], how="left")
    return merged[["department", "via", "route_flag"]]
