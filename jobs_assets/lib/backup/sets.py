"""A backup set: the files that share one stem, its manifest, and the folder's lock."""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jobs_assets.lib.backup.errors import BackupError
from jobs_assets.lib.files import sha256_of, write_json_atomic
from jobs_assets.lib.raw_store import window_dirname

_SUFFIXES = (".dump.sha256", ".manifest.json", ".raw.tar", ".dump")


@dataclass(frozen=True)
class BackupSet:
    """The files of one backup, named by a common stem."""

    folder: Path
    stem: str

    @classmethod
    def from_path(cls, path: Path) -> BackupSet:
        """The set a given file belongs to (the dump, its manifest, checksum or raw archive)."""
        path = Path(path).resolve()
        for suffix in _SUFFIXES:
            if path.name.endswith(suffix):
                return cls(path.parent, path.name[: -len(suffix)])
        raise BackupError(
            f"{path} is not a backup file: expected a name ending in .dump, .manifest.json, "
            f".dump.sha256 or .raw.tar, e.g. jobs_data/backups/jobs-<window>-<time>.dump"
        )

    @classmethod
    def new(cls, backups_dir: Path, partition_key: str, created: datetime) -> BackupSet:
        """A set whose files do not exist yet, named after the window and the time."""
        base = f"jobs-{window_dirname(partition_key)}-{created:%Y%m%dT%H%M%SZ}"
        stem, n = base, 1
        while any((backups_dir / f"{stem}{s}").exists() for s in _SUFFIXES):
            n += 1
            stem = f"{base}-{n}"
        return cls(backups_dir, stem)

    @property
    def dump(self) -> Path:
        return self.folder / f"{self.stem}.dump"

    @property
    def checksum(self) -> Path:
        return self.folder / f"{self.stem}.dump.sha256"

    @property
    def manifest_path(self) -> Path:
        return self.folder / f"{self.stem}.manifest.json"

    @property
    def raw_archive(self) -> Path:
        return self.folder / f"{self.stem}.raw.tar"

    def manifest(self) -> dict:
        if not self.manifest_path.exists():
            raise BackupError(
                f"{self.manifest_path} is missing, so {self.dump.name} cannot be checked; "
                "pick another backup"
            )
        return json.loads(self.manifest_path.read_text())

    def save_manifest(self, manifest: dict) -> None:
        write_json_atomic(self.manifest_path, manifest)

    def checksum_mismatch(self, manifest: dict) -> str | None:
        """None when the dump's sha256 is the manifest's, else what differs."""
        digest = sha256_of(self.dump)
        if digest == manifest.get("sha256"):
            return None
        return (
            f"{self.dump.name}: sha256 {digest[:12]}… does not match the manifest's "
            f"{str(manifest.get('sha256'))[:12]}…: the file changed or was cut short after it "
            "was written"
        )


def list_sets(backups_dir: Path) -> list[tuple[BackupSet, dict]]:
    """Every set with a readable manifest, oldest first."""
    out = []
    if not backups_dir.exists():
        return out
    for path in backups_dir.glob("jobs-*.manifest.json"):
        backup = BackupSet.from_path(path)
        try:
            manifest = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue  # a damaged manifest is left alone for a person to look at
        out.append((backup, manifest))
    return sorted(out, key=lambda item: (item[1].get("created_at", ""), item[0].stem))


def latest_verified(backups_dir: Path) -> tuple[BackupSet, dict] | None:
    verified = [item for item in list_sets(backups_dir) if item[1].get("verified")]
    return verified[-1] if verified else None


@contextlib.contextmanager
def backup_lock(backups_dir: Path) -> Iterator[None]:
    """One backup at a time per folder (a backfill may start several runs at once)."""
    backups_dir.mkdir(parents=True, exist_ok=True)
    with open(backups_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
