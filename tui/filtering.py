"""Pure filtering of table rows: fuzzy text and ``field:value`` terms. No Textual here.

Query language (every term must match, case-insensitive):

- ``web``            fuzzy: the letters in order, within one field (``wb1`` matches ``web-1``)
- ``status:running`` the named field contains the value
- ``status=Running`` the named field equals the value
- ``-word`` / ``!status:running``  negation of any term
- ``size:>100``      a number compared (``>``, ``>=``, ``<``, ``<=``) with a numeric field
- ``"two words"``    quotes keep spaces in one term
- ``tag:env=prod``   a tag, key and value matched exactly and case-sensitive (as the API's ``Tag.N`` filter
  does, so that in a large region the API and the screen keep the same rows); ``tag:env`` any value of the
  key; ``tag:"cost center=R&D"`` with spaces; the first ``=`` ends the key

A term that cannot match is not silently dropped or left to empty the table: :func:`parse_query` reports
unknown fields and comparisons that are not numbers (``Query.problems``), so the UI can say so.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

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
TAG_FIELD = "tag"
"""``tag:KEY=VALUE`` / ``tag:KEY``: every row has tags (maybe none), so the field is known in every view."""


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
        if field_name == TAG_FIELD:
            if token.startswith("="):
                problems.append(f"“{original}”: a tag term names its key: tag:KEY or tag:KEY=VALUE")
            else:  # the case is kept: tags match exactly
                terms.append(Term(text=token, field=TAG_FIELD, exact=True, negate=negate))
            continue
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


def _tags_match(term: Term, tags: Iterable[tuple[str, str]]) -> bool:
    key, has_value, value = term.text.partition("=")
    return any(k == key and (not has_value or v == value) for k, v in tags)


def _term_matches(term: Term, row: Row) -> bool:
    if term.field == TAG_FIELD:
        hit = _tags_match(term, row.tags)
    elif term.field is None:
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
DISK_STATUSES = ("In_use", "Available", "Attaching", "Detaching", "Creating", "ReIniting")
"""DescribeDisks ``Status`` values (besides ``All``)."""
DISK_CATEGORIES = (
    "cloud",
    "cloud_efficiency",
    "cloud_ssd",
    "cloud_essd",
    "cloud_auto",
    "cloud_essd_entry",
    "cloud_regional_disk_auto",
    "elastic_ephemeral_disk_standard",
    "elastic_ephemeral_disk_premium",
    "local_ssd_pro",
    "local_hdd_pro",
    "ephemeral",
    "ephemeral_ssd",
)
"""DescribeDisks ``Category`` values (besides ``all``): a category the API does not know is never sent."""
MAX_API_TAGS = 20
"""DescribeInstances / DescribeDisks take ``Tag.1`` to ``Tag.20``."""

ApiFilters = dict[str, Any]
"""Describe* parameters: ``{"Status": "Available", "Tag": [{"Key": "env", "Value": "prod"}]}``."""


def _whole(term: Term, values: Sequence[str]) -> str | None:
    """The API's spelling of the value the term names whole (``status:running`` or ``status=Running``)."""
    return next((value for value in values if value.lower() == term.text), None)


def _instance_filter(term: Term) -> tuple[str, Any] | None:
    if term.field == "status":
        value = _whole(term, INSTANCE_STATUSES)
        return None if value is None else ("Status", value)
    if term.field == "zone" and term.exact:
        return ("ZoneId", term.text)
    return None


def _disk_filter(term: Term) -> tuple[str, Any] | None:
    """The DescribeDisks parameter for one term of the all-disks filter, when the API keeps exactly the
    disks the screen would (``multiattach:no`` is not sent: the API's ``Disabled`` leaves out shared
    disks the screen shows as "no"; a category named in part could be several)."""
    if term.field == "status":
        value = _whole(term, DISK_STATUSES)
        return None if value is None else ("Status", value)
    if term.field in ("type", "role"):
        value = _whole(term, ("system", "data"))
        return None if value is None else ("DiskType", value)
    if term.field == "category" and term.exact:
        value = _whole(term, DISK_CATEGORIES)
        return None if value is None else ("Category", value)
    if term.field == "zone" and term.exact:
        return ("ZoneId", term.text)
    if term.field == "portable" and term.text in ("yes", "no"):
        return ("Portable", term.text == "yes")
    if term.field == "multiattach" and term.text == "yes":
        return ("MultiAttach", "Enabled")
    return None


