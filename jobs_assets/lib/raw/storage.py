"""Where raw responses, failed bodies, inbox pages, backups and raw archives live.

`JOBS_STORAGE_URL` picks one of two implementations of the same small interface:

- `LocalStorage`: a folder (by default `$JOBS_DATA_DIR`), today's exact layout; a
  file is written beside its final name and renamed over it, a folder is published
  with one rename.
- `ObjectStorage`: `s3://bucket/prefix` through fsspec/s3fs (credentials from the
  standard AWS variables, `AWS_ENDPOINT_URL` for any S3-compatible service). A PUT is
  atomic per object; a "folder" is published by copying its objects and writing its
  manifest last (see `raw_store.py`), so readers that trust only a manifest never see
  half a window.

Keys are relative POSIX paths (`raw/<source>/2026-11-22-0400/page-0000.json.gz`).
Logs, dbt's run artifacts and the embedded PostgreSQL's data stay on the local disk
whatever the setting: they belong to one process or one machine. What processes must
agree on (locks, the alert outbox) is in PostgreSQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from jobs_assets.lib.errors import StorageError
from jobs_assets.lib.raw.files import temporary_sibling, write_atomic

#: botocore's client settings for the bucket: a broken endpoint fails in seconds (three
#: attempts, short timeouts), not after minutes of retries; a step retry comes later.
S3_CLIENT_CONFIG = {
    "connect_timeout": 5,
    "read_timeout": 20,
    "retries": {"total_max_attempts": 3, "mode": "standard"},
}
#: how many times s3fs makes each call (its `S3FileSystem.retries`): once, so the
#: attempts above are all (an endpoint that never answers fails in 3 x 20 s)
S3FS_CALLS = 1
#: error codes that mean the credentials were refused
_REFUSED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
    "AccountProblem",
    "403",
    "Forbidden",
}
#: botocore's errors for missing credentials, and for a request it refuses to send
_NO_CREDENTIALS = {"NoCredentialsError", "PartialCredentialsError"}
_BAD_PARAMETERS = {"ParamValidationError"}
#: `JOBS_STORAGE_URL` schemes of object storage (compared in lower case)
OBJECT_SCHEMES = ("s3", "s3a")
#: buckets that answered once in this process (checked before the first operation)
_buckets_seen: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Entry:
    """One stored object: its key, size and modification time (ns since the epoch)."""

    key: str
    size: int
    modified_ns: int

    @property
    def modified(self) -> float:
        return self.modified_ns / 1e9


class Location(str):
    """An object's URL that answers `.name` and `.suffix` like a path does, for messages."""

    @property
    def name(self) -> str:
        return self.rstrip("/").rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix


