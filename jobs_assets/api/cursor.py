"""Opaque pagination cursors: where the next page starts, tied to the query it came from.

A cursor holds the last row's sort key (keyset pagination, so a page never skips or
repeats a row when rows are added before it) and a snapshot bound: only listings first
seen by the time the first page was served are paged through, so a load that lands
while someone pages does not slip new rows into the pages they have not read yet.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
from datetime import UTC, datetime
from typing import Any

#: ts_rank_cd returns a `real`: its largest finite value
MAX_RANK = 3.4028234663852886e38


class CursorError(ValueError):
    """The cursor is not one this API issued for this query."""


def query_digest(parts: dict[str, Any]) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def encode(sort: str, digest: str, snapshot: datetime | None, after: tuple[Any, str, str]) -> str:
    value = after[0].isoformat() if isinstance(after[0], datetime) else after[0]
    data = {"s": sort, "d": digest, "t": snapshot.isoformat() if snapshot else None}
    data["k"] = [value, after[1], after[2]]
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, sort: str, digest: str) -> tuple[datetime | None, tuple[Any, str, str]]:
    """The snapshot and keyset of `token`, or CursorError saying why it does not fit.

    A cursor comes back from the client, so everything in it is checked before it can
    reach a query: a rank is a finite number of the range ts_rank_cd returns (a forged
    1e300 or a 309-digit integer is refused here, not by PostgreSQL), times carry a zone,
    and the ids are text PostgreSQL can hold (no NUL, valid UTF-8)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        value, source, job_id = data["k"]
        snapshot = _aware(data["t"]) if data["t"] is not None else None
        if not (_text(source) and _text(job_id)):
            raise TypeError("bad key")
        if data["s"] != sort or data["d"] != digest:
            raise CursorError("cursor belongs to a different query; start again without it")
        if sort == "relevance":
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise TypeError("bad rank")
            key: Any = float(value)
            if not (math.isfinite(key) and 0.0 <= key <= MAX_RANK):
                raise ValueError("rank out of range")
            # the `real` it was read from: PostgreSQL prints a real in its shortest form
            # ("0.1"), which as a double is not the real the next page compares with
            key = struct.unpack("f", struct.pack("f", key))[0]
        else:
            key = _aware(value)
    except CursorError:
        raise
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        OverflowError,
        UnicodeError,
        RecursionError,
    ) as err:
        raise CursorError("cursor is malformed; use next_cursor from a previous page") from err
    return snapshot, (key, source, job_id)


def _aware(value: object) -> datetime:
    """An ISO time with its zone (a naive one is ambiguous)."""
    if not isinstance(value, str):
        raise TypeError("time is not text")
    stamp = datetime.fromisoformat(value)
    if stamp.tzinfo is None:
        raise TypeError("naive time")
    stamp.astimezone(UTC)  # OverflowError at the ends of the calendar
    return stamp


def _text(value: object) -> bool:
    """Text PostgreSQL can take: a str without NUL that encodes as UTF-8."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    value.encode("utf-8")  # UnicodeEncodeError for a lone surrogate
    return True