def server_filters(query: Query, view: str = "instances") -> ApiFilters:
    """The DescribeInstances (``view`` "instances") or DescribeDisks ("disks") parameters that select what
    the view's filter keeps, from the terms the API applies exactly as the screen would: a status named
    whole (``status:running``, ``status=Stopped``), a zone given with ``=``, a tag (``tag:env=prod``,
    ``tag:env``: ``Tag.N.Key`` / ``Tag.N.Value``, up to 20, all of them must match), and for disks their
    role, category, portability and multi-attach. Negated terms, partial values and the rest stay the
    screen's; a field named twice is left to the screen. The screen still applies the whole filter to
    what the API sends, so a parameter may only ever keep more, never less."""
    one_term = _instance_filter if view == "instances" else _disk_filter
    by_field: dict[str, list[Term]] = {}
    tags: list[dict[str, str]] = []
    for term in query.terms:
        if term.negate or term.compare or term.field is None:
            continue
        if term.field == "tag":
            key, has_value, value = term.text.partition("=")
            if has_value and not value:
                continue  # an empty value: the API's meaning of an empty Tag.N.Value is not the screen's
            tags.append({"Key": key, "Value": value} if has_value else {"Key": key})
        else:
            by_field.setdefault("type" if term.field == "role" else term.field, []).append(term)
    params: ApiFilters = {}
    for terms in by_field.values():
        found = one_term(terms[0]) if len(terms) == 1 else None
        if found is not None:
            params[found[0]] = found[1]
    if tags:
        params["Tag"] = tags[:MAX_API_TAGS]  # more would be refused; fewer only keeps more rows
    return params


TAG_FILTER_LIMIT = 1000
"""The API filters by tag only while at most this many resources carry the tags asked (its reference:
"the resource count cannot exceed 1,000"; beyond that it says to use ListTagResources)."""


@dataclass(frozen=True, slots=True)
class TagCounts:
    """How many resources of a view's whole listing carry each set of tags, from its last read that no API
    filter narrowed: what a tag filter is judged by against ``TAG_FILTER_LIMIT``. ``known`` False: no such
    read yet (a first read still coming, a new region read with a filter)."""

    by_tags: Mapping[tuple[tuple[str, str], ...], int] = field(default_factory=dict)
    known: bool = False

    @classmethod
    def of(cls, rows: Iterable[Row]) -> TagCounts:
        """The counts of a whole listing's rows (many resources share a set of tags: few entries)."""
        return cls(Counter(row.tags for row in rows), known=True)

    def carrying(self, terms: Sequence[Term]) -> int:
        """How many resources carry every tag the ``terms`` name."""
        return sum(
            count for tags, count in self.by_tags.items() if all(_tags_match(term, tags) for term in terms)
        )


def within_tag_limit(params: ApiFilters, query: Query, counts: TagCounts) -> ApiFilters:
    """``params`` without ``Tag`` when the whole listing (``counts``) holds ``TAG_FILTER_LIMIT`` resources
    or more that carry every tag asked, or when its count is not known yet: past that the API's answer is
    not to be trusted, so the screen filters by tag itself (the other parameters are still sent).

    The count is the whole listing's, not that of the rows read last: a read the API narrowed (say to
    ``Status=Running``) may hold 400 of the tag's 1,500 carriers, and the API counts the tag's limit
    among all of them."""
    if "Tag" not in params:
        return params
    tag_terms = tuple(
        t for t in query.terms if t.field == TAG_FIELD and not t.negate and not t.text.endswith("=")
    )
    if counts.known and counts.carrying(tag_terms) < TAG_FILTER_LIMIT:
        return params
    return {key: value for key, value in params.items() if key != "Tag"}


def describe_api_filters(params: ApiFilters) -> str:
    """``Status=Available, Tag env=prod``: what the API was asked to filter, for the status line."""
    parts: list[str] = []
    for key, value in params.items():
        if key == "Tag":
            parts.extend(
                f"Tag {tag['Key']}={tag['Value']}" if "Value" in tag else f"Tag {tag['Key']}" for tag in value
            )
        else:
            parts.append(f"{key}={str(value).lower() if isinstance(value, bool) else value}")
    return ", ".join(parts)