class Storage(ABC):
    """The operations the raw store, the inbox and the backups need, nothing more."""

    #: True when keys are files on this machine (folders rename atomically, flock works)
    is_local: bool = False

    @abstractmethod
    def location(self, key: str = "") -> str:
        """A human-readable address of `key` (a path or an `s3://` URL), for messages."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Write `key` so that a reader sees the old content or the new, never half."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The content of `key`; `FileNotFoundError` when absent."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str) -> list[Entry]:
        """Every object under `prefix/` (recursively), sorted by key."""

    @abstractmethod
    def files(self, prefix: str) -> list[Entry]:
        """The objects directly under `prefix/` (not in deeper "folders"), sorted by key."""

    @abstractmethod
    def children(self, prefix: str) -> list[str]:
        """The names directly under `prefix/` (objects and "folders"), sorted."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove one object; absent is fine."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None:
        """Remove everything under `prefix/`; absent is fine."""

    @abstractmethod
    def move(self, src: str, dst: str) -> None:
        """Move one object (`dst` is replaced if it exists)."""

    @abstractmethod
    def move_prefix(self, src: str, dst: str) -> None:
        """Move everything under `src/` to `dst/` (`dst` must not exist)."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None:
        """Upload a local file to `key` atomically (backups: pg_dump writes a local file)."""

    @abstractmethod
    def get_file(self, key: str, path: Path) -> None:
        """Download `key` into a local file (pg_restore reads a local file)."""

    @abstractmethod
    def info(self, key: str) -> Entry:
        """Size and modification time of one object; `FileNotFoundError` when absent."""

    @abstractmethod
    def child(self, prefix: str) -> Storage:
        """The same storage rooted at `prefix` (e.g. `backups`)."""

    @abstractmethod
    def sha256(self, key: str) -> str:
        """The object's sha256, read in chunks (dumps can be large)."""

    def where(self, key: str = "") -> Path | Location:
        """`key` as a local `Path`, or as a URL that has `.name` and `.suffix`."""
        return Path(self.location(key)) if self.is_local else Location(self.location(key))

    def staging_file(self, name: str) -> Path:
        """A local file to write before `move_in` (beside the target on the local disk)."""
        return Path(tempfile.mkdtemp(prefix="jobs-storage-")) / name

    def move_in(self, key: str, path: Path) -> None:
        """Store a finished local file under `key` atomically, and remove the local copy."""
        try:
            self.put_file(key, path)
        finally:
            Path(path).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                Path(path).parent.rmdir()

    def discard_staging(self, path: Path) -> None:
        """Remove what `staging_file` gave when the write failed."""
        Path(path).unlink(missing_ok=True)
        if not self.is_local:
            with contextlib.suppress(OSError):
                Path(path).parent.rmdir()


class LocalStorage(Storage):
    """Keys are files under `root`; the layout on disk is exactly the keys."""

    is_local = True

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key if key else self.root

    def location(self, key: str = "") -> str:
        return str(self.path(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)

    def get_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def list(self, prefix: str) -> list[Entry]:
        base = self.path(prefix)
        out: list[Entry] = []
        if not base.is_dir():
            return out
        for root, dirs, files in os.walk(base):
            dirs.sort()
            for name in files:
                path = Path(root) / name
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                key = path.relative_to(self.root).as_posix()
                out.append(Entry(key, stat.st_size, stat.st_mtime_ns))
        return sorted(out, key=lambda e: e.key)

    def files(self, prefix: str) -> list[Entry]:
        base = self.path(prefix)
        out = []
        for path in sorted(base.iterdir()) if base.is_dir() else []:
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file():
                key = path.relative_to(self.root).as_posix()
                out.append(Entry(key, stat.st_size, stat.st_mtime_ns))
        return out

    def children(self, prefix: str) -> list[str]:
        base = self.path(prefix)
        return sorted(p.name for p in base.iterdir()) if base.is_dir() else []

    def info(self, key: str) -> Entry:
        stat = self.path(key).stat()
        return Entry(key, stat.st_size, stat.st_mtime_ns)

    def child(self, prefix: str) -> LocalStorage:
        return LocalStorage(self.path(prefix))

    def sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        with open(self.path(key), "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def staging_file(self, name: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / name

    def move_in(self, key: str, path: Path) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalStorage) and self.root.resolve() == other.root.resolve()

    def __hash__(self) -> int:
        return hash(self.root.resolve())

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix), ignore_errors=True)

    def move(self, src: str, dst: str) -> None:
        target = self.path(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(src), target)

    def move_prefix(self, src: str, dst: str) -> None:
        target = self.path(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(src), target)

    def put_file(self, key: str, path: Path) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(path).resolve() == target.resolve():
            return
        tmp = temporary_sibling(target)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def get_file(self, key: str, path: Path) -> None:
        if Path(path).resolve() != self.path(key).resolve():
            shutil.copyfile(self.path(key), path)


