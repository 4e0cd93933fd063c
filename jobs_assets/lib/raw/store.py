"""The raw store: every response body exactly as received, one file per page.

Layout: `$JOBS_DATA_DIR/raw/<source>/<window>/page-0000.json.gz` plus a
`manifest.json`. Pages are written into a hidden temporary folder the moment they
arrive (before anything parses them) and the folder replaces the window's only
when the fetch is complete, so a window is never half-replaced. Bodies of a fetch
that failed are moved to `raw/<source>/failed/` rather than lost.

Files at rest can be damaged: a page or manifest that cannot be read gives a
`RawFileError` naming the file. A live re-fetch of such a window still works (the
damaged copy is moved under `failed/` with the reason), and the temporary folders of
a fetch that was killed are removed by the next fetch of the source. Two fetches of
the same window never interleave: the caller holds the window's lock in PostgreSQL
(`lib/ops/window_lock.py`), which every process and pod on the database sees.

Files dropped in the inbox are kept apart, under `raw/<source>/inbox/<window>/`
with their own manifest: a later live fetch replaces the window's fetched pages but
never the inbox pages, and staging reads both (fetched pages first).

Every file goes through a `Storage` (`lib/raw/storage.py`, chosen by `JOBS_STORAGE_URL`):
on the local disk a window is published by renaming its folder; on object storage
(no rename) the pages are uploaded under a staging prefix named after the writer
(`.tmp-<window>-<host>-<pid>-<time>-<random>`), the staging manifest is written as
the intent to publish, then the old window's manifest is removed, the pages copied
and the manifest written last: readers trust only a window with a manifest. A
staging prefix whose writer is gone is rolled forward when it holds a manifest and
removed otherwise, by the next fetch of the source.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import shutil
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jobs_assets.lib.errors import RawFileError, storage_error
from jobs_assets.lib.raw.storage import LocalStorage, Location, Storage, staging_name
from jobs_assets.lib.redact import mask_url, redact
from jobs_assets.lib.sources.base import Page

MANIFEST = "manifest.json"
INBOX = "inbox"
OWNER_LOCK = ".owner.lock"  # held by the writing process while its temporary folder lives
STALE_AFTER_SECONDS = 60.0  # leftovers without a live owner older than this are removed
#: on object storage a writer on another machine cannot be asked whether it is alive
REMOTE_STALE_AFTER_SECONDS = 3600.0
_inbox_lock = threading.Lock()


def window_dirname(partition_key: str) -> str:
    """`2026-11-22-04:00` -> `2026-11-22-0400`: no colon in paths (Docker, Windows, tar)."""
    return partition_key.replace(":", "")


@dataclass
class WindowWriter:
    """Collects a window's pages under a staging prefix; `commit()` publishes them."""

    store: RawStore
    source: str
    partition_key: str
    origin: str
    staging: str  # the storage key of the staging "folder"
    pages: list[dict] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    owner: int | None = None  # the file descriptor holding OWNER_LOCK (local disk only)
    suffix: str = ".json.gz"  # what the bodies are (the ECB rates file is XML)

    @property
    def tmp_dir(self) -> Path:
        """The staging folder on the local disk (its URL on object storage)."""
        return Path(self.store.storage.location(self.staging))

    def keep(self, page: Page) -> None:
        name = f"page-{page.index:04d}{self.suffix}"
        try:
            self.store.put_new(f"{self.staging}/{name}", gzip.compress(page.body, 5))
        except OSError as err:
            raise storage_error(err, f"{self.source} window {self.partition_key}") from None
        entry = {
            "file": name,
            "index": page.index,
            "url": mask_url(page.url),
            "status": page.status,
            "content_type": page.content_type,
            "bytes": len(page.body),
            "sha256": hashlib.sha256(page.body).hexdigest(),
            "retrieved_at": page.retrieved_at.isoformat(),
        }
        with self._lock:
            self.pages.append(entry)

    def read_back(self) -> Iterator[Page]:
        """The pages written so far, in page order (to parse before committing)."""
        entries = sorted(self.pages, key=lambda p: p["index"])
        return _read_pages(self.store.storage, self.staging, entries)

    def commit(self, extra: dict | None = None) -> Path | Location:
        """Write the manifest and replace the stored window in one step readers can see.

        A stored copy that is damaged is not deleted: it goes under `failed/` with why.
        """
        manifest = {
            "source": self.source,
            "partition_key": self.partition_key,
            "origin": self.origin,
            "fetched_at": max((p["retrieved_at"] for p in self.pages), default=None),
            "pages": sorted(self.pages, key=lambda p: p["index"]),
            **(extra or {}),
        }
        storage = self.store.storage
        final = self.store.window_key(self.source, self.partition_key)
        try:
            text = redact(json.dumps(manifest, indent=2)).encode()
            storage.put_bytes(f"{self.staging}/{MANIFEST}", text)  # the intent to publish
            self._release()
            if storage.exists(f"{final}/{MANIFEST}"):
                damage = self.store.damage(self.source, self.partition_key)
                if damage:
                    self.store.set_aside(
                        final,
                        self.source,
                        self.partition_key,
                        f"replaced by a live re-fetch; the stored copy was damaged: {damage}",
                    )
            self.store.publish(self.staging, final)
        except OSError as err:
            raise storage_error(err, f"{self.source} window {self.partition_key}") from None
        return self.store.window_dir(self.source, self.partition_key)

    def abandon(self, reason: str) -> Path | Location | None:
        """Keep what arrived of a failed fetch under `failed/`, with the reason.

        Never raises: it runs while another error is on its way to the operator.
        """
        self._release()
        storage = self.store.storage
        if not self.pages:
            with contextlib.suppress(OSError):
                storage.delete_prefix(self.staging)
            return None
        try:
            return self.store.set_aside(self.staging, self.source, self.partition_key, reason)
        except OSError:
            return None  # e.g. the disk is full: the staging folder goes on the next fetch

    def _release(self) -> None:
        if self.owner is not None:
            with contextlib.suppress(OSError):
                (self.tmp_dir / OWNER_LOCK).unlink(missing_ok=True)
            os.close(self.owner)
            self.owner = None


