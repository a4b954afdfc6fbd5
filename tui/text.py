"""Text on screen: what comes from the API, a plan, the journal or the operator is shown as typed.

Textual parses a plain ``str`` given to ``Static``, ``Label``, a toast or the command palette as markup, so
an aliyun waiter such as ``Attachment[?InstanceId=='i-1']`` raised ``MarkupError`` and a disk named
``[b]x`` came out bold. Rich's ``escape`` is not enough for Textual's parser (it leaves ``[?...]`` alone).
Every screen builds its text with these helpers instead:

- :func:`plain` — text shown exactly as given (ids, names, messages, commands, tags, errors);
- :func:`marked` — our own markup (bold, dim) with values filled in as plain text (``$name`` in the template);
- :func:`lines` — pieces, each plain or already built, joined by newlines;
- :func:`escape_markup` — only where Textual takes nothing but a markup string (the command palette's help).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.content import Content


def plain(text: str) -> Content:
    """``text`` as typed: never parsed as markup."""
    return Content(text)


def marked(template: str, **values: object) -> Content:
    """Our own markup in ``template``; each ``$name`` is replaced by ``values[name]`` as plain text."""
    return Content.from_markup(template, **values)


def lines(parts: Iterable[str | Content]) -> Content:
    """One line per part; a ``str`` part is plain text, a ``Content`` keeps its styles."""
    return Content("\n").join(part if isinstance(part, Content) else Content(part) for part in parts)


def escape_markup(text: str) -> str:
    """``text`` for a place that only takes a markup string: every ``[`` escaped, so nothing is a tag
    (``\\[`` shows ``[``, and a backslash before it stays as typed)."""
    return text.replace("[", "\\[")