class ObjectStorage(Storage):
    """`s3://bucket/prefix` through fsspec (s3fs); each PUT is atomic.

    Every failure of the service (an endpoint answering 500, refused credentials, a
    missing bucket, an endpoint that does not answer) is a `StorageError` naming the
    operation, the object, `JOBS_STORAGE_URL` and the next step; "absent" stays a
    `FileNotFoundError`, which callers treat as such."""

    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        import fsspec

        self.url = url.rstrip("/")
        self.endpoint_url = endpoint_url or None
        self.protocol, _, rest = self.url.partition("://")
        self.fs = fsspec.filesystem(self.protocol, **_options(self.protocol, self.endpoint_url))
        # botocore's attempts (`S3_CLIENT_CONFIG`) are all: s3fs would repeat each call
        # `retries` (5) times more, each with botocore's three, and an endpoint that never
        # answers cost 15 minutes an operation
        self.fs.retries = S3FS_CALLS
        self.base = rest
        self.bucket = rest.split("/", 1)[0]

    def _endpoint(self) -> str:
        """Where the requests go, for messages."""
        return self.endpoint_url or f"the default {self.protocol} endpoint"

    @contextlib.contextmanager
    def _failures(self, what: str, key: str = "") -> Iterator[None]:
        """Run one operation, the bucket checked first; failures as `StorageError`."""
        seen = (self._endpoint(), self.bucket)
        if self.protocol in ("s3", "s3a") and seen not in _buckets_seen:
            try:
                self.fs.call_s3("head_bucket", Bucket=self.bucket)
            except Exception as err:  # botocore, aiohttp and s3fs raise many kinds
                raise self._error("reach bucket", "", err) from None
            _buckets_seen.add(seen)
        try:
            yield
        except FileNotFoundError as err:
            if _error_code(err) != "NoSuchBucket":
                raise  # an absent object: the caller decides
            raise self._error(what, key, err) from None
        except Exception as err:
            raise self._error(what, key, err) from None

    def _error(self, what: str, key: str, err: BaseException) -> StorageError:
        """`err` in the operator's words: what failed, where, and what to do next."""
        code, status = _error_code(err), _http_status(err)
        named = f" {code}" if code and code != str(status) else ""  # HEAD has no body
        where = f"{what} {self.location(key) if key else self.url}"
        retryable = True
        kind = _kind(err, _NO_CREDENTIALS | _BAD_PARAMETERS)
        if kind in _NO_CREDENTIALS:
            reason = f"no credentials were found ({kind})"
            hint = (
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to a key "
                f"that may read, write and list bucket {self.bucket}"
            )
            retryable = False
        elif kind in _BAD_PARAMETERS:
            # its last line names the bad value ('Invalid bucket name "a b": ... regex')
            detail = str(err).strip().splitlines()[-1].split(": ")[0]
            reason = f"the storage URL is not valid for the service ({detail})"
            hint = "correct the bucket or prefix in JOBS_STORAGE_URL (s3://<bucket>/<prefix>)"
            retryable = False
        elif isinstance(err, ValueError) and str(err).startswith("Invalid endpoint"):
            reason = f"AWS_ENDPOINT_URL={self.endpoint_url} is not a URL"
            hint = "give the endpoint as http(s)://host[:port] in AWS_ENDPOINT_URL"
            retryable = False
        elif code in _REFUSED or status == 403 or isinstance(err, PermissionError):
            reason = f"the key was refused (HTTP {status or 403}{named})"
            hint = (
                "check AWS_ACCESS_KEY_ID / the secret (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) "
                f"and that the key may read, write and list bucket {self.bucket}"
            )
            retryable = False
        elif code in ("NoSuchBucket", "404") or (status == 404 and not key):
            reason = f"bucket {self.bucket} does not exist at {self._endpoint()}"
            hint = "create the bucket, or correct the bucket in JOBS_STORAGE_URL"
            retryable = False
        elif status is not None:
            reason = f"{self._endpoint()} answered HTTP {status}{named}"
            hint = "check the endpoint (AWS_ENDPOINT_URL) and the storage service, then re-run"
        else:
            detail = str(err).strip() or type(err).__name__
            reason = f"cannot reach {self._endpoint()} ({type(err).__name__}: {detail})"
            hint = "check the endpoint (AWS_ENDPOINT_URL) and the network, then re-run"
        error = StorageError(
            f"object storage: {where} failed: {reason}; {hint}. JOBS_STORAGE_URL={self.url}"
        )
        error.retryable = retryable
        return error

    def _full(self, key: str) -> str:
        return f"{self.base}/{key}" if key else self.base

    def _key(self, full: str) -> str:
        return full[len(self.base) :].lstrip("/")

    def location(self, key: str = "") -> str:
        return Location(f"{self.url}/{key}" if key else self.url)

    def _fresh(self) -> None:
        self.fs.invalidate_cache()  # other processes write the same bucket

    def put_bytes(self, key: str, data: bytes) -> None:
        with self._failures("write", key):
            self.fs.pipe_file(self._full(key), data)

    def get_bytes(self, key: str) -> bytes:
        try:
            with self._failures("read", key):
                return self.fs.cat_file(self._full(key))
        except FileNotFoundError:
            raise FileNotFoundError(self.location(key)) from None

    def exists(self, key: str) -> bool:
        try:
            self.info(key)  # fs.exists() would answer False to any error, a 403 included
        except FileNotFoundError:
            return False
        return True

    def list(self, prefix: str) -> list[Entry]:
        self._fresh()
        try:
            with self._failures("list", prefix):
                found = self.fs.find(self._full(prefix), detail=True)
        except FileNotFoundError:
            return []
        out = []
        for full, info in found.items():
            if info.get("type") == "directory":
                continue
            out.append(_entry(self._key(full), info))
        return sorted(out, key=lambda e: e.key)

    def files(self, prefix: str) -> list[Entry]:
        self._fresh()
        try:
            with self._failures("list", prefix):
                found = self.fs.ls(self._full(prefix), detail=True)
        except FileNotFoundError:
            return []
        out = [_entry(self._key(i["name"]), i) for i in found if i.get("type") == "file"]
        return sorted(out, key=lambda e: e.key)

    def children(self, prefix: str) -> list[str]:
        self._fresh()
        try:
            with self._failures("list", prefix):
                names = self.fs.ls(self._full(prefix), detail=False)
        except FileNotFoundError:
            return []
        return sorted({n.rstrip("/").rsplit("/", 1)[-1] for n in names})

    def info(self, key: str) -> Entry:
        self._fresh()
        try:
            with self._failures("look up", key):
                info = self.fs.info(self._full(key))
        except FileNotFoundError:
            raise FileNotFoundError(self.location(key)) from None
        return _entry(key, info)

    def child(self, prefix: str) -> ObjectStorage:
        return ObjectStorage(self.location(prefix), self.endpoint_url)

    def sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        try:
            with self._failures("read", key), self.fs.open(self._full(key), "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        except FileNotFoundError:
            raise FileNotFoundError(self.location(key)) from None
        return digest.hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectStorage) and self.url == other.url

    def __hash__(self) -> int:
        return hash(self.url)

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError), self._failures("delete", key):
            self.fs.rm_file(self._full(key))

    def delete_prefix(self, prefix: str) -> None:
        keys = [self._full(e.key) for e in self.list(prefix)]
        if keys:
            with self._failures("delete", prefix):
                self.fs.rm(keys)

    def move(self, src: str, dst: str) -> None:
        try:
            with self._failures("copy", src):
                self.fs.copy(self._full(src), self._full(dst))
        except FileNotFoundError:
            raise FileNotFoundError(self.location(src)) from None
        self.delete(src)

    def move_prefix(self, src: str, dst: str) -> None:
        """Copy every object, then delete the sources (S3 has no rename)."""
        entries = self.list(src)
        with self._failures("move", src):
            for entry in entries:
                rel = entry.key[len(src) :].lstrip("/")
                self.fs.copy(self._full(entry.key), self._full(f"{dst}/{rel}"))
            if entries:
                self.fs.rm([self._full(e.key) for e in entries])

    def put_file(self, key: str, path: Path) -> None:
        with self._failures("upload", key):
            self.fs.put_file(str(path), self._full(key))

    def get_file(self, key: str, path: Path) -> None:
        try:
            with self._failures("download", key):
                self.fs.get_file(self._full(key), str(path))
        except FileNotFoundError:
            raise FileNotFoundError(self.location(key)) from None


