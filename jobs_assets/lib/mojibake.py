"""Text a board sent as UTF-8 that was read as Latin-1 or cp1252 and encoded again.

One rule for every reader of such text (the duplicate matcher's keys, the salary
parser): `â\\x80\\x93` and `â€“` are the en dash they were, `Ã³` is `ó`. Text that does
not decode back as UTF-8 (real Latin-1 letters, or already fine) is kept as it is.
"""

from __future__ import annotations

_MARKERS = ("Ã", "Â", "â", "Å", "Ä")


def repair_mojibake(text: str) -> str:
    """UTF-8 that was read as Latin-1 or cp1252 and encoded again (one board's `â\\x80\\x99`)."""
    if not any(marker in text for marker in _MARKERS):
        return text
    for codec in ("latin-1", "cp1252"):
        try:
            fixed = text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        return fixed
    return text
