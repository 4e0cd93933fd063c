"""Turning a response body into clean records, whatever the source sent.

One bad listing must never sink a window, so the body is read leniently and each
listing is cleaned or rejected on its own, with a reason:
- bytes that are not UTF-8 are replaced (U+FFFD), so are lone UTF-16 surrogates and
  invalid escapes such as `\\x41` or `\\u12`; NUL characters (which PostgreSQL text
  cannot hold) are removed from the decoded strings, so an escaped backslash followed
  by `u0000` (`\\\\u0000`, ordinary text) is left alone;
- `NaN`, `Infinity` and numbers out of any sane range (`1e400`, 5,000 digits) become
  null;
- a listing nested deeper than `MAX_DEPTH` is rejected (a body nested thousands of
  levels deep is first collapsed, so parsing never hits Python's recursion limit);
- a listing whose title, URL or company is missing, empty or a placeholder (`N/A`,
  `-`, `TBD`, ...) is rejected: it would fail the blocking required-columns check.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

#: how deep a listing may nest (real ones use 3 or 4 levels)
MAX_DEPTH = 64
#: a body deeper than this is collapsed before parsing (a listing is at depth 3)
COLLAPSE_DEPTH = MAX_DEPTH + 8
#: integers longer than this are not data (Python refuses past 4,300 digits anyway)
MAX_INT_DIGITS = 30
#: values that mean "nothing" in a required field (compared case-insensitively, trimmed)
PLACEHOLDERS = frozenset({"n/a", "na", "-", "--", "null", "none", "tbd", "undefined", "nil"})
TOO_DEEP = "\ufdd0jobs_assets:nested-too-deep\ufdd0"  # a noncharacter: never in real text

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_ESCAPE = re.compile(r'\\(u[0-9a-fA-F]{4}|["\\/bfnrt]|.?)', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyError(ValueError):
    """The body as a whole is not a JSON document (the message says what it is)."""


class _NonFinite:
    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "NON_FINITE"


NON_FINITE = _NonFinite()


class TooDeep(ValueError):
    pass


@dataclass
class Cleaning:
    """What cleaning changed in one value (kept listings) or why it must go."""

    notes: set[str] = field(default_factory=set)


def decode(body: bytes) -> tuple[str, list[str]]:
    """The body as text: UTF-8 (with or without BOM), UTF-16/32 by JSON's own detection."""
    try:
        encoding = json.detect_encoding(body)
    except Exception:  # noqa: BLE001 - detection is best effort
        encoding = "utf-8"
    if encoding == "utf-8":
        encoding = "utf-8-sig"
    try:
        return body.decode(encoding), []
    except (UnicodeDecodeError, LookupError):
        return body.decode("utf-8", "replace"), ["bytes that are not UTF-8 replaced"]


def _parse_float(text: str) -> object:
    value = float(text)
    return value if math.isfinite(value) else NON_FINITE


def _parse_int(text: str) -> object:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else NON_FINITE


def _loads(text: str) -> object:
    return json.loads(
        text,
        strict=False,  # raw control characters inside strings: keep, not fail
        parse_float=_parse_float,
        parse_int=_parse_int,
        parse_constant=lambda _name: NON_FINITE,
    )


def fix_escapes(text: str) -> tuple[str, bool]:
    """Replace the backslash of invalid escapes (e.g. `\\x41`, `\\u12`) by U+FFFD."""
    changed = False

    def one(match: re.Match[str]) -> str:
        nonlocal changed
        body = match.group(1)
        if body and (body[0] in '"\\/bfnrt' and len(body) == 1 or len(body) == 5):
            return match.group(0)
        changed = True
        return "\\ufffd" + body  # the backslash goes, the text after it stays

    fixed = _STRING.sub(lambda m: _ESCAPE.sub(one, m.group(0)), text)
    return fixed, changed


def collapse_deep(text: str, limit: int = COLLAPSE_DEPTH) -> str:
    """Replace every array/object deeper than `limit` by the string `TOO_DEEP`.

    Strings are blanked (same length) before counting brackets, so a bracket inside
    text never counts. Linear in the body; used only when plain parsing recursed too
    deep.
    """
    blank = _STRING.sub(lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', text)
    pieces: list[str] = []
    depth = 0
    cut_from: int | None = None
    kept_to = 0
    for match in re.finditer(r"[\[\]{}]", blank):
        char, at = match.group(0), match.start()
        if char in "[{":
            depth += 1
            if depth == limit + 1 and cut_from is None:
                cut_from = at
        else:
            if depth == limit + 1 and cut_from is not None:
                pieces.append(text[kept_to:cut_from])
                pieces.append(json.dumps(TOO_DEEP))
                kept_to = at + 1
                cut_from = None
            depth -= 1
    if cut_from is not None:  # never closed: drop the rest, parsing will say it is cut
        pieces.append(text[kept_to:cut_from])
        kept_to = len(text)
    pieces.append(text[kept_to:])
    return "".join(pieces)


def load_document(body: bytes) -> tuple[object, list[str]]:
    """The parsed body and notes of what was repaired; `BodyError` if it is not JSON."""
    text, notes = decode(body)
    try:
        return _loads(text), notes
    except RecursionError:
        text = collapse_deep(text)
        notes.append("a part nested too deep was cut out")
    except ValueError as err:
        fixed, changed = fix_escapes(text)
        if not changed:
            raise BodyError(f"invalid or truncated JSON ({err}) in {len(body)} bytes") from None
        text = fixed
        notes.append("invalid escapes replaced")
    try:
        return _loads(text), notes
    except RecursionError:
        raise BodyError("JSON nested too deep to read") from None
    except ValueError as err:
        try:
            return _loads(collapse_deep(fix_escapes(text)[0])), notes
        except (ValueError, RecursionError):
            raise BodyError(f"invalid or truncated JSON ({err}) in {len(body)} bytes") from None


def clean(value: object, cleaning: Cleaning, depth: int = 0) -> object:
    """A copy of `value` that PostgreSQL's JSONB accepts; `TooDeep` past `MAX_DEPTH`."""
    if depth > MAX_DEPTH:
        raise TooDeep(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        return _clean_text(value, cleaning)
    if isinstance(value, dict):
        return {
            _clean_text(str(k), cleaning): clean(v, cleaning, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list):
        return [clean(v, cleaning, depth + 1) for v in value]
    if value is NON_FINITE or (isinstance(value, float) and not math.isfinite(value)):
        cleaning.notes.add("non-finite or out-of-range number set to null (kept the listing)")
        return None
    return value


def _clean_text(text: str, cleaning: Cleaning) -> str:
    if text == TOO_DEEP:
        raise TooDeep(f"nested more than {MAX_DEPTH} levels deep")
    if "\x00" in text:
        text = text.replace("\x00", "")
        cleaning.notes.add("NUL characters removed (kept the listing)")
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
        cleaning.notes.add("lone UTF-16 surrogates replaced (kept the listing)")
    return text


def missing_required(job: dict, required: dict[str, str]) -> str | None:
    """Why the listing lacks a required field (title, URL, company), or None."""
    for meaning, key in required.items():
        value = job.get(key)
        if value is None:
            return f"no {meaning} ({key!r} is missing or null)"
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return f"no {meaning} ({key!r} is a {type(value).__name__}, not text)"
        text = str(value).strip()
        if not text:
            return f"no {meaning} ({key!r} is empty)"
        if text.casefold() in PLACEHOLDERS:
            return f"no {meaning} ({key!r} is the placeholder {text[:20]!r})"
    return None
