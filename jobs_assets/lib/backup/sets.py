"""A backup set: the files that share one stem, its manifest, and the folder's lock
(held in PostgreSQL).

The folder is a `Storage` (`lib/raw/storage.py`): the local `backups/` folder or its
prefix in the bucket of `JOBS_STORAGE_URL`. Functions that take a folder accept a
`Path`, a URL or a `Storage`.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jobs_assets.lib.backup.errors import BackupError
from jobs_assets.lib.ops.window_lock import advisory_lock
from jobs_assets.lib.raw.storage import LocalStorage, Location, Storage, as_storage
from jobs_assets.lib.raw.store import window_dirname

_SUFFIXES = (".dump.sha256", ".manifest.json", ".raw.tar", ".dump")


@dataclass(frozen=True)
class BackupSet:
    """The files of one backup, named by a common stem, in one storage folder."""

    store: Storage
    stem: str

    def __init__(self, folder: Path | str | Storage, stem: str) -> None:
        object.__setattr__(self, "store", as_storage(folder))
        object.__setattr__(self, "stem", stem)

    @classmethod
    def from_path(cls, path: Path | str) -> BackupSet:
        """The set a given file belongs to (the dump, its manifest, checksum or raw archive);
        a local path or the URL of an object (`s3://bucket/prefix/backups/jobs-….dump`)."""
        text = str(path)
        remote = "://" in text
        name = text.rstrip("/").rsplit("/", 1)[-1] if remote else Path(text).name
        for suffix in _SUFFIXES:
            if name.endswith(suffix):
                folder = text.rsplit("/", 1)[0] if remote else Path(text).resolve().parent
                return cls(folder, name[: -len(suffix)])
        raise BackupError(
            f"{path} is not a backup file: expected a name ending in .dump, .manifest.json, "
            f".dump.sha256 or .raw.tar, e.g. jobs_data/backups/jobs-<window>-<time>.dump"
        )

    @classmethod
    def new(cls, backups_dir: Path | Storage, partition_key: str, created: datetime) -> BackupSet:
        """A set whose files do not exist yet, named after the window and the time."""
        store = as_storage(backups_dir)
        base = f"jobs-{window_dirname(partition_key)}-{created:%Y%m%dT%H%M%SZ}"
        stem, n = base, 1
        while any(store.exists(f"{stem}{s}") for s in _SUFFIXES):
            n += 1
            stem = f"{base}-{n}"
        return cls(store, stem)

    @property
    def folder(self) -> Path | Location:
        return self.store.where()

    @property
    def dump_key(self) -> str:
        return f"{self.stem}.dump"

    @property
    def checksum_key(self) -> str:
        return f"{self.stem}.dump.sha256"

    @property
    def manifest_key(self) -> str:
        return f"{self.stem}.manifest.json"

    @property
    def raw_archive_key(self) -> str:
        return f"{self.stem}.raw.tar"

    @property
    def dump(self) -> Path | Location:
        return self.store.where(self.dump_key)

    @property
    def checksum(self) -> Path | Location:
        return self.store.where(self.checksum_key)

    @property
    def manifest_path(self) -> Path | Location:
        return self.store.where(self.manifest_key)

    @property
    def raw_archive(self) -> Path | Location:
        return self.store.where(self.raw_archive_key)

    def manifest(self) -> dict:
        try:
            return json.loads(self.store.get_bytes(self.manifest_key))
        except FileNotFoundError:
            raise BackupError(
                f"{self.manifest_path} is missing, so {self.dump.name} cannot be checked; "
                "pick another backup"
            ) from None

    def save_manifest(self, manifest: dict) -> None:
        self.store.put_bytes(self.manifest_key, (json.dumps(manifest, indent=2) + "\n").encode())

    def checksum_mismatch(self, manifest: dict) -> str | None:
        """None when the dump's sha256 is the manifest's, else what differs."""
        digest = self.store.sha256(self.dump_key)
        if digest == manifest.get("sha256"):
            return None
        return (
            f"{self.dump.name}: sha256 {digest[:12]}… does not match the manifest's "
            f"{str(manifest.get('sha256'))[:12]}…: the file changed or was cut short after it "
            "was written"
        )

    def checksum_file_mismatch(self, manifest: dict) -> str | None:
        """None when the `.dump.sha256` file (when there is one) says the manifest's
        sha256, else what differs: one of them was changed after the backup."""
        if not self.store.exists(self.checksum_key):
            return None
        written = self.store.get_bytes(self.checksum_key).decode(errors="replace").split()[:1]
        if written == [manifest.get("sha256")]:
            return None
        return (
            f"{self.dump.name}: its {self.checksum_key} says "
            f"{(written or ['nothing'])[0][:12]}…, the manifest "
            f"{str(manifest.get('sha256'))[:12]}…: one of them was changed after the backup"
        )

    @contextlib.contextmanager
    def local_dump(self) -> Iterator[Path]:
        """The dump as a local file for pg_restore (downloaded from object storage)."""
        if isinstance(self.store, LocalStorage):
            yield self.store.path(self.dump_key)
            return
        with tempfile.TemporaryDirectory(prefix="jobs-restore-") as folder:
            path = Path(folder) / self.dump_key
            self.store.get_file(self.dump_key, path)
            yield path


def list_sets(backups_dir: Path | Storage) -> list[tuple[BackupSet, dict]]:
    """Every set with a readable manifest, oldest first."""
    store = as_storage(backups_dir)
    out = []
    for entry in store.list(""):
        name = entry.key
        if "/" in name or not (name.startswith("jobs-") and name.endswith(".manifest.json")):
            continue
        backup = BackupSet(store, name[: -len(".manifest.json")])
        try:
            manifest = json.loads(store.get_bytes(name))
        except (OSError, json.JSONDecodeError):
            continue  # a damaged manifest is left alone for a person to look at
        out.append((backup, manifest))
    return sorted(out, key=lambda item: (item[1].get("created_at", ""), item[0].stem))


def latest_verified(backups_dir: Path | Storage) -> tuple[BackupSet, dict] | None:
    verified = [item for item in list_sets(backups_dir) if item[1].get("verified")]
    return verified[-1] if verified else None


#: how long a backup waits for another one of the same folder before it gives up
BACKUP_LOCK_WAIT_SECONDS = 3600.0


def backup_lock(
    conninfo: str, backups_dir: Path | Storage, wait_seconds: float = BACKUP_LOCK_WAIT_SECONDS
) -> AbstractContextManager[None]:
    """One backup at a time per folder (a backfill may start several runs at once, on
    several machines or pods): an advisory lock in the database being backed up, so
    every process that can back it up sees it, whatever its local disk."""
    where = as_storage(backups_dir).location()

    def busy(lock: int) -> Exception:
        return BackupError(
            f"another backup into {where} has been running for {wait_seconds:g} s (PostgreSQL "
            f"advisory lock {lock}); let it finish (see the runs of the backup asset), then "
            "re-run this window"
        )

    return advisory_lock(conninfo, "backups", where, wait_seconds, busy)
