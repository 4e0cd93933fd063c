"""Raw files in backups: incremental tar archives, and their replay on restore.

Each backup archives the raw files added or changed since the previous one
(`<stem>.raw.tar`, absent when there were none), so retention never deletes an
archive; each manifest lists the chain of archives a restore replays.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from jobs_assets.lib.backup.sets import BackupSet
from jobs_assets.lib.raw.storage import Entry, LocalStorage, Storage, as_storage

RAW_INDEX = "raw-index.json"


def _raw_files(raw: Storage) -> Iterator[Entry]:
    """Published raw files; hidden folders are fetches in progress or windows being replaced."""
    for entry in raw.list(""):
        if not any(part.startswith(".") for part in entry.key.split("/")):
            yield entry


def _load_index(backups: Storage) -> dict:
    try:
        index = json.loads(backups.get_bytes(RAW_INDEX))
    except FileNotFoundError:
        index = {"archives": [], "files": {}}
    present = [a for a in index["archives"] if backups.exists(a)]
    if len(present) != len(index["archives"]):  # an archive was removed by hand: re-archive
        index["files"] = {k: v for k, v in index["files"].items() if v[2] in present}
        index["archives"] = present
    return index


def archive_raw(backup: BackupSet, raw_dir: Path | Storage) -> dict | None:
    """Tar the raw files added or changed since the previous archive; record the chain.

    Files are compared by size and modification time: a window re-fetched later is
    written anew, so it is archived again. The tar is written locally, then stored.
    """
    raw = as_storage(raw_dir)
    store = backup.store
    index = _load_index(store)
    part = store.staging_file(backup.raw_archive_key + ".part")
    added: dict[str, list] = {}
    size = 0
    try:
        with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
            for entry in _raw_files(raw):
                known = index["files"].get(entry.key)
                if known and known[0] == entry.size and known[1] == entry.modified_ns:
                    continue
                try:
                    body = raw.get_bytes(entry.key)
                except FileNotFoundError:  # replaced by a newer fetch meanwhile: next time
                    continue
                info = tarfile.TarInfo(entry.key)
                info.size, info.mtime = len(body), entry.modified
                tar.addfile(info, io.BytesIO(body))
                added[entry.key] = [entry.size, entry.modified_ns, backup.raw_archive_key]
                size += entry.size
        if added:
            store.move_in(backup.raw_archive_key, part)
    finally:
        store.discard_staging(part)
    manifest = backup.manifest()
    info = None
    if added:
        index["files"].update(added)
        index["archives"].append(backup.raw_archive_key)
        store.put_bytes(RAW_INDEX, (json.dumps(index, indent=2) + "\n").encode())
        info = {"file": backup.raw_archive_key, "files": len(added), "bytes": size}
    manifest["raw_archive"] = info
    manifest["raw_archives"] = list(index["archives"])
    backup.save_manifest(manifest)
    return info


def unreadable_archives(archives: Sequence[Path | object]) -> list[str]:
    """The local raw archives of a restore that cannot be read whole (cut short,
    damaged), each with why: checked before anything is restored. An archive in a bucket
    is read while it is restored."""
    problems = []
    for archive in archives:
        if not isinstance(archive, Path):
            continue
        try:
            with tarfile.open(archive) as tar:
                for _ in tar:
                    pass
        except (tarfile.TarError, OSError, EOFError) as err:
            problems.append(f"{archive.name} ({type(err).__name__}: {err})")
    return problems


def _safe_member(member: tarfile.TarInfo) -> bool:
    name = Path(member.name)
    return member.isfile() and not name.is_absolute() and ".." not in name.parts


def _local_archive(archive: Path | str, backups: Storage | None, folder: Path) -> Path:
    """A raw archive as a local file: a path, a name in the local backups folder, or a
    name in the bucket (downloaded into `folder`)."""
    if backups is None:
        return Path(archive)
    if isinstance(backups, LocalStorage):
        return backups.path(str(archive))
    target = folder / str(archive)
    backups.get_file(str(archive), target)
    return target


def restore_raw(
    archives: Sequence[Path | str], raw_dir: Path | Storage, backups: Storage | None = None
) -> dict[str, int]:
    """Unpack the archives into the raw store without ever overwriting a file.

    The newest archive is read first, so the latest copy of a re-fetched window wins,
    and a file already in the raw store (perhaps newer than the backup) is kept.
    `archives` are local paths, or names in `backups` (read straight from the bucket).
    """
    import tempfile

    raw = as_storage(raw_dir)
    restored = present = 0
    seen: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="jobs-raw-restore-") as scratch:
        for archive in reversed(list(archives)):
            path = _local_archive(archive, backups, Path(scratch))
            with tarfile.open(path, "r") as tar:
                for member in tar:
                    if not _safe_member(member) or member.name in seen:
                        continue
                    seen.add(member.name)
                    if raw.exists(member.name):
                        present += 1
                        continue
                    with tar.extractfile(member) as src:
                        raw.put_bytes(member.name, src.read())
                    if isinstance(raw, LocalStorage):
                        os.utime(raw.path(member.name), (member.mtime, member.mtime))
                    restored += 1
            if path.parent == Path(scratch):
                path.unlink()
    return {"raw_files_restored": restored, "raw_files_already_present": present}