def _kind(err: BaseException, names: set[str]) -> str | None:
    """The name of the first exception in `err`'s chain that is one of `names` (botocore's
    classes, named so that this module does not import botocore)."""
    seen: BaseException | None = err
    while seen is not None:
        if type(seen).__name__ in names:
            return type(seen).__name__
        seen = seen.__cause__ or seen.__context__
    return None


def _client_error(err: BaseException) -> BaseException | None:
    """The botocore `ClientError` behind `err` (s3fs translates it, keeping it as cause)."""
    seen: BaseException | None = err
    while seen is not None:
        if getattr(seen, "response", None) and isinstance(seen.response, dict):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _error_code(err: BaseException) -> str | None:
    found = _client_error(err)
    return found.response.get("Error", {}).get("Code") if found is not None else None


def _http_status(err: BaseException) -> int | None:
    found = _client_error(err)
    if found is None:
        return None
    return found.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _entry(key: str, info: dict) -> Entry:
    modified = info.get("LastModified") or info.get("mtime") or info.get("created") or 0
    stamp = modified.timestamp() if hasattr(modified, "timestamp") else float(modified)
    return Entry(key, int(info.get("size") or 0), int(stamp * 1e9))


def as_storage(where: Path | str | Storage) -> Storage:
    """A folder (`Path`), a URL or a `Storage`: the callers of the backup functions give any."""
    if isinstance(where, Storage):
        return where
    return open_storage(str(where), Path(where) if "://" not in str(where) else Path("."))