def _read_pages(storage: Storage, folder: str, entries: list[dict]) -> Iterator[Page]:
    for entry in entries:
        key = f"{folder}/{entry.get('file', '?')}"
        try:
            body = gzip.decompress(storage.get_bytes(key))
            page = Page(
                index=entry["index"],
                url=entry["url"],
                status=entry["status"],
                content_type=entry.get("content_type", ""),
                body=body,
                retrieved_at=datetime.fromisoformat(entry["retrieved_at"]),
            )
        except (OSError, EOFError, zlib.error, KeyError, TypeError, ValueError) as err:
            what = f"{type(err).__name__}: {err}"
            raise RawFileError(_damaged(storage.location(key), what)) from None
        digest = entry.get("sha256")
        if digest and hashlib.sha256(body).hexdigest() != digest:
            raise RawFileError(
                _damaged(storage.location(key), "its content does not match the manifest's sha256")
            )
        yield page


def _damaged(path: Path | Location, what: str) -> str:
    return (
        f"stored raw file {path} is damaged ({what}). Re-materialise the window's raw asset: "
        "a live window is fetched again and the damaged copy moved under failed/; an older "
        "one needs its raw files restored from a backup (`jobs restore`)"
    )


def _load_manifest(storage: Storage, key: str) -> dict | None:
    try:
        text = storage.get_bytes(key)
    except FileNotFoundError:
        return None
    except OSError as err:
        what = f"{type(err).__name__}: {err.strerror or err}"
        raise RawFileError(_damaged(storage.location(key), what)) from None
    try:
        manifest = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise RawFileError(_damaged(storage.location(key), f"not valid JSON: {err}")) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("pages"), list):
        raise RawFileError(_damaged(storage.location(key), "no list of pages in it"))
    return manifest


