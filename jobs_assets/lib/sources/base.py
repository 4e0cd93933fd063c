"""The one shape every source has: fetch a window's pages, turn a page into records.

A source module declares everything that is its own (see `Source`): its name, default
URL and minimum interval, how it pages and how far, where its fields live in a
listing (`fields`, one map from which both the SQL over the staged JSONB and the
Python over a listing's dict are made: `lib/sources/fields.py`), its terms, its expiry
rule, and how the replay server serves its recorded responses.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from jobs_assets.lib.sources import records
from jobs_assets.lib.sources.fields import Expr
from jobs_assets.lib.sources.http import FetchBudget, FetchError, HttpClient

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
    #: the listing's id when it had a usable one: it arrived, so it is not gone
    job_id: str = ""


@dataclass
class ParsedPage:
    records: list[tuple[str, dict]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    error: str | None = None  # the whole page was unusable
    document: dict = field(default_factory=dict)  # top-level fields (paging, counts)
    received: int = 0  # elements of the listings array, rejected ones included
    #: the distinct ids among them, rejected listings' included: the listings that arrived
    identified: set[str] = field(default_factory=set)


KeepPage = Callable[[Page], None]

#: How a listing leaves the table. "absence": one fetch reads the source's whole feed,
#: so a listing missing from it has gone. "expires_at_or_unseen": only the newest pages
#: are read, so absence proves nothing; the listing's own expiry date (or a long time
#: unseen) ends it.
Expiry = Literal["absence", "expires_at_or_unseen"]


@dataclass(frozen=True)
class SourceSettings:
    """Where and how politely to fetch one source (the `<name>_api` resource's values)."""

    name: str
    url: str
    min_interval_hours: float
    workers: int
    max_rps: float
    max_pages: int
    timeout_seconds: float
    max_retries: int
    backoff_seconds: float
    total_timeout_seconds: float = 120.0
    max_retry_after_seconds: float = 300.0
    fetch_budget_seconds: float = 900.0
    origin: str = "live"  # `replay` for a replay server: never counts as a live fetch

    def http_client(self) -> HttpClient:
        return HttpClient(
            timeout_seconds=self.timeout_seconds,
            max_retries=self.max_retries,
            backoff_seconds=self.backoff_seconds,
            max_rps=self.max_rps,
            workers=self.workers,
            total_timeout_seconds=self.total_timeout_seconds,
            max_retry_after_seconds=self.max_retry_after_seconds,
            budget=FetchBudget(self.fetch_budget_seconds),
            source=self.name,
        )


class UnreadableSize(ValueError):
    """A page's statement of its own size is missing or is not a count, although the
    source always states it: the page proves nothing about what the source holds."""


def stated_count(value: object) -> int | None:
    """A count a source states: a non-negative integer, also written as digits or as a
    whole float (`"12"`, `12.0`); None for anything else (a bool, `null`, `"12 jobs"`)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value >= 0 else None


def required_count(document: Mapping[str, object], key: str) -> int:
    """`document[key]` as a count, for a statement the source always makes; raises
    `UnreadableSize` saying what was there instead."""
    count = stated_count(document.get(key))
    if count is None:
        found = f"is {document[key]!r}" if key in document else "is missing"
        raise UnreadableSize(f"`{key}` {found}, not a count")
    return count


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
    """Base class of every source; subclasses set the class attributes and `fetch`."""

    name: str = ""
    #: the name the source asks to be credited by
    display_name: str = ""
    #: the site every row links back to
    home_url: str = ""
    #: the API endpoint (`JOBS_<NAME>_URL` overrides it)
    default_url: str = ""
    #: least hours between two live fetches, from the terms (`JOBS_<NAME>_MIN_INTERVAL_HOURS`)
    min_interval_hours: float = 0.0
    #: most pages one fetch reads (`JOBS_<NAME>_MAX_PAGES`); None: one request, no paging
    max_pages: int | None = None
    #: what the source's terms ask of us, in brief
    terms: str = ""
    expiry: Expiry = "absence"
    #: the board's home market (ISO 3166 alpha-2): a place named alone is there, and the
    #: gazetteer keeps that country's small places (`lib/normalise/gazetteer.py`)
    home_country: str | None = None
    #: every listing is a remote job (False: a board of office jobs too, where a place
    #: named alone is where the office is; lib/normalise/eligibility.py)
    remote_only: bool = True
    id_field: str = "id"
    jobs_key: str = "jobs"
    #: statuses whose JSON body, as the first page's answer, means "no listings" rather
    #: than an error (`means_no_listings`)
    empty_statuses: frozenset[int] = frozenset()
    #: common field -> where it lives in a listing (`lib/sources/fields.py`): one map
    #: for the SQL projection (`columns`) and the Python one (`item_fields`)
    fields: Mapping[str, Expr] = {}
    #: what a listing cannot do without (title, url, company) -> the source's field for it;
    #: a listing with one of them missing, empty or a placeholder is rejected at parse time
    required: dict[str, str] = {}
    #: the field holding the publication time as unix seconds (or ms), when there is one
    published_epoch_field: str | None = None
    #: what the source says about the size of an answer (for the operator); "" when it
    #: says nothing. See `stated_size`.
    size_statement: str = ""

    def stated_size(self, document: Mapping[str, object]) -> int | None:
        """How many listings one page says it holds, from its own top-level fields
        (`ParsedPage.document`); None when the source states nothing on such a page.
        Raises `UnreadableSize` when a statement the source always makes is missing or
        is not a count.

        Part of the completeness proof (`lib/identity/lifecycle.py`): a page whose
        distinct listings (`ParsedPage.identified`) are not as many as it states, or
        whose statement cannot be read, is a short answer, and a fetch with one never
        counts as complete, so nothing is expired on it. A source that states nothing
        is judged by the sudden-drop guard alone.
        """
        return None

    def stated_total(self, documents: list[Mapping[str, object]]) -> int | None:
        """How many distinct listings the whole answer says it holds, from its pages'
        top-level fields in order, where the source states that (positions that run on
        across pages); None when it does not. A window whose distinct listings are fewer
        (the feed moved while it was paged: a listing repeated, another slipped past) is
        a short answer too."""
        return None

    def fetch(self, client: HttpClient, settings: SourceSettings, keep: KeepPage) -> str | None:
        """Fetch the current listings, handing each body to `keep` before parsing it.

        Returns why the listings are incomplete (paging that never ended), or None.
        """
        raise NotImplementedError

    @property
    def attribution(self) -> str:
        return (
            f"Listings from {self.display_name} ({self.home_url}); each row links back to its page."
        )

    @property
    def columns(self) -> dict[str, str]:
        """Common field -> SQL expression over the staged `payload` (the pipeline's
        extraction, `lib/listings/extract.py`)."""
        return {name: expr.sql() for name, expr in self.fields.items()}

    def item_fields(self, item: Mapping[str, object]) -> dict[str, str | None]:
        """The common fields of one listing read in Python, for listings that never pass
        through staging (the salary corpus): the values `columns` gives in PostgreSQL."""
        return {name: expr.read(item) for name, expr in self.fields.items()}

    def payload_keys(self, *common: str) -> tuple[str, ...]:
        """The listing's own fields that hold the `common` fields, in order, once each
        (`payload_keys("description_html")` of Jobicy: `("jobDescription",)`)."""
        found: dict[str, None] = {}
        for name in common:
            found.update(dict.fromkeys(self.fields[name].keys()))
        return tuple(found)

    def means_no_listings(self, status: int, page: int) -> bool:
        """Whether an error status with a JSON body means "no listings" (`empty_statuses`):
        only as the first page's answer; on a later page it is paging that broke."""
        return status in self.empty_statuses and page == 0

    def records_in(self, document: object) -> object:
        """The listings array of a parsed body (None when absent): `document[jobs_key]`."""
        return document.get(self.jobs_key) if isinstance(document, dict) else None

    def shape_error(self, document: object) -> str:
        """Why a parsed body holds no listings array (for `records_in` returning None)."""
        if not isinstance(document, dict):
            return f"a JSON {type(document).__name__}, not an object with {self.jobs_key!r}"
        keys = ", ".join(sorted(map(str, document))[:10])
        return f"no {self.jobs_key!r} list in the response (fields: {keys})"

    def peek(self, body: bytes) -> dict | None:
        """A page's top-level fields but the listings (paging, counts); None when unusable.

        For paging: no record is built, checked or measured.
        """
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        if not isinstance(document, dict):
            return None
        return {k: v for k, v in document.items() if k != self.jobs_key}

    def replay_body(self, fixtures: Path, params: Mapping[str, str], url: str) -> bytes | None:
        """What the replay server answers at `url` (this source's path) with `params`:
        the recorded `<name>.json` by default; None for a 404."""
        path = fixtures / f"{self.name}.json"
        return path.read_bytes() if path.exists() else None

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
        if page.status >= 400 and not self.means_no_listings(page.status, index):
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
        jobs = self.records_in(document)
        if jobs is None and self.means_no_listings(status, page) and isinstance(document, dict):
            jobs = []
        if not isinstance(jobs, list):
            result.error = self.shape_error(document)
            return result
        if isinstance(document, dict):
            result.document = _clean_document(document, self.jobs_key)
        result.received = len(jobs)
        for position, job in enumerate(jobs):
            record = self._record(job, page, position, result)
            if record is not None:
                result.records.append(record)
        return result

    def _record(
        self, job: object, page: int, position: int, result: ParsedPage
    ) -> tuple[str, dict] | None:
        where = f"listing #{position}"
        rejects = result.rejects
        if not isinstance(job, dict):
            rejects.append(Reject(page, f"{where} is a {type(job).__name__}, not an object"))
            return None
        raw_id = job.get(self.id_field)
        if isinstance(raw_id, float) and raw_id.is_integer() and abs(raw_id) < 2**53:
            raw_id = int(raw_id)  # `123.0`: a number some serialisers write with a point
        if (
            isinstance(raw_id, bool)
            or not isinstance(raw_id, (str, int))
            or not str(raw_id).strip()
        ):
            if self.id_field not in job:
                found = "it is missing"
            elif raw_id is None or isinstance(raw_id, (str, int)):  # null, "", "  ", or a bool
                found = f"it is {json.dumps(raw_id)}"
            else:
                found = f"it is a JSON {_json_kind(raw_id)}"
            why = f"{where} has no usable {self.id_field!r} ({found}; a listing is known by it)"
            rejects.append(Reject(page, why, _title(job)))
            return None
        job_id = str(raw_id).strip()
        result.identified.add(job_id)
        cleaning = records.Cleaning()
        try:
            job = records.clean(job, cleaning)
        except records.TooDeep as err:
            rejects.append(Reject(page, f"{where} ({job_id}) is {err}", job_id=job_id))
            return None
        size = len(json.dumps(job, ensure_ascii=False))
        if size > MAX_RECORD_BYTES:
            rejects.append(
                Reject(page, f"{where} ({job_id}) is {size} bytes, over the limit", job_id=job_id)
            )
            return None
        missing = records.missing_required(job, self.required)
        if missing:
            rejects.append(Reject(page, f"{where} ({job_id}) has {missing}", _title(job), job_id))
            return None
        rejects.extend(Reject(page, note) for note in sorted(cleaning.notes))
        return job_id, job


def _json_kind(value: object) -> str:
    return {dict: "object", list: "array", float: "number"}.get(type(value), type(value).__name__)


@dataclass
class WindowRecords:
    """A window's records from all its pages, one per id (the first seen wins)."""

    records: list[tuple[str, dict, datetime]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    duplicates: int = 0
    pages: int = 0
    #: pages that do not hold as many listings as they state (`Source.stated_size`)
    short_answers: list[str] = field(default_factory=list)

    @property
    def parsed(self) -> int:
        return len(self.records)

    def rejected_ids(self) -> list[str]:
        """Ids of listings that arrived but were rejected (and came in no usable copy):
        the source still lists them, so the window is no proof that they are gone."""
        loaded = {job_id for job_id, _, _ in self.records}
        return sorted({r.job_id for r in self.rejects if r.job_id} - loaded)

    def summary(self) -> ParseSummary:
        reasons = Counter(r.reason for r in self.rejects)
        return ParseSummary(
            pages=self.pages,
            parsed=self.parsed,
            rejected=len(self.rejects),
            duplicates=self.duplicates,
            reject_reasons=dict(reasons.most_common(20)),
            page_errors=list(self.page_errors),
            short_answers=list(self.short_answers),
            rejected_ids=self.rejected_ids(),
        )


@dataclass(frozen=True)
class ParseSummary:
    """What parsing a window gave, recorded once in its manifest (`parse`) and read back
    by the checks and the stored-window path instead of parsing the pages again."""

    pages: int = 0
    parsed: int = 0
    rejected: int = 0
    duplicates: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    page_errors: list[str] = field(default_factory=list)
    short_answers: list[str] = field(default_factory=list)
    #: `WindowRecords.rejected_ids`: listings that arrived, not loaded, never expired by it
    rejected_ids: list[str] = field(default_factory=list)

    def as_manifest(self) -> dict[str, object]:
        return {
            "pages": self.pages,
            "parsed": self.parsed,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "reject_reasons": self.reject_reasons,
            "page_errors": self.page_errors,
            "short_answers": self.short_answers,
            "rejected_ids": self.rejected_ids,
        }

    @classmethod
    def from_manifest(cls, entry: Mapping[str, object]) -> ParseSummary:
        return cls(
            pages=int(entry.get("pages", 0)),
            parsed=int(entry.get("parsed", 0)),
            rejected=int(entry.get("rejected", 0)),
            duplicates=int(entry.get("duplicates", 0)),
            reject_reasons=dict(entry.get("reject_reasons") or {}),
            page_errors=list(entry.get("page_errors") or []),
            short_answers=list(entry.get("short_answers") or []),
            rejected_ids=list(entry.get("rejected_ids") or []),
        )

    def as_metadata(self) -> dict[str, object]:
        return {
            "records_parsed": self.parsed,
            "records_rejected": self.rejected,
            "duplicate_ids_dropped": self.duplicates,
            "reject_reasons": self.reject_reasons,
        }


def parse_window(source: Source, pages: Iterable[Page]) -> WindowRecords:
    """Parse stored pages in order; duplicate ids (paging overlap) keep the first."""
    out = WindowRecords()
    seen: set[str] = set()
    identified: set[str] = set()  # rejected listings with a readable id too
    documents: list[Mapping[str, object]] = []
    for page in pages:
        out.pages += 1
        parsed = source.parse(page.body, page.status, page.index)
        out.rejects.extend(parsed.rejects)
        if parsed.error:
            out.page_errors.append(f"page {page.index} ({page.url}): {parsed.error}")
            continue
        documents.append(parsed.document)
        identified |= parsed.identified
        disagreement = _size_disagreement(source, parsed)
        if disagreement:
            out.short_answers.append(f"page {page.index}: {disagreement}")
        for job_id, payload in parsed.records:
            if job_id in seen:
                out.duplicates += 1
                continue
            seen.add(job_id)
            out.records.append((job_id, payload, page.retrieved_at))
    if documents and not out.page_errors and not out.short_answers:
        try:
            total = source.stated_total(documents)
        except UnreadableSize:
            total = None  # each page's own statement already says so
        if total is not None and total != len(identified):
            out.short_answers.append(
                f"the whole answer: {source.display_name or source.name} stated {total} "
                f"listings over its pages, {len(identified)} distinct arrived"
                + (f" ({out.duplicates} repeated across pages: the feed moved while it "
                   "was paged)" if out.duplicates else "")
            )  # fmt: skip
    return out


def _size_disagreement(source: Source, parsed: ParsedPage) -> str | None:
    """How a page's statement of its size disagrees with the listings that arrived on it
    (distinct ids, rejected listings included), or None when it agrees or states nothing."""
    name = source.display_name or source.name
    try:
        stated = source.stated_size(parsed.document)
    except UnreadableSize as err:
        return f"{name}'s size statement ({source.size_statement}) cannot be read: {err}"
    arrived = len(parsed.identified)
    if stated is None or stated == arrived:
        return None
    sent = f" (in {parsed.received} entries)" if parsed.received != arrived else ""
    return f"{name} stated {stated} listings ({source.size_statement}), {arrived} arrived{sent}"
