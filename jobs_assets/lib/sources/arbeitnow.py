"""Arbeitnow: `?page=N` (1-based) until `links.next` is null.

No total is given and the page size varies (100, later 325). The next page is asked
for with our own URL and `page` (never by following `links.next`, which could name
another host); `links.next` only says whether there is one. The feed is re-sorted
hourly, so a crawl can see a job twice: the window keeps its first copy (by `slug`,
which the job's `url` ends in).

`job_types` is free text in German and English, mixing the kind of contract
("Full-time permanent", "Working student", "Side") with seniority ("berufseinstieg",
"berufserfahren", "geschäftsleitung"): each goes to its own vocabulary. Descriptions
end with an Arbeitnow promotional footer, stripped. Arbeitnow gives no salary.

Terms (`meta.terms`): a free public API, do not abuse it, link back to the site. Jobs
are updated hourly, so fetching more often gains nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

from jobs_assets.lib.sources.base import (
    KeepPage,
    Source,
    SourceSettings,
    UnreadableSize,
    required_count,
)
from jobs_assets.lib.sources.fields import (
    NULL,
    Strip,
    as_json,
    first,
    joined,
    text,
    vocabulary,
)
from jobs_assets.lib.sources.http import HttpClient

_JOB_TYPES = joined("job_types")
#: the replay server splits the one recorded page in two after this many jobs
REPLAY_SPLIT = 50


class Arbeitnow(Source):
    name = "arbeitnow"
    display_name = "Arbeitnow"
    home_url = "https://www.arbeitnow.com"
    home_country = "DE"  # a German board: a place named alone is in Germany
    remote_only = False  # office jobs too: `remote` says which (lib/normalise/eligibility.py)
    default_url = "https://www.arbeitnow.com/api/job-board-api"
    min_interval_hours = 1.0  # jobs are updated hourly
    max_pages = 50
    terms = "Free public API: do not abuse it; link back to Arbeitnow."
    expiry = "absence"  # pages are read until the last
    id_field = "slug"
    required = {"title": "title", "company": "company_name", "url": "url"}
    jobs_key = "data"
    fields = {
        "title": text("title"),
        "company_name": text("company_name"),
        "job_url": text("url"),
        "company_logo_url": NULL,
        "job_type": vocabulary(
            _JOB_TYPES,
            [
                (r"full.?time|vollzeit|festanstellung|permanent", "full_time"),
                (r"part.?time|teilzeit|student|(^|\|)side|minijob", "part_time"),
                (r"intern|praktikum|trainee|apprentice|ausbildung|dual", "internship"),
                (r"freelance|freiberuf", "freelance"),
                (r"contract|befristet", "contract"),
            ],
        ),
        "seniority": vocabulary(
            _JOB_TYPES,
            [
                (r"geschäftsleitung|geschaeftsleitung|executive", "executive"),
                (r"teamleitung|manager", "manager"),
                (r"senior", "senior"),
                (r"berufserfahren|experienced|(^|\|)mid", "mid"),
                (r"berufseinstieg|(^|\|)entry|junior|graduate", "entry"),
            ],
        ),
        "category": first("tags"),
        "tags_json": as_json("tags"),
        "location_text": text("location"),
        "location_json": NULL,
        "salary_text": NULL,
        "salary_min": NULL,
        "salary_max": NULL,
        "salary_period": NULL,
        "salary_currency": NULL,
        "description_html": Strip(
            text("description"),
            r"\s*(<p>)?\s*Find (more )?<a [^>]*>[^<]*</a> on Arbeitnow(</a>)?\s*(</p>)?\s*$",
        ),
        "published": text("created_at"),
        "expires": NULL,
        "timezones_json": NULL,
        "remote_flag": text("remote"),  # true / false
    }

    # No total (`links.last` is null), but every page states the positions it holds,
    # `meta.from` to `meta.to` (1 to 100 on the recorded page of 100 jobs), and its page
    # size, `meta.per_page`: a page with a next one is full. A page past the end states
    # null for both positions: nothing.
    size_statement = "`meta.from`..`meta.to`, and `meta.per_page` on a page with a next"

    def stated_size(self, document: Mapping[str, object]) -> int | None:
        meta = document.get("meta")
        if not isinstance(meta, dict):
            raise UnreadableSize(f"`meta` is {meta!r}, not an object")
        if _next_link(document):
            return required_count(meta, "per_page")
        if meta.get("from") is None and meta.get("to") is None:
            return 0  # past the end
        start, end = required_count(meta, "from"), required_count(meta, "to")
        if end < start:
            raise UnreadableSize(f"`meta.to` {end} is before `meta.from` {start}")
        return end - start + 1

    def stated_total(self, documents: list[Mapping[str, object]]) -> int | None:
        """The positions run on across pages: the last page holding any states the last
        position (`meta.to`), counted from the first page's `meta.from`."""
        metas = [d.get("meta") for d in documents]
        if not all(isinstance(m, dict) for m in metas):
            return None
        held = [m for m in metas if m.get("to") is not None]
        if not held:
            return None
        first, last = required_count(held[0], "from"), required_count(held[-1], "to")
        return last - first + 1 if last >= first else None

    def fetch(self, client: HttpClient, settings: SourceSettings, keep: KeepPage) -> str | None:
        """Read pages until one has no next; a reason when paging did not reach that end
        (a page that a previous page's `links.next` named holds nothing: the listings it
        promised never came)."""
        limit = settings.max_pages
        for index in range(limit):
            page = self.get_page(client, settings.url, {"page": index + 1}, index, keep)
            document = self.peek(page.body) or {}
            if index and not document.get("has_data"):
                return (
                    f"page {index + 1} holds no listing though page {index}'s links.next "
                    "named it: paging stopped short"
                )
            if not _next_link(document):
                return None
            if not document.get("has_data"):
                return f"page {index + 1} holds no listing but links.next names another: paging stopped"
        return f"links.next was still set after {limit} pages (the page limit): paging stopped"

    def peek(self, body: bytes) -> dict | None:
        """Paging fields, plus `has_data`: whether the page held any listing."""
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(document, dict):
            return None
        data = document.get(self.jobs_key)
        fields = {k: v for k, v in document.items() if k != self.jobs_key}
        return {**fields, "has_data": isinstance(data, list) and bool(data)}

    def replay_body(self, fixtures: Path, params: Mapping[str, str], url: str) -> bytes | None:
        """The recorded page 1 served as two pages linked by `links.next` (no real page 2
        was ever recorded), so paging runs offline."""
        document = json.loads((fixtures / f"{self.name}.json").read_bytes())
        page = int(params.get("page", "1") or 1)
        jobs = document.get("data", [])
        parts = {1: jobs[:REPLAY_SPLIT], 2: jobs[REPLAY_SPLIT:]}
        document["data"] = parts.get(page, [])
        links = dict(document.get("links") or {})
        links["next"] = f"{url}?{urlencode({'page': page + 1})}" if page < 2 else None
        links["prev"] = f"{url}?{urlencode({'page': page - 1})}" if page > 1 else None
        document["links"] = links
        meta = dict(document.get("meta") or {})
        meta["current_page"] = page
        meta["per_page"] = REPLAY_SPLIT
        # the positions this page holds, as the real API states them (null past the end)
        start = REPLAY_SPLIT * (page - 1) + 1
        served = len(document["data"])
        meta["from"], meta["to"] = (start, start + served - 1) if served else (None, None)
        document["meta"] = meta
        return json.dumps(document).encode()


def _next_link(document: Mapping[str, object]) -> bool:
    """Whether a page's `links.next` names a next page."""
    links = document.get("links")
    return isinstance(links, dict) and bool(links.get("next"))