def _owner_gone(folder: Path) -> bool:
    """True when no live process holds the folder's owner lock (and it is not brand new)."""
    lock = folder / OWNER_LOCK
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        try:
            return time.time() - folder.stat().st_mtime > STALE_AFTER_SECONDS
        except OSError:
            return False
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # its writer is alive
    finally:
        os.close(fd)
    return True


def _writer_gone(name: str, now: float) -> bool:
    """For a staging name `.tmp-<window>-<host>-<pid>-<time>-<random>` on object storage:
    its writer is gone when it ran on this host and its pid is dead, or it is old."""
    parts = name.rsplit("-", 4)
    if len(parts) != 5:
        return True  # not one of ours in the current form: an older leftover
    _, host, pid, started, _ = parts
    try:
        pid_number, started_at = int(pid), float(started)
    except ValueError:
        return True
    if host == socket.gethostname().replace("-", "_")[:40]:
        if pid_number == os.getpid():
            return False
        try:
            os.kill(pid_number, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # alive, someone else's
    return now - started_at > REMOTE_STALE_AFTER_SECONDS


class RawStore:
    """The raw lake of one deployment; `storage` defaults to the local `data_dir`."""

    def __init__(self, data_dir: Path, storage: Storage | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.storage = storage or LocalStorage(self.data_dir)
        self.root = self.data_dir / "raw"  # on the local disk

    def window_key(self, source: str, partition_key: str) -> str:
        return f"raw/{source}/{window_dirname(partition_key)}"

    def window_dir(self, source: str, partition_key: str) -> Path | Location:
        """Where the window is: a folder on the local disk, else its URL."""
        key = self.window_key(source, partition_key)
        return self._where(key)

    def _where(self, key: str) -> Path | Location:
        return self.storage.where(key)

    def has_window(self, source: str, partition_key: str) -> bool:
        return self.storage.exists(f"{self.window_key(source, partition_key)}/{MANIFEST}")

    def put_new(self, key: str, data: bytes) -> None:
        """Write a staging file nobody reads yet (directly on disk; one PUT otherwise)."""
        if isinstance(self.storage, LocalStorage):
            path = self.storage.path(key)
            path.write_bytes(data)
        else:
            self.storage.put_bytes(key, data)

    def writer(
        self, source: str, partition_key: str, origin: str = "live", suffix: str = ".json.gz"
    ) -> WindowWriter:
        """A writer under a fresh staging prefix; leftovers of killed fetches are removed."""
        window = window_dirname(partition_key)
        owner = None
        try:
            self.remove_leftovers(source)
            if isinstance(self.storage, LocalStorage):
                staging = f"raw/{source}/.tmp-{window}-{uuid.uuid4().hex[:8]}"
                tmp = self.storage.path(staging)
                tmp.mkdir(parents=True)
                owner = os.open(tmp / OWNER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(owner, fcntl.LOCK_EX)
            else:
                staging = f"raw/{source}/{staging_name(f'.tmp-{window}')}"
        except OSError as err:
            raise storage_error(err, f"{source} window {partition_key}") from None
        return WindowWriter(
            self, source, partition_key, origin, staging, owner=owner, suffix=suffix
        )

    def publish(self, staging: str, final: str) -> None:
        """Replace the window at `final` by the staged one (whose manifest is written).

        Local disk: one rename (the old folder is renamed aside first, then removed).
        Object storage: the old manifest goes first (the window is unpublished), then
        the pages are copied, then the manifest: killed anywhere in between, the
        staging prefix still holds the manifest and the next fetch finishes the job.
        """
        storage = self.storage
        if isinstance(storage, LocalStorage):
            target = storage.path(final)
            target.parent.mkdir(parents=True, exist_ok=True)
            old = None
            if target.exists():
                old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:8]}")
                os.replace(target, old)
            os.replace(storage.path(staging), target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            return
        manifest = storage.get_bytes(f"{staging}/{MANIFEST}")
        storage.delete(f"{final}/{MANIFEST}")
        storage.delete_prefix(final)
        for entry in storage.list(staging):
            name = entry.key[len(staging) + 1 :]
            if name != MANIFEST:
                storage.put_bytes(f"{final}/{name}", storage.get_bytes(entry.key))
        storage.put_bytes(f"{final}/{MANIFEST}", manifest)  # the commit point
        storage.delete_prefix(staging)

    def remove_leftovers(self, source: str) -> list[Path | Location]:
        """Staging folders of fetches that were killed (no live owner); returns them.

        On object storage a leftover holding its manifest was being published when its
        writer died: the publication is finished instead (the window was complete).
        """
        removed: list[Path | Location] = []
        base = f"raw/{source}"
        if isinstance(self.storage, LocalStorage):
            folder_of = self.storage.path
            for name in self.storage.children(base):
                folder = folder_of(f"{base}/{name}")
                leftover = folder.is_dir() and name.startswith((".tmp-", ".old-"))
                if leftover and _owner_gone(folder):
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
            return removed
        now = time.time()
        for name in self.storage.children(base):
            if not name.startswith(".tmp-") or not _writer_gone(name, now):
                continue
            staging = f"{base}/{name}"
            window = name[len(".tmp-") :].rsplit("-", 4)[0]
            if self.storage.exists(f"{staging}/{MANIFEST}"):
                self.publish(staging, f"{base}/{window}")
            else:
                self.storage.delete_prefix(staging)
            removed.append(self.storage.location(staging))
        return removed

    def set_aside(
        self, folder: str, source: str, partition_key: str, reason: str
    ) -> Path | Location:
        """Move the `folder` key to `raw/<source>/failed/` with a `reason.txt`; returns where."""
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        target = (
            f"raw/{source}/failed/{window_dirname(partition_key)}-{stamp}-{uuid.uuid4().hex[:6]}"
        )
        self.storage.put_bytes(f"{folder}/reason.txt", redact(reason).encode())
        self.storage.move_prefix(folder, target)
        return self._where(target)

    def damage(self, source: str, partition_key: str) -> str | None:
        """Why the stored window cannot be read, or None when every file reads back intact."""
        try:
            for _ in self.read_pages(source, partition_key):
                pass
        except RawFileError as err:
            return str(err).split(". Re-materialise")[0]
        return None

    def manifest(self, source: str, partition_key: str) -> dict | None:
        """The window's manifest; `RawFileError` naming the file when it is damaged."""
        key = f"{self.window_key(source, partition_key)}/{MANIFEST}"
        return _load_manifest(self.storage, key)

    def read_pages(self, source: str, partition_key: str) -> Iterator[Page]:
        """The stored pages of a window, in page order, with their bodies."""
        manifest = self.manifest(source, partition_key)
        if manifest is None:
            return
        folder = self.window_key(source, partition_key)
        yield from _read_pages(self.storage, folder, manifest["pages"])

    def last_live_fetch(self, source: str) -> datetime | None:
        """When the source was last fetched live, from the newest windows' manifests."""
        windows = sorted(
            (
                name
                for name in self.storage.children(f"raw/{source}")
                if not name.startswith((".", "failed", INBOX))
            ),
            reverse=True,
        )
        latest: datetime | None = None
        for name in windows[:5]:  # a fetch lands in a recent window; no need to scan history
            try:
                manifest = _load_manifest(self.storage, f"raw/{source}/{name}/{MANIFEST}")
            except RawFileError:
                continue  # a damaged window must not stop the next live fetch
            if manifest is None:
                continue
            if manifest.get("origin") == "live" and manifest.get("fetched_at"):
                fetched = datetime.fromisoformat(manifest["fetched_at"])
                latest = fetched if latest is None or fetched > latest else latest
        return latest

    # --- the inbox: pages an operator dropped in, kept beside the fetched window -----

    def inbox_key(self, source: str, partition_key: str) -> str:
        return f"raw/{source}/{INBOX}/{window_dirname(partition_key)}"

    def inbox_dir(self, source: str, partition_key: str) -> Path | Location:
        return self._where(self.inbox_key(source, partition_key))

    def inbox_manifest(self, source: str, partition_key: str) -> dict | None:
        key = f"{self.inbox_key(source, partition_key)}/{MANIFEST}"
        return _load_manifest(self.storage, key)

    def add_inbox_page(
        self,
        source: str,
        partition_key: str,
        body: bytes,
        file_name: str,
        received_at: datetime,
    ) -> tuple[dict, bool]:
        """Store one inbox file as an extra page of the window; `(entry, added)`.

        Idempotent: a body already in the window's inbox (same sha256) is not added
        again, so a re-evaluated sensor never stores a file twice. The manifest is
        replaced atomically, after the page file is stored.
        """
        digest = hashlib.sha256(body).hexdigest()
        folder = self.inbox_key(source, partition_key)
        with _inbox_lock:
            manifest = self.inbox_manifest(source, partition_key) or {
                "source": source,
                "partition_key": partition_key,
                "origin": INBOX,
                "pages": [],
            }
            for entry in manifest["pages"]:
                if entry["sha256"] == digest:
                    return entry, False
            index = len(manifest["pages"])
            name = f"inbox-{index:04d}.json.gz"
            self.storage.put_bytes(f"{folder}/{name}", gzip.compress(body, 5))
            entry = {
                "file": name,
                "index": index,
                "url": f"inbox:{source}/{file_name}",
                "status": 200,
                "content_type": "application/json",
                "bytes": len(body),
                "sha256": digest,
                "retrieved_at": received_at.isoformat(),
                "file_name": file_name,
            }
            manifest["pages"].append(entry)
            manifest["received_at"] = entry["retrieved_at"]
            self.storage.put_bytes(f"{folder}/{MANIFEST}", json.dumps(manifest, indent=2).encode())
        return entry, True

    def read_inbox_pages(self, source: str, partition_key: str) -> Iterator[Page]:
        """The window's inbox pages, in arrival order."""
        manifest = self.inbox_manifest(source, partition_key)
        if manifest is None:
            return
        folder = self.inbox_key(source, partition_key)
        yield from _read_pages(self.storage, folder, manifest["pages"])

    def read_window_pages(self, source: str, partition_key: str) -> Iterator[Page]:
        """What staging loads: the fetched (or stored) pages, then the inbox pages.

        Fetched pages come first, so a listing present in both keeps the API's copy.
        """
        yield from self.read_pages(source, partition_key)
        yield from self.read_inbox_pages(source, partition_key)

    def inbox_pages_since(self, after: datetime) -> list[tuple[str, str, dict]]:
        """`(source, partition_key, entry)` of inbox pages received after `after`, oldest first.

        Only manifests written since `after` are opened, so this stays cheap however
        long the history.
        """
        found: list[tuple[str, str, dict]] = []
        cutoff = after.timestamp() - 1  # mtime resolution
        for source in self.storage.children("raw"):
            for stored in self.storage.list(f"raw/{source}/{INBOX}"):
                if not stored.key.endswith(f"/{MANIFEST}") or stored.modified < cutoff:
                    continue
                manifest = json.loads(self.storage.get_bytes(stored.key))
                for entry in manifest["pages"]:
                    if datetime.fromisoformat(entry["retrieved_at"]) > after:
                        found.append((manifest["source"], manifest["partition_key"], entry))
        return sorted(found, key=lambda item: item[2]["retrieved_at"])
