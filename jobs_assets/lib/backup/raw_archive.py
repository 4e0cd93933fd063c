"""Raw files in backups: incremental tar archives, and their replay on restore.

Each backup archives the raw files added or changed since the previous one
(`<stem>.raw.tar`, absent when there were none), so retention never deletes an
archive; each manifest lists the chain of archives a restore replays.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from jobs_assets.lib.backup.sets import BackupSet
from jobs_assets.lib.files import temporary_sibling, write_json_atomic

RAW_INDEX = "raw-index.json"


def _raw_files(raw_dir: Path) -> Iterator[Path]:
    """Published raw files; hidden folders are fetches in progress or windows being replaced."""
    if not raw_dir.exists():
        return
    for root, dirs, files in os.walk(raw_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def _load_index(backups_dir: Path) -> dict:
    path = backups_dir / RAW_INDEX
    index = json.loads(path.read_text()) if path.exists() else {"archives": [], "files": {}}
    present = [a for a in index["archives"] if (backups_dir / a).exists()]
    if len(present) != len(index["archives"]):  # an archive was removed by hand: re-archive
        index["files"] = {k: v for k, v in index["files"].items() if v[2] in present}
        index["archives"] = present
    return index


def archive_raw(backup: BackupSet, raw_dir: Path) -> dict | None:
    """Tar the raw files added or changed since the previous archive; record the chain.

    Files are compared by size and modification time: a window re-fetched later is
    written anew, so it is archived again.
    """
    index = _load_index(backup.folder)
    part = backup.raw_archive.with_name(backup.raw_archive.name + ".part")
    added: dict[str, list] = {}
    size = 0
    try:
        with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
            for path in _raw_files(raw_dir):
                rel = path.relative_to(raw_dir).as_posix()
                try:
                    stat = path.stat()
                    known = index["files"].get(rel)
                    if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
                        continue
                    tar.add(path, arcname=rel, recursive=False)
                except FileNotFoundError:  # replaced by a newer fetch meanwhile: next time
                    continue
                added[rel] = [stat.st_size, stat.st_mtime_ns, backup.raw_archive.name]
                size += stat.st_size
        if added:
            os.replace(part, backup.raw_archive)
    finally:
        part.unlink(missing_ok=True)
    manifest = backup.manifest()
    info = None
    if added:
        index["files"].update(added)
        index["archives"].append(backup.raw_archive.name)
        write_json_atomic(backup.folder / RAW_INDEX, index)
        info = {"file": backup.raw_archive.name, "files": len(added), "bytes": size}
    manifest["raw_archive"] = info
    manifest["raw_archives"] = list(index["archives"])
    backup.save_manifest(manifest)
    return info


def _safe_member(member: tarfile.TarInfo) -> bool:
    name = Path(member.name)
    return member.isfile() and not name.is_absolute() and ".." not in name.parts


def restore_raw(archives: Sequence[Path], raw_dir: Path) -> dict[str, int]:
    """Unpack the archives into the raw store without ever overwriting a file.

    The newest archive is read first, so the latest copy of a re-fetched window wins,
    and a file already in the raw store (perhaps newer than the backup) is kept.
    """
    restored = present = 0
    seen: set[str] = set()
    for archive in reversed(list(archives)):
        with tarfile.open(archive, "r") as tar:
            for member in tar:
                if not _safe_member(member) or member.name in seen:
                    continue
                seen.add(member.name)
                target = raw_dir / member.name
                if target.exists():
                    present += 1
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = temporary_sibling(target)
                with tar.extractfile(member) as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.utime(tmp, (member.mtime, member.mtime))
                os.replace(tmp, target)
                restored += 1
    return {"raw_files_restored": restored, "raw_files_already_present": present}
