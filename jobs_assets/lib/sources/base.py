"""The one shape every source has: fetch a window's pages, turn a page into records.

A source module declares only what is its own: its id field, how it pages, and
where its fields live in a listing (`columns`, SQL over the staged JSONB).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from jobs_assets.lib.http import FetchError, HttpClient
from jobs_assets.lib.sources import records
from jobs_assets.settings import SourceSettings

# A listing bigger than this is almost certainly garbage (or an attack), not a job.
MAX_RECORD_BYTES = 2_000_000


@dataclass(frozen=True)
class Page:
    """One HTTP response body, exactly as received."""

    index: int
    url: str
    status: int
    content_type: str
    body: bytes
    retrieved_at: datetime


@dataclass(frozen=True)
class Reject:
    """Something received that could not be loaded, and why."""

    page: int
    reason: str
    sample: str = ""


@dataclass
class ParsedPage:
    records: list[tuple[str, dict]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    error: str | None = None  # the whole page was unusable
    document: dict = field(default_factory=dict)  # top-level fields (paging, counts)


KeepPage = Callable[[Page], None]


# SQL over the staged JSONB `payload`: lenient by design, a field of the wrong type
# reads as NULL or as its JSON text instead of failing the whole window.
def text(key: str) -> str:
    return f"payload->>'{key}'"


def first(key: str) -> str:
    """The first element of an array field, or the field itself when it is a scalar."""
    return (
        f"CASE jsonb_typeof(payload->'{key}') WHEN 'array' THEN payload->'{key}'->>0 "
        f"WHEN 'object' THEN NULL ELSE payload->>'{key}' END"
    )


def as_json(key: str) -> str:
    """The field as JSON text, for lists the normaliser reads itself."""
    return f"(payload->'{key}')::text"


NULL = "NULL"


def now_utc() -> datetime:
    return datetime.now(UTC)


def _title(job: dict) -> str:
    return str(job.get("title") or job.get("jobTitle") or "")[:60]


def _clean_document(document: dict, jobs_key: str) -> dict:
    """The top-level fields (paging, counts) without the listings, cleaned like them."""
    cleaning = records.Cleaning()
    out = {}
    for key, value in document.items():
        if key == jobs_key:
            continue
        try:
            out[key] = records.clean(value, cleaning)
        except records.TooDeep:
            out[key] = None
    return out


def _sample(body: bytes, limit: int = 120) -> str:
    return body[:limit].decode("utf-8", "replace").replace("\n", " ").strip()


class Source:
    """Base class of the three sources; subclasses set the class attributes and `fetch`."""

    name: str = ""
    id_field: str = "id"
    jobs_key: str = "jobs"
    #: statuses whose JSON body means "no listings" rather than an error
    empty_statuses: frozenset[int] = frozenset()
    #: common column -> SQL expression over the staged `payload` (built with the helpers below)
    columns: dict[str, str] = {}
    #: what a listing cannot do without (title, url, company) -> the source's field for it;
    #: a listing with one of them missing, empty or a placeholder is rejected at parse time
    required: dict[str, str] = {}

    def fetch(self, client: HttpClient, settings: SourceSettings, keep: KeepPage) -> str | None:
        """Fetch the current listings, handing each body to `keep` before parsing it.

        Returns why the listings are incomplete (paging that never ended), or None.
        """
        raise NotImplementedError

    # --- shared helpers -------------------------------------------------------------

    def get_page(
        self,
        client: HttpClient,
        url: str,
        params: dict[str, object] | None,
        index: int,
        keep: KeepPage,
    ) -> Page:
        try:
            response = client.get(url, params=params)
        except FetchError as err:
            if err.partial is not None:  # what the server said is evidence: keep it
                keep(Page(index, url, 0, "", err.partial, now_utc()))
            raise
        page = Page(
            index=index,
            url=response.url,
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            body=response.content,
            retrieved_at=now_utc(),
        )
        keep(page)  # stored before anything looks inside it
        if page.status >= 400 and page.status not in self.empty_statuses:
            raise FetchError(
                f"{self.name}: GET {page.url} answered HTTP {page.status} "
                f"({_sample(page.body)!r}); the body is kept in the raw store"
            )
        return page

    def parse(self, body: bytes, status: int = 200, page: int = 0) -> ParsedPage:
        """Records `(source_job_id, payload)` of one body; never raises on bad input."""
        result = ParsedPage()
        try:
            document, notes = records.load_document(body)
        except records.BodyError as err:
            stripped = body.lstrip()[:1]
            if stripped == b"<":
                result.error = f"an HTML page instead of JSON (HTTP {status}): {_sample(body)!r}"
            elif not body.strip():
                result.error = f"an empty body (HTTP {status})"
            else:
                result.error = str(err)
            return result
        result.rejects.extend(Reject(page, f"{note} (kept the page)") for note in notes)
        if not isinstance(document, dict):
            result.error = f"a JSON {type(document).__name__}, not an object with {self.jobs_key!r}"
            return result
        jobs = document.get(self.jobs_key)
        if jobs is None and status in self.empty_statuses:
            jobs = []
        if not isinstance(jobs, list):
            keys = ", ".join(sorted(map(str, document))[:10])
            result.error = f"no {self.jobs_key!r} list in the response (fields: {keys})"
            return result
        result.document = _clean_document(document, self.jobs_key)
        for position, job in enumerate(jobs):
            record = self._record(job, page, position, result.rejects)
            if record is not None:
                result.records.append(record)
        return result

    def _record(
        self, job: object, page: int, position: int, rejects: list[Reject]
    ) -> tuple[str, dict] | None:
        where = f"listing #{position}"
        if not isinstance(job, dict):
            rejects.append(Reject(page, f"{where} is a {type(job).__name__}, not an object"))
            return None
        job_id = job.get(self.id_field)
        if (
            isinstance(job_id, bool)
            or not isinstance(job_id, (str, int))
            or not str(job_id).strip()
        ):
            rejects.append(Reject(page, f"{where} has no usable {self.id_field!r}", _title(job)))
            return None
        cleaning = records.Cleaning()
        try:
            job = records.clean(job, cleaning)
        except records.TooDeep as err:
            rejects.append(Reject(page, f"{where} ({job_id}) is {err}"))
            return None
        size = len(json.dumps(job, ensure_ascii=False))
        if size > MAX_RECORD_BYTES:
            rejects.append(Reject(page, f"{where} ({job_id}) is {size} bytes, over the limit"))
            return None
        missing = records.missing_required(job, self.required)
        if missing:
            rejects.append(Reject(page, f"{where} ({job_id}) has {missing}", _title(job)))
            return None
        rejects.extend(Reject(page, note) for note in sorted(cleaning.notes))
        return str(job_id).strip(), job


@dataclass
class WindowRecords:
    """A window's records from all its pages, one per id (the first seen wins)."""

    records: list[tuple[str, dict, datetime]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    duplicates: int = 0
    pages: int = 0

    @property
    def parsed(self) -> int:
        return len(self.records)


def parse_window(source: Source, pages: Iterable[Page]) -> WindowRecords:
    """Parse stored pages in order; duplicate ids (paging overlap) keep the first."""
    out = WindowRecords()
    seen: set[str] = set()
    for page in pages:
        out.pages += 1
        parsed = source.parse(page.body, page.status, page.index)
        out.rejects.extend(parsed.rejects)
        if parsed.error:
            out.page_errors.append(f"page {page.index} ({page.url}): {parsed.error}")
            continue
        for job_id, payload in parsed.records:
            if job_id in seen:
                out.duplicates += 1
                continue
            seen.add(job_id)
            out.records.append((job_id, payload, page.retrieved_at))
    return out
