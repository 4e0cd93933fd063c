"""The inbox: JSON files an operator drops in, loaded into the current window.

`$JOBS_DATA_DIR/inbox/<source>/<name>.json`, in that source's API format (what its
endpoint returns). `take_files` validates each file with the source's own parser
(no network), stores a good one in the raw store as an extra page of the window and
moves it to `inbox/done/<source>/`; a bad one goes to `inbox/rejected/<source>/` with
`<name>.reason.txt` beside it. Pure (no Dagster): the sensor in
`defs/automation/inbox.py` calls it and requests the runs.

Files still being written are left for the next pass: hidden or `.part`/`.tmp` names,
and files modified less than `settle_seconds` ago.

The inbox is a `Storage` folder (`lib/raw/storage.py`): `inbox/` under `$JOBS_DATA_DIR`, or
under the `JOBS_STORAGE_URL` bucket, where an operator uploads files for a deployment
whose runs have no shared disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jobs_assets.lib.raw.storage import Entry, LocalStorage, Location, Storage, as_storage
from jobs_assets.lib.raw.store import RawStore
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
    moved_to: Path | Location
    already_stored: bool  # the same body was already in the window's inbox

    @property
    def run_key(self) -> str:
        return inbox_run_key(self.source, self.file_name, self.sha256, self.partition_key)


@dataclass(frozen=True)
class Rejected:
    file_name: str
    reason: str
    moved_to: Path | Location


@dataclass
class InboxReport:
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    waiting: int = 0  # files left for the next pass (still being written, or over the limit)
    errors: list[str] = field(default_factory=list)  # files that could not be read or moved


def inbox_run_key(source: str, file_name: str, sha256: str, partition_key: str) -> str:
    """One run per file content and window: a re-evaluated sensor never loads a file twice."""
    return f"inbox:{source}/{file_name}:{sha256}:{partition_key}"


def ensure_folders(inbox: Path | Storage, sources: Mapping[str, Source]) -> None:
    """Create `inbox/<source>/` for each source, so an operator sees where to drop files
    (a bucket has no empty folders: nothing to create there)."""
    store = as_storage(inbox)
    if isinstance(store, LocalStorage):
        for name in sources:
            (store.root / name).mkdir(parents=True, exist_ok=True)


def _in_progress(name: str) -> bool:
    return name.startswith(".") or name.endswith(IN_PROGRESS_SUFFIXES)


def candidates(
    inbox: Path | Storage, sources: Mapping[str, Source]
) -> list[tuple[str | None, Entry]]:
    """`(source or None, stored file)` for every file waiting in the inbox, oldest first.

    A file outside a known source folder gets `None`: it is rejected with a reason
    rather than silently ignored.
    """
    store = as_storage(inbox)
    found: list[tuple[str | None, Entry]] = []
    top = store.files("")
    names = {entry.key for entry in top}
    found += [(None, entry) for entry in top if not _in_progress(entry.key)]
    for folder in store.children(""):
        if folder in names or folder in (DONE, REJECTED) or _in_progress(folder):
            continue
        source = folder if folder in sources else None
        for entry in store.files(folder):
            if not _in_progress(_name(entry.key)):
                found.append((source, entry))
    return sorted(found, key=lambda item: item[1].modified_ns)


def _name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def _move(store: Storage, key: str, folder: str, sha256: str) -> Path | Location:
    """Move keeping the name; a name already there gets the content hash in front."""
    target = f"{folder}/{_name(key)}"
    if store.exists(target):
        target = f"{folder}/{sha256[:12]}-{_name(key)}"
    store.move(key, target)
    return store.where(target)


def _reject(store: Storage, source: str | None, key: str, reason: str, sha256: str) -> Rejected:
    folder = f"{REJECTED}/{source or 'unknown'}"
    target = _move(store, key, folder, sha256)
    text = (
        f"{_name(key)} was rejected: {reason}\n"
        "Fix the file (or put it in the right inbox/<source>/ folder) and drop it again.\n"
    )
    store.put_bytes(f"{folder}/{target.name}.reason.txt", text.encode())
    return Rejected(_name(key), reason, target)


def take_files(
    inbox: Path | Storage,
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
    files = as_storage(inbox)
    report = InboxReport()
    for source_name, entry in candidates(files, sources):
        try:
            if now.timestamp() - entry.modified < settle_seconds or (
                len(report.accepted) + len(report.rejected) >= limit
            ):
                report.waiting += 1
                continue
            outcome = _take_one(files, store, sources, partition_key, source_name, entry)
        except FileNotFoundError:
            continue  # taken away since the listing
        except OSError as err:
            where = files.location(entry.key)
            report.errors.append(f"{where}: {err}; left in place, retried on the next pass")
            continue
        if isinstance(outcome, Accepted):
            report.accepted.append(outcome)
        else:
            report.rejected.append(outcome)
    return report


def _take_one(
    files: Storage,
    store: RawStore,
    sources: Mapping[str, Source],
    partition_key: str,
    source_name: str | None,
    entry: Entry,
) -> Accepted | Rejected:
    key, name = entry.key, _name(entry.key)
    if entry.size > MAX_FILE_BYTES:
        reason = f"{entry.size} bytes, over the inbox limit of {MAX_FILE_BYTES}"
        return _reject(files, source_name, key, reason, "large")
    body = files.get_bytes(key)
    sha256 = hashlib.sha256(body).hexdigest()
    if source_name is None:
        parent = key.rsplit("/", 1)[0] if "/" in key else ""
        where = f"inbox/{parent}/" if parent else "the inbox root"
        known = ", ".join(sorted(sources))
        reason = f"it is in {where}; put it in inbox/<source>/ (one of: {known})"
        return _reject(files, None, key, reason, sha256)
    if not name.lower().endswith(".json"):
        reason = f"not a .json file; the inbox takes {source_name}'s API JSON responses"
        return _reject(files, source_name, key, reason, sha256)
    parsed = sources[source_name].parse(body)
    if parsed.error:
        reason = f"not a {source_name} API response: {parsed.error}"
        return _reject(files, source_name, key, reason, sha256)
    if not parsed.records:
        details = "; ".join(r.reason for r in parsed.rejects[:3])
        reason = "no usable listings in it" + (
            f" ({len(parsed.rejects)} rejected: {details})" if parsed.rejects else ""
        )
        return _reject(files, source_name, key, reason, sha256)
    received_at = datetime.now(UTC)
    _entry, added = store.add_inbox_page(source_name, partition_key, body, name, received_at)
    moved = _move(files, key, f"{DONE}/{source_name}", sha256)
    return Accepted(
        source=source_name,
        file_name=name,
        sha256=sha256,
        partition_key=partition_key,
        listings=len(parsed.records),
        rejected_listings=len(parsed.rejects),
        moved_to=moved,
        already_stored=not added,
    )
