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
from datetime import datetime
from typing import Any


class CursorError(ValueError):
    """The cursor is not one this API issued for this query."""


def query_digest(parts: dict[str, Any]) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def encode(sort: str, digest: str, snapshot: datetime | None, after: tuple[Any, str, str]) -> str:
    value = after[0].isoformat() if isinstance(after[0], datetime) else after[0]
    data = {"s": sort, "d": digest, "t": snapshot.isoformat() if snapshot else None}
    data["k"] = [value, after[1], after[2]]
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, sort: str, digest: str) -> tuple[datetime | None, tuple[Any, str, str]]:
    """The snapshot and keyset of `token`, or CursorError saying why it does not fit."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        value, source, job_id = data["k"]
        snapshot = datetime.fromisoformat(data["t"]) if data["t"] else None
        if not (isinstance(source, str) and isinstance(job_id, str)):
            raise TypeError("bad key")
        if data["s"] != sort or data["d"] != digest:
            raise CursorError("cursor belongs to a different query; start again without it")
        if sort == "relevance":
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise TypeError("bad rank")
            key: Any = float(value)
        else:
            key = datetime.fromisoformat(value)
            if key.tzinfo is None:
                raise TypeError("naive time")
    except CursorError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError) as err:
        raise CursorError("cursor is malformed; use next_cursor from a previous page") from err
    return snapshot, (key, source, job_id)
