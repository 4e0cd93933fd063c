"""The inbox: JSON files an operator drops in, loaded into the current window.

`$JOBS_DATA_DIR/inbox/<source>/<name>.json`, in that source's API format (what its
endpoint returns). `take_files` validates each file with the source's own parser
(no network), stores a good one in the raw store as an extra page of the window and
moves it to `inbox/done/<source>/`; a bad one goes to `inbox/rejected/<source>/` with
`<name>.reason.txt` beside it. Pure (no Dagster): the sensor in
`defs/automation/inbox.py` calls it and requests the runs.

Files still being written are left for the next pass: hidden or `.part`/`.tmp` names,
and files modified less than `settle_seconds` ago.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jobs_assets.lib.raw_store import RawStore
from jobs_assets.lib.sources import Source

DONE = "done"
REJECTED = "rejected"
IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")
MAX_FILE_BYTES = 200_000_000  # a sensor must stay quick; bigger exports belong in a backfill
DEFAULT_SETTLE_SECONDS = 3.0


@dataclass(frozen=True)
class Accepted:
    source: str
    file_name: str
    sha256: str
    partition_key: str
    listings: int
    rejected_listings: int
    moved_to: Path
    already_stored: bool  # the same body was already in the window's inbox

    @property
    def run_key(self) -> str:
        return inbox_run_key(self.source, self.file_name, self.sha256, self.partition_key)


@dataclass(frozen=True)
class Rejected:
    file_name: str
    reason: str
    moved_to: Path


@dataclass
class InboxReport:
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    waiting: int = 0  # files left for the next pass (still being written, or over the limit)
    errors: list[str] = field(default_factory=list)  # files that could not be read or moved


def inbox_run_key(source: str, file_name: str, sha256: str, partition_key: str) -> str:
    """One run per file content and window: a re-evaluated sensor never loads a file twice."""
    return f"inbox:{source}/{file_name}:{sha256}:{partition_key}"


def ensure_folders(inbox: Path, sources: Mapping[str, Source]) -> None:
    """Create `inbox/<source>/` for each source, so an operator sees where to drop files."""
    for name in sources:
        (inbox / name).mkdir(parents=True, exist_ok=True)


def _in_progress(path: Path) -> bool:
    return path.name.startswith(".") or path.name.endswith(IN_PROGRESS_SUFFIXES)


def candidates(inbox: Path, sources: Mapping[str, Source]) -> list[tuple[str | None, Path]]:
    """`(source or None, file)` for every file waiting in the inbox, oldest first.

    A file outside a known source folder gets `None`: it is rejected with a reason
    rather than silently ignored.
    """
    found: list[tuple[str | None, Path]] = []
    if not inbox.exists():
        return found
    for entry in inbox.iterdir():
        if entry.name in (DONE, REJECTED) or _in_progress(entry):
            continue
        if entry.is_file():
            found.append((None, entry))
        elif entry.is_dir():
            source = entry.name if entry.name in sources else None
            for path in entry.iterdir():
                if path.is_file() and not _in_progress(path):
                    found.append((source, path))

    def modified(item: tuple[str | None, Path]) -> float:
        try:
            return item[1].stat().st_mtime
        except OSError:  # gone since the listing (moved by hand): sorts first, then skipped
            return 0.0

    return sorted(found, key=modified)


def _move(path: Path, folder: Path, sha256: str) -> Path:
    """Move keeping the name; a name already there gets the content hash in front."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{sha256[:12]}-{path.name}"
    os.replace(path, target)
    return target


def _reject(inbox: Path, source: str | None, path: Path, reason: str, sha256: str) -> Rejected:
    folder = inbox / REJECTED / (source or "unknown")
    target = _move(path, folder, sha256)
    target.with_name(target.name + ".reason.txt").write_text(
        f"{path.name} was rejected: {reason}\n"
        "Fix the file (or put it in the right inbox/<source>/ folder) and drop it again.\n"
    )
    return Rejected(path.name, reason, target)


def take_files(
    inbox: Path,
    store: RawStore,
    sources: Mapping[str, Source],
    partition_key: str,
    now: datetime | None = None,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    limit: int = 20,
) -> InboxReport:
    """Validate, store and move up to `limit` settled files into window `partition_key`.

    A file that cannot be read or moved (permissions, a full disk) stays where it is,
    is reported in `errors`, and does not stop the other files.
    """
    now = now or datetime.now(UTC)
    report = InboxReport()
    for source_name, path in candidates(inbox, sources):
        try:
            modified = path.stat().st_mtime
            if now.timestamp() - modified < settle_seconds or (
                len(report.accepted) + len(report.rejected) >= limit
            ):
                report.waiting += 1
                continue
            outcome = _take_one(inbox, store, sources, partition_key, source_name, path)
        except FileNotFoundError:
            continue  # taken away since the listing
        except OSError as err:
            report.errors.append(f"{path}: {err}; left in place, retried on the next pass")
            continue
        if isinstance(outcome, Accepted):
            report.accepted.append(outcome)
        else:
            report.rejected.append(outcome)
    return report


def _take_one(
    inbox: Path,
    store: RawStore,
    sources: Mapping[str, Source],
    partition_key: str,
    source_name: str | None,
    path: Path,
) -> Accepted | Rejected:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        reason = f"{size} bytes, over the inbox limit of {MAX_FILE_BYTES}"
        return _reject(inbox, source_name, path, reason, "large")
    body = path.read_bytes()
    sha256 = hashlib.sha256(body).hexdigest()
    if source_name is None:
        where = "the inbox root" if path.parent == inbox else f"inbox/{path.parent.name}/"
        known = ", ".join(sorted(sources))
        reason = f"it is in {where}; put it in inbox/<source>/ (one of: {known})"
        return _reject(inbox, None, path, reason, sha256)
    if path.suffix.lower() != ".json":
        reason = f"not a .json file; the inbox takes {source_name}'s API JSON responses"
        return _reject(inbox, source_name, path, reason, sha256)
    parsed = sources[source_name].parse(body)
    if parsed.error:
        reason = f"not a {source_name} API response: {parsed.error}"
        return _reject(inbox, source_name, path, reason, sha256)
    if not parsed.records:
        details = "; ".join(r.reason for r in parsed.rejects[:3])
        reason = "no usable listings in it" + (
            f" ({len(parsed.rejects)} rejected: {details})" if parsed.rejects else ""
        )
        return _reject(inbox, source_name, path, reason, sha256)
    received_at = datetime.now(UTC)
    _entry, added = store.add_inbox_page(source_name, partition_key, body, path.name, received_at)
    moved = _move(path, inbox / DONE / source_name, sha256)
    return Accepted(
        source=source_name,
        file_name=path.name,
        sha256=sha256,
        partition_key=partition_key,
        listings=len(parsed.records),
        rejected_listings=len(parsed.rejects),
        moved_to=moved,
        already_stored=not added,
    )
