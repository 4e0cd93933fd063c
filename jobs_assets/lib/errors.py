"""The project's own errors: what reaches a run's error is always one of these.

Each message names the source, the URL or file, what happened and what to do next,
and has passed through `redact`, so no library exception (and no secret) leaks out.
"""

from __future__ import annotations

import errno

from jobs_assets.lib.redact import redact


class PipelineError(RuntimeError):
    """Base of every error the pipeline raises on purpose. `retryable`: may a retry help?"""

    retryable: bool = True

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class FetchError(PipelineError):
    """A request that failed for good (after retries); the message says what to do."""

    def __init__(self, message: str, partial: bytes | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.partial = partial  # what arrived of the body, kept as evidence
        self.retryable = retryable


class RawFileError(PipelineError):
    """A stored raw file (page or manifest) is missing, unreadable or damaged."""

    retryable = False


class StorageError(PipelineError):
    """The data folder refused a write (disk full, read-only, no permission), or the
    object storage of JOBS_STORAGE_URL failed (see `storage.ObjectStorage`)."""


class SchemaMismatch(PipelineError):
    """The database's schema revision is not the one this code works with; nothing changed."""

    retryable = False  # a retry finds the same revision


class WindowBusy(PipelineError):
    """Another run holds the same source's window."""


_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free space under JOBS_DATA_DIR (or point it at a "
    "bigger volume), then re-run the window",
    errno.EDQUOT: "the disk quota is exhausted: free space under JOBS_DATA_DIR, then re-run",
    errno.EROFS: "the data folder is read-only: mount JOBS_DATA_DIR read-write, then re-run",
    errno.EACCES: "no permission to write there: give the pipeline's user write access to "
    "JOBS_DATA_DIR, then re-run",
    errno.EPERM: "no permission to write there: give the pipeline's user write access to "
    "JOBS_DATA_DIR, then re-run",
}


def storage_error(err: OSError, what: str) -> StorageError:
    """An `OSError` from the data folder as a `StorageError` with the operator's next step."""
    hint = _OS_HINTS.get(err.errno or 0, "check the data folder (JOBS_DATA_DIR), then re-run")
    where = f" {err.filename}" if err.filename else ""
    reason = err.strerror or type(err).__name__
    error = StorageError(f"{what}: cannot write{where} ({reason}); {hint}")
    error.retryable = err.errno not in (errno.EROFS, errno.EACCES, errno.EPERM)
    return error
