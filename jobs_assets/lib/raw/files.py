"""Small file and time helpers shared by the modules that write files others read."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path


def utc_now() -> datetime:
    return datetime.now(UTC)


def temporary_sibling(path: Path) -> Path:
    """A hidden, unique name beside `path`: written there, then renamed over it."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write `path` so that a reader sees the old file or the new one, never half of it."""
    tmp = temporary_sibling(path)
    try:
        if isinstance(data, str):
            tmp.write_text(data)
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(path: Path, data: object) -> None:
    write_atomic(path, json.dumps(data, indent=2) + "\n")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
