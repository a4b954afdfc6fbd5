"""Pure filtering of table rows: fuzzy text and ``field:value`` terms. No Textual here.

Query language (every term must match, case-insensitive):

- ``web``            fuzzy: the letters in order, within one field (``wb1`` matches ``web-1``)
- ``status:running`` the named field contains the value
- ``status=Running`` the named field equals the value
- ``-word`` / ``!status:running``  negation of any term
- ``size:>100``      a number compared (``>``, ``>=``, ``<``, ``<=``) with a numeric field
- ``"two words"``    quotes keep spaces in one term

A term that cannot match is not silently dropped or left to empty the table: :func:`parse_query` reports
unknown fields and comparisons that are not numbers (``Query.problems``), so the UI can say so.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .rows import FIELD_SEPARATOR, Row

FIELD_ALIASES = {
    "state": "status",
    "kind": "type",
    "multi": "multiattach",
    "multi-attach": "multiattach",
    "delete": "dwi",
    "lock": "locks",
    "az": "zone",
    "instanceid": "instance",
    "diskid": "id",
}


COMPARISONS = (">=", "<=", ">", "<")


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    field: str | None = None
    exact: bool = False
    negate: bool = False
    compare: str = ""
    """``>``, ``>=``, ``<`` or ``<=``: ``text`` is a number compared with the field's value."""


@dataclass(frozen=True, slots=True)
class Query:
    terms: tuple[Term, ...] = ()
    unknown_fields: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    """One sentence per term that was left out because it cannot match, saying why and what works."""

    @property
    def empty(self) -> bool:
        return not self.terms


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote while the user is still typing
        return text.replace('"', " ").replace("'", " ").split()


def parse_query(text: str, known_fields: Iterable[str] = ()) -> Query:
    known = set(known_fields)
    terms: list[Term] = []
    unknown: list[str] = []
    problems: list[str] = []
    for token in _split(text):
        original = token
        negate = False
        if token[:1] in {"-", "!"} and len(token) > 1:
            negate, token = True, token[1:]
        field_name: str | None = None
        exact = False
        for sep in (":", "="):
            name, found, value = token.partition(sep)
            if found and name and value and name.replace("-", "").isalnum():
                field_name = FIELD_ALIASES.get(name.lower(), name.lower())
                exact = sep == "="
                token = value
                break
        if field_name is not None and known and field_name not in known:
            unknown.append(field_name)
            problems.append(f"“{original}”: no field {field_name} here (fields: {', '.join(sorted(known))})")
            continue
        compare = next((op for op in COMPARISONS if field_name and token.startswith(op)), "")
        if compare:
            token = token[len(compare) :]
            if _number(token) is None:
                problems.append(f"“{original}”: {compare} compares numbers, e.g. {field_name}:{compare}100")
                continue
        terms.append(Term(text=token.lower(), field=field_name, exact=exact, negate=negate, compare=compare))
    return Query(terms=tuple(terms), unknown_fields=tuple(unknown), problems=tuple(problems))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compares(op: str, value: float, bound: float) -> bool:
    return {">": value > bound, ">=": value >= bound, "<": value < bound, "<=": value <= bound}[op]


def fuzzy_match(needle: str, haystack: str) -> bool:
    """True when every character of ``needle`` appears in ``haystack`` in order (both already lower-case)."""
    if needle in haystack:
        return True
    position = 0
    for char in needle:
        position = haystack.find(char, position)
        if position < 0:
            return False
        position += 1
    return True


@lru_cache(maxsize=256)
def fuzzy_pattern(needle: str) -> re.Pattern[str]:
    """A search that succeeds where :func:`fuzzy_match` would in one of the ``FIELD_SEPARATOR``-joined
    fields: each character, then anything but the next character or a separator, then that character
    (one way to match at each start, so no backtracking blow-up)."""
    parts = [re.escape(needle[:1])]
    for char in needle[1:]:
        parts.append(f"[^{re.escape(char)}{FIELD_SEPARATOR}]*{re.escape(char)}")
    return re.compile("".join(parts))


def _term_matches(term: Term, row: Row) -> bool:
    if term.field is None:
        if term.text in row.haystack:
            hit = True
        elif row.fields_text and FIELD_SEPARATOR not in term.text:
            hit = fuzzy_pattern(term.text).search(row.fields_text) is not None
        else:
            hit = any(fuzzy_match(term.text, v) for v in row.fields.values())
    elif term.compare:
        value = _number(row.fields.get(term.field, ""))
        bound = _number(term.text)
        hit = value is not None and bound is not None and _compares(term.compare, value, bound)
    else:
        value_text = row.fields.get(term.field, "")
        hit = value_text == term.text if term.exact else term.text in value_text
    return hit != term.negate


def row_matches(row: Row, query: Query) -> bool:
    return all(_term_matches(term, row) for term in query.terms)


def filter_rows(rows: Sequence[Row], query: Query | str) -> list[Row]:
    """The rows that match, in their original order."""
    if isinstance(query, str):
        query = parse_query(query)
    if query.empty:
        return list(rows)
    return [row for row in rows if row_matches(row, query)]


def known_fields(rows: Sequence[Row]) -> frozenset[str]:
    return frozenset(rows[0].fields) if rows else frozenset()


# --- what the API can filter itself (issue 18: a large region reads less)

INSTANCE_STATUSES = ("Pending", "Running", "Starting", "Stopping", "Stopped")


def server_filters(query: Query) -> dict[str, str]:
    """The DescribeInstances parameters that select what the instances filter keeps, from the terms the
    API applies exactly as the screen would: a status named whole (``status:running``, ``status=Stopped``)
    and a zone given with ``=``. Negated terms, partial values and the rest stay the screen's; a field
    named twice is left to the screen. (Disks are always read whole: an instance's disks and its disk
    count must not depend on the filter.)"""
    params: dict[str, str] = {}
    asked: set[str] = set()
    for term in query.terms:
        name = {"status": "Status", "zone": "ZoneId"}.get(term.field or "")
        if name is None or term.negate or term.compare:
            continue
        if name in asked:
            params.pop(name, None)
            continue
        asked.add(name)
        if name == "Status":
            whole = next((s for s in INSTANCE_STATUSES if s.lower() == term.text), None)
            if whole is not None:
                params[name] = whole
        elif term.exact:
            params[name] = term.text
    return params
