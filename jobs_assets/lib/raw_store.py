"""The raw store: every response body exactly as received, one file per page.

Layout: `$JOBS_DATA_DIR/raw/<source>/<window>/page-0000.json.gz` plus a
`manifest.json`. Pages are written into a hidden temporary folder the moment they
arrive (before anything parses them) and the folder replaces the window's only
when the fetch is complete, so a window is never half-replaced. Bodies of a fetch
that failed are moved to `raw/<source>/failed/` rather than lost.

Files dropped in the inbox are kept apart, under `raw/<source>/inbox/<window>/`
with their own manifest: a later live fetch replaces the window's fetched pages but
never the inbox pages, and staging reads both (fetched pages first).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jobs_assets.lib.sources.base import Page
from jobs_assets.settings import mask_url

MANIFEST = "manifest.json"
INBOX = "inbox"
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

    def keep(self, page: Page) -> None:
        name = f"page-{page.index:04d}.json.gz"
        with gzip.open(self.tmp_dir / name, "wb", compresslevel=5) as fh:
            fh.write(page.body)
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
        """Write the manifest and atomically replace the stored window."""
        manifest = {
            "source": self.source,
            "partition_key": self.partition_key,
            "origin": self.origin,
            "fetched_at": max((p["retrieved_at"] for p in self.pages), default=None),
            "pages": sorted(self.pages, key=lambda p: p["index"]),
            **(extra or {}),
        }
        (self.tmp_dir / MANIFEST).write_text(json.dumps(manifest, indent=2))
        final = self.store.window_dir(self.source, self.partition_key)
        final.parent.mkdir(parents=True, exist_ok=True)
        old = None
        if final.exists():
            old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
            os.replace(final, old)
        os.replace(self.tmp_dir, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def abandon(self, reason: str) -> Path | None:
        """Keep what arrived of a failed fetch under `failed/`, with the reason."""
        if not self.pages:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            return None
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        target = (
            self.store.root
            / self.source
            / "failed"
            / f"{window_dirname(self.partition_key)}-{stamp}-{uuid.uuid4().hex[:6]}"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        (self.tmp_dir / "reason.txt").write_text(reason)
        os.replace(self.tmp_dir, target)
        return target


def _read_pages(folder: Path, entries: list[dict]) -> Iterator[Page]:
    for entry in entries:
        with gzip.open(folder / entry["file"], "rb") as fh:
            body = fh.read()
        yield Page(
            index=entry["index"],
            url=entry["url"],
            status=entry["status"],
            content_type=entry.get("content_type", ""),
            body=body,
            retrieved_at=datetime.fromisoformat(entry["retrieved_at"]),
        )


class RawStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "raw"

    def window_dir(self, source: str, partition_key: str) -> Path:
        return self.root / source / window_dirname(partition_key)

    def has_window(self, source: str, partition_key: str) -> bool:
        return (self.window_dir(source, partition_key) / MANIFEST).exists()

    def writer(self, source: str, partition_key: str, origin: str = "live") -> WindowWriter:
        base = self.root / source
        base.mkdir(parents=True, exist_ok=True)
        tmp = base / f".tmp-{window_dirname(partition_key)}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        return WindowWriter(self, source, partition_key, origin, tmp)

    def manifest(self, source: str, partition_key: str) -> dict | None:
        path = self.window_dir(source, partition_key) / MANIFEST
        return json.loads(path.read_text()) if path.exists() else None

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
            path = folder / MANIFEST
            if not path.exists():
                continue
            manifest = json.loads(path.read_text())
            if manifest.get("origin") == "live" and manifest.get("fetched_at"):
                fetched = datetime.fromisoformat(manifest["fetched_at"])
                latest = fetched if latest is None or fetched > latest else latest
        return latest

    # --- the inbox: pages an operator dropped in, kept beside the fetched window -----

    def inbox_dir(self, source: str, partition_key: str) -> Path:
        return self.root / source / INBOX / window_dirname(partition_key)

    def inbox_manifest(self, source: str, partition_key: str) -> dict | None:
        path = self.inbox_dir(source, partition_key) / MANIFEST
        return json.loads(path.read_text()) if path.exists() else None

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
