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
the same window never interleave: `window_lock` makes the second wait (or fail, saying
so).

Files dropped in the inbox are kept apart, under `raw/<source>/inbox/<window>/`
with their own manifest: a later live fetch replaces the window's fetched pages but
never the inbox pages, and staging reads both (fetched pages first).
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jobs_assets.lib.errors import RawFileError, WindowBusy, storage_error
from jobs_assets.lib.redact import mask_url, redact
from jobs_assets.lib.sources.base import Page

MANIFEST = "manifest.json"
INBOX = "inbox"
OWNER_LOCK = ".owner.lock"  # held by the writing process while its temporary folder lives
STALE_AFTER_SECONDS = 60.0  # leftovers without a live owner older than this are removed
_inbox_lock = threading.Lock()


def window_dirname(partition_key: str) -> str:
    """`2026-11-22-04:00` -> `2026-11-22-0400`: no colon in paths (Docker, Windows, tar)."""
    return partition_key.replace(":", "")


@dataclass
class WindowWriter:
    """Collects a window's pages in a temporary folder; `commit()` publishes them."""

    store: RawStore
    source: str
    partition_key: str
    origin: str
    tmp_dir: Path
    pages: list[dict] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    owner: int | None = None  # the file descriptor holding OWNER_LOCK
    suffix: str = ".json.gz"  # what the bodies are (the ECB rates file is XML)

    def keep(self, page: Page) -> None:
        name = f"page-{page.index:04d}{self.suffix}"
        try:
            with gzip.open(self.tmp_dir / name, "wb", compresslevel=5) as fh:
                fh.write(page.body)
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
        return _read_pages(self.tmp_dir, sorted(self.pages, key=lambda p: p["index"]))

    def commit(self, extra: dict | None = None) -> Path:
        """Write the manifest and atomically replace the stored window.

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
        final = self.store.window_dir(self.source, self.partition_key)
        try:
            (self.tmp_dir / MANIFEST).write_text(redact(json.dumps(manifest, indent=2)))
            self._release()
            final.parent.mkdir(parents=True, exist_ok=True)
            old = None
            if final.exists():
                damage = self.store.damage(self.source, self.partition_key)
                if damage:
                    self.store.set_aside(
                        final,
                        self.source,
                        self.partition_key,
                        f"replaced by a live re-fetch; the stored copy was damaged: {damage}",
                    )
                else:
                    old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
                    os.replace(final, old)
            os.replace(self.tmp_dir, final)
        except OSError as err:
            raise storage_error(err, f"{self.source} window {self.partition_key}") from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def abandon(self, reason: str) -> Path | None:
        """Keep what arrived of a failed fetch under `failed/`, with the reason.

        Never raises: it runs while another error is on its way to the operator.
        """
        self._release()
        if not self.pages:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            return None
        try:
            return self.store.set_aside(self.tmp_dir, self.source, self.partition_key, reason)
        except OSError:
            return None  # e.g. the disk is full: the temporary folder goes on the next fetch

    def _release(self) -> None:
        if self.owner is not None:
            with contextlib.suppress(OSError):
                (self.tmp_dir / OWNER_LOCK).unlink(missing_ok=True)
            os.close(self.owner)
            self.owner = None


def _read_pages(folder: Path, entries: list[dict]) -> Iterator[Page]:
    for entry in entries:
        path = folder / str(entry.get("file", "?"))
        try:
            with gzip.open(path, "rb") as fh:
                body = fh.read()
            page = Page(
                index=entry["index"],
                url=entry["url"],
                status=entry["status"],
                content_type=entry.get("content_type", ""),
                body=body,
                retrieved_at=datetime.fromisoformat(entry["retrieved_at"]),
            )
        except (OSError, EOFError, zlib.error, KeyError, TypeError, ValueError) as err:
            raise RawFileError(_damaged(path, f"{type(err).__name__}: {err}")) from None
        digest = entry.get("sha256")
        if digest and hashlib.sha256(body).hexdigest() != digest:
            raise RawFileError(_damaged(path, "its content does not match the manifest's sha256"))
        yield page


def _damaged(path: Path, what: str) -> str:
    return (
        f"stored raw file {path} is damaged ({what}). Re-materialise the window's raw asset: "
        "a live window is fetched again and the damaged copy moved under failed/; an older "
        "one needs its raw files restored from a backup (`jobs restore`)"
    )


def _load_manifest(path: Path) -> dict | None:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise RawFileError(_damaged(path, f"{type(err).__name__}: {err.strerror}")) from None
    try:
        manifest = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise RawFileError(_damaged(path, f"not valid JSON: {err}")) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("pages"), list):
        raise RawFileError(_damaged(path, "no list of pages in it"))
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


class RawStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "raw"

    def window_dir(self, source: str, partition_key: str) -> Path:
        return self.root / source / window_dirname(partition_key)

    def has_window(self, source: str, partition_key: str) -> bool:
        return (self.window_dir(source, partition_key) / MANIFEST).exists()

    def writer(
        self, source: str, partition_key: str, origin: str = "live", suffix: str = ".json.gz"
    ) -> WindowWriter:
        """A writer in a fresh temporary folder; leftovers of killed fetches are removed."""
        base = self.root / source
        tmp = base / f".tmp-{window_dirname(partition_key)}-{uuid.uuid4().hex[:8]}"
        try:
            base.mkdir(parents=True, exist_ok=True)
            self.remove_leftovers(source)
            tmp.mkdir()
            owner = os.open(tmp / OWNER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise storage_error(err, f"{source} window {partition_key}") from None
        fcntl.flock(owner, fcntl.LOCK_EX)
        return WindowWriter(self, source, partition_key, origin, tmp, owner=owner, suffix=suffix)

    def remove_leftovers(self, source: str) -> list[Path]:
        """Temporary folders of fetches that were killed (no live owner); returns them."""
        base = self.root / source
        removed = []
        if not base.exists():
            return removed
        for folder in base.iterdir():
            leftover = folder.is_dir() and folder.name.startswith((".tmp-", ".old-"))
            if leftover and _owner_gone(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        return removed

    @contextlib.contextmanager
    def window_lock(
        self, source: str, partition_key: str, wait_seconds: float = 900.0
    ) -> Iterator[None]:
        """Hold the source's window for one fetch; a second one waits, then fails saying so."""
        folder = self.root.parent / "locks" / source  # outside raw/: never backed up
        path = folder / f"{window_dirname(partition_key)}.lock"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise storage_error(err, f"{source} window {partition_key}") from None
        try:
            waited_until = time.monotonic() + max(0.0, wait_seconds)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= waited_until:
                        raise WindowBusy(
                            f"{source} window {partition_key} is being fetched by another run "
                            f"(lock {path}); waited {wait_seconds:g} s. Let that run finish, "
                            "then re-run this one if its result is not enough"
                        ) from None
                    time.sleep(0.2)
            yield
        finally:
            os.close(fd)

    def set_aside(self, folder: Path, source: str, partition_key: str, reason: str) -> Path:
        """Move `folder` to `raw/<source>/failed/` with a `reason.txt`; returns where."""
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        target = (
            self.root
            / source
            / "failed"
            / f"{window_dirname(partition_key)}-{stamp}-{uuid.uuid4().hex[:6]}"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        (folder / "reason.txt").write_text(redact(reason))
        os.replace(folder, target)
        return target

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
        return _load_manifest(self.window_dir(source, partition_key) / MANIFEST)

    def read_pages(self, source: str, partition_key: str) -> Iterator[Page]:
        """The stored pages of a window, in page order, with their bodies."""
        manifest = self.manifest(source, partition_key)
        if manifest is None:
            return
        yield from _read_pages(self.window_dir(source, partition_key), manifest["pages"])

    def last_live_fetch(self, source: str) -> datetime | None:
        """When the source was last fetched live, from the newest windows' manifests."""
        base = self.root / source
        if not base.exists():
            return None
        windows = sorted(
            (
                p
                for p in base.iterdir()
                if p.is_dir() and not p.name.startswith((".", "failed", INBOX))
            ),
            reverse=True,
        )
        latest: datetime | None = None
        for folder in windows[:5]:  # a fetch lands in a recent window; no need to scan history
            try:
                manifest = _load_manifest(folder / MANIFEST)
            except RawFileError:
                continue  # a damaged window must not stop the next live fetch
            if manifest is None:
                continue
            if manifest.get("origin") == "live" and manifest.get("fetched_at"):
                fetched = datetime.fromisoformat(manifest["fetched_at"])
                latest = fetched if latest is None or fetched > latest else latest
        return latest

    # --- the inbox: pages an operator dropped in, kept beside the fetched window -----

    def inbox_dir(self, source: str, partition_key: str) -> Path:
        return self.root / source / INBOX / window_dirname(partition_key)

    def inbox_manifest(self, source: str, partition_key: str) -> dict | None:
        return _load_manifest(self.inbox_dir(source, partition_key) / MANIFEST)

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
        replaced atomically, after the page file is on disk.
        """
        digest = hashlib.sha256(body).hexdigest()
        folder = self.inbox_dir(source, partition_key)
        with _inbox_lock:
            folder.mkdir(parents=True, exist_ok=True)
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
            tmp = folder / f".{name}-{uuid.uuid4().hex[:8]}"
            with gzip.open(tmp, "wb", compresslevel=5) as fh:
                fh.write(body)
            os.replace(tmp, folder / name)
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
            tmp_manifest = folder / f".{MANIFEST}-{uuid.uuid4().hex[:8]}"
            tmp_manifest.write_text(json.dumps(manifest, indent=2))
            os.replace(tmp_manifest, folder / MANIFEST)
        return entry, True

    def read_inbox_pages(self, source: str, partition_key: str) -> Iterator[Page]:
        """The window's inbox pages, in arrival order."""
        manifest = self.inbox_manifest(source, partition_key)
        if manifest is None:
            return
        yield from _read_pages(self.inbox_dir(source, partition_key), manifest["pages"])

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
        if not self.root.exists():
            return found
        cutoff = after.timestamp() - 1  # mtime resolution
        for manifest_path in self.root.glob(f"*/{INBOX}/*/{MANIFEST}"):
            if manifest_path.stat().st_mtime < cutoff:
                continue
            manifest = json.loads(manifest_path.read_text())
            for entry in manifest["pages"]:
                if datetime.fromisoformat(entry["retrieved_at"]) > after:
                    found.append((manifest["source"], manifest["partition_key"], entry))
        return sorted(found, key=lambda item: item[2]["retrieved_at"])