def _options(protocol: str, endpoint_url: str | None) -> dict:
    """No credentials here: s3fs (botocore) reads the standard AWS variables itself, so
    they never appear in a resource's config. The endpoint (`AWS_ENDPOINT_URL`, passed by
    the resources and the settings) is named so that fsspec's cache of filesystems keeps
    one per endpoint: a client keeps the endpoint it was made with."""
    if protocol not in ("s3", "s3a"):
        return {}
    return {
        "use_listings_cache": False,
        "config_kwargs": S3_CLIENT_CONFIG,
        "endpoint_url": endpoint_url,
    }


def open_storage(url: str | None, data_dir: Path, endpoint_url: str | None = None) -> Storage:
    """The storage `JOBS_STORAGE_URL` names: empty or a path is a local folder; an
    `s3://` URL is reached at `endpoint_url` (`AWS_ENDPOINT_URL`; None: AWS itself)."""
    url = (url or "").strip()
    if not url:
        return LocalStorage(Path(data_dir))
    if "://" not in url:
        return LocalStorage(Path(url))
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "file":
        return LocalStorage(Path(rest))
    if scheme not in OBJECT_SCHEMES:
        raise _setting_error(
            f"JOBS_STORAGE_URL={url}: {scheme}:// is not supported; give a folder or "
            "s3://<bucket>/<prefix> (an S3-compatible service, such as MinIO, is s3:// "
            "with its address in AWS_ENDPOINT_URL)"
        )
    if not rest.split("/", 1)[0]:
        raise _setting_error(f"JOBS_STORAGE_URL={url} names no bucket; give s3://<bucket>/<prefix>")
    return ObjectStorage(f"{scheme}://{rest}", endpoint_url)


def _setting_error(message: str) -> StorageError:
    error = StorageError(message)
    error.retryable = False  # the setting stays wrong until someone changes it
    return error


def staging_name(label: str) -> str:
    """A unique, self-describing staging name: `<label>-<host>-<pid>-<time>-<random>`."""
    import socket
    import time

    host = socket.gethostname().replace("-", "_")[:40] or "host"
    return f"{label}-{host}-{os.getpid()}-{int(time.time())}-{uuid.uuid4().hex[:8]}"
