"""HTML descriptions to plain text, over whole Arrow columns at a time.

Regexes (RE2, run by pyarrow's kernels) only where they can match, literal
replacements elsewhere: the text of a large window is hundreds of MB, and each RE2 pass
over it costs about a second.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from jobs_assets.lib.normalise.frames import arrow_strings

# HTML to text with RE2 patterns, run by pyarrow's kernels directly. RE2 has no `\b`
# or Unicode `\s`, so they are spelled out as Python's `re` reads them: a word
# character is a letter, a digit or `_`; whitespace is `str.isspace`.
_WS = r"[\t\n\v\f\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_NOT_WORD = r"[^\pL\pN_]"
_TAG_REST = r"(?:[^\pL\pN_>][^>]*)?>"  # `\b[^>]*>` after a tag name
_HTML_DROP = (
    rf"(?is)<script(?:{_NOT_WORD}.*?)?</script{_WS}*>"
    rf"|<style(?:{_NOT_WORD}.*?)?</style{_WS}*>"
    r"|<!--.*?-->"
    rf"|<img{_TAG_REST}"
)
_BREAK_TAGS = (
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "h[1-6]",
    "tr",
    "table",
    "section",
    "article",
    "blockquote",
)
_HTML_BREAK = rf"(?i)<br{_WS}*/?>|</?(?:{'|'.join(_BREAK_TAGS)}){_TAG_REST}"
# The same for text with nothing but ASCII in and right after a tag's name (all but
# pathological HTML), twice as fast: no Unicode classes, no case folding (which would
# also match `ſ` for `s` and the Kelvin sign for `k`). `_NEEDS_UNICODE` finds the rest.
_ASCII_WS = r"[\t\n\v\f\r\x1c-\x20]"
_HTML_BREAK_ASCII = (
    rf"<[bB][rR]{_ASCII_WS}*/?>|</?(?:"
    + "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in tag)
        if not tag.startswith("h[")
        else "[hH][1-6]"
        for tag in _BREAK_TAGS
    )
    + r")(?:[^0-9A-Za-z_>\x80-\x{10FFFF}][^>]*)?>"
)
_NEEDS_UNICODE = rf"</?[0-9A-Za-z]*{_ASCII_WS}*[^\x00-\x7f]"
_HTML_TAG = r"<[^>]*>"
MAX_DESCRIPTION_CHARS = 100_000


def unescape(text: str) -> str:
    """HTML entities decoded, twice at most (some sources escape text twice)."""
    for _ in range(2):
        if "&" not in text:
            break
        text = html.unescape(text)
    return text


def _where(text: pa.Array, mask: pa.Array, change: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """The rows `mask` selects replaced by `change` of them (given `text` filtered)."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return text
    return pc.replace_with_mask(text, mask, change(pc.filter(text, mask)))


def html_to_text(values: pd.Series) -> pd.Series:
    """Plain text of HTML descriptions: scripts, styles and tracking pixels dropped."""
    text = html_to_arrow(values).to_numpy(zero_copy_only=False)
    return pd.Series(text, index=values.index, dtype="object")


def html_to_arrow(values: pd.Series) -> pa.Array:
    """`html_to_text` as an Arrow array (null for no text)."""
    text = arrow_strings(values)
    text = _where(
        text,
        pc.match_substring_regex(text, "(?i)<(?:script|style|img|!--)"),
        lambda part: pc.replace_substring_regex(part, _HTML_DROP, ""),
    )
    unicode_rows = pc.match_substring_regex(text, _NEEDS_UNICODE)
    text = _where(
        pc.replace_substring_regex(text, _HTML_BREAK_ASCII, "\n"),
        unicode_rows,
        lambda _: pc.replace_substring_regex(pc.filter(text, unicode_rows), _HTML_BREAK, "\n"),
    )
    text = pc.replace_substring_regex(text, _HTML_TAG, "")
    text = _where(
        text,
        pc.match_substring(text, "&"),
        lambda part: pa.array([unescape(v) for v in part.to_pylist()], pa.string()),
    )
    # Runs of [ \t\r\f\v\xa0] become one space, then a newline with the spaces and
    # newlines around it one newline (patterns that match only where text changes).
    for blank in ("\t", "\r", "\f", "\v", "\xa0"):
        text = pc.replace_substring(text, blank, " ")
    text = pc.replace_substring_regex(text, "  +", " ")
    text = pc.replace_substring_regex(text, r" \n[ \n]*|\n[ \n]+", "\n")
    text = pc.utf8_trim_whitespace(text)
    text = pc.utf8_slice_codeunits(text, 0, MAX_DESCRIPTION_CHARS)
    empty = pc.fill_null(pc.equal(pc.utf8_length(text), 0), True)
    return pc.if_else(empty, pa.scalar(None, pa.string()), text)
