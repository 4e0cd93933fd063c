"""Text a board sent as UTF-8 that was read as Latin-1 or cp1252 and encoded again.

`â\\x80\\x93` and `â€“` are the en dash they were, `Ã³` is `ó`; text that does not decode
back as UTF-8 (real Latin-1 letters, or already fine) is kept as it is. Two scopes:
`repair_record` for a feed whose every string arrives so (each non-ASCII string of a
record, through Latin-1), `repair_mojibake` for text read from any board (the duplicate
matcher's keys, the salary parser), where only the markers of such text start a repair.
"""

from __future__ import annotations

_MARKERS = ("Ã", "Â", "â", "Å", "Ä")


def _decoded(text: str, codecs: tuple[str, ...]) -> str:
    """`text` encoded with the first of `codecs` that gives valid UTF-8, decoded; else as is."""
    for codec in codecs:
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def repair_mojibake(text: str) -> str:
    """UTF-8 that was read as Latin-1 or cp1252 and encoded again (one board's `â\\x80\\x99`)."""
    if not any(marker in text for marker in _MARKERS):
        return text
    return _decoded(text, ("latin-1", "cp1252"))


def repair_record(value: object) -> object:
    """Undo UTF-8 read as Latin-1 (`GdaÅ\\x84sk` -> `Gdańsk`) in every string of `value`."""
    if isinstance(value, str):
        return value if value.isascii() else _decoded(value, ("latin-1",))
    if isinstance(value, list):
        return [repair_record(v) for v in value]
    if isinstance(value, dict):
        return {k: repair_record(v) for k, v in value.items()}
    return value
