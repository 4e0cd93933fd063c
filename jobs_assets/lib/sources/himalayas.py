"""Himalayas: `limit` (at most 20) and `offset`, newest first, ~100k listings.

Only the newest `JOBS_HIMALAYAS_MAX_PAGES` pages are read. The first page tells the
total; the rest are fetched concurrently by a bounded thread pool sharing one
session and one rate limiter, so N pages at latency L with W workers take about
N·L/W. New jobs arriving mid-crawl shift pages, so a `guid` can appear twice: the
window keeps its first (newest) copy.

Waiting for the first page before asking for the others would cost one extra round
trip (N·L/W + L). So when the first page is slow to answer (a real network, not a
local server), the next W-1 pages are asked for meanwhile: Himalayas has thousands
of pages, so they exist. A first page that answers quickly tells the total before
any other request, and nothing past the total is ever asked for.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from jobs_assets.lib.sources.base import KeepPage, Page, Source, SourceSettings, required_count
from jobs_assets.lib.sources.fields import NULL, as_json, coalesce, first, literal, text
from jobs_assets.lib.sources.http import HttpClient

PAGE_SIZE = 20
#: how long the first page may take before the next pages are asked for speculatively
#: (None: never speculate)
SPECULATE_AFTER_SECONDS: float | None = 0.05
#: recorded pages the replay server serves, by offset; any other offset is an empty page
REPLAY_PAGES = {
    0: "himalayas.json",
    20: "himalayas_page2_overlap.json",
    40: "himalayas_documented_schema.json",
}


class Himalayas(Source):
    name = "himalayas"
    display_name = "Himalayas"
    home_url = "https://himalayas.app"
    default_url = "https://himalayas.app/jobs/api"
    min_interval_hours = 0.0  # no limit stated beyond polite request rates
    max_pages = 50  # newest pages only: the whole feed is ~5,000 pages
    terms = "Link back to Himalayas for every listing; keep request rates polite."
    expiry = "expires_at_or_unseen"  # only the newest pages are read
    id_field = "guid"
    required = {"title": "title", "company": "companyName", "url": "applicationLink"}
    fields = {
        "title": text("title"),
        "company_name": text("companyName"),
        "job_url": text("applicationLink"),
        "company_logo_url": text("companyLogo"),
        "job_type": text("employmentType"),
        "seniority": first("seniority"),
        "category": coalesce(first("parentCategories"), first("categories")),
        "tags_json": as_json("categories"),
        "location_text": NULL,
        "location_json": as_json("locationRestrictions"),
        "salary_text": NULL,
        "salary_min": text("minSalary"),
        "salary_max": text("maxSalary"),
        "salary_period": coalesce(text("salaryPeriod"), literal("year")),
        "salary_currency": text("currency"),
        "description_html": text("description"),
        "published": text("pubDate"),
        "expires": text("expiryDate"),
        "timezones_json": as_json("timezoneRestrictions"),
        "remote_flag": NULL,
    }

    published_epoch_field = "pubDate"

    # Every page echoes `offset` and `limit` and states `totalCount` (the whole feed,
    # ~100k, never read whole: only the newest pages are), so a page holds
    # min(limit, totalCount - offset) listings; fewer is a short page.
    size_statement = "`limit` of `totalCount` from `offset`"

    def stated_size(self, document: Mapping[str, object]) -> int | None:
        total, limit, offset = (
            required_count(document, k) for k in ("totalCount", "limit", "offset")
        )
        return max(0, min(limit, total - offset))

    def fetch(self, client: HttpClient, settings: SourceSettings, keep: KeepPage) -> str | None:
        """Fetch the newest pages; a reason when offset paging repeated itself."""
        fetched: dict[int, Page] = {}

        def fetch_page(index: int) -> Page:
            params = {"limit": PAGE_SIZE, "offset": index * PAGE_SIZE}
            page = self.get_page(client, settings.url, params, index, keep)
            fetched[index] = page
            return page

        workers = max(1, settings.workers)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="himalayas") as pool:
            first = pool.submit(fetch_page, 0)
            futures: list[Future] = []
            if not wait([first], timeout=SPECULATE_AFTER_SECONDS).done:
                futures = [
                    pool.submit(fetch_page, i) for i in range(1, min(workers, settings.max_pages))
                ]
            first_page = first.result()
            peeked = self.peek(first_page.body)
            if peeked is not None:  # else the stored body tells why; nothing tells how many pages
                pages = settings.max_pages
                total = peeked.get("totalCount")
                if isinstance(total, int) and total >= 0:
                    pages = min(pages, max(1, math.ceil(total / PAGE_SIZE)))
                futures += [pool.submit(fetch_page, i) for i in range(1 + len(futures), pages)]
            for future in futures:
                future.result()  # re-raises the first failure once every page was attempted
        return self.repeated_page(fetched)

    def repeated_page(self, pages: dict[int, Page]) -> str | None:
        """Offset paging that served the same listings at two offsets has stopped moving."""
        previous: frozenset[str] = frozenset()
        for index in sorted(pages):
            ids = frozenset(job_id for job_id, _ in self.parse(pages[index].body).records)
            if ids and ids == previous:
                return (
                    f"offset paging returned the same page again at page {index} "
                    f"(offset {index * PAGE_SIZE}): the listings after it were not read"
                )
            previous = ids
        return None

    def replay_body(self, fixtures: Path, params: Mapping[str, str], url: str) -> bytes | None:
        """The recorded pages by offset, then empty pages: the replayed feed ends there.

        Each page states what it holds, as the real API's pages do, so a replayed fetch
        can count as complete: the recorded second page (cut to its one overlapping job
        when it was recorded) states that one job as its `limit`, and every page states
        the replayed feed's size as its `totalCount` (the recording's said the whole live
        feed's, ~100k), so a replayed fetch reads the recorded pages and stops there as a
        live one stops at the live total, instead of asking for `max_pages` pages.
        """
        offset = int(params.get("offset", "0") or 0)
        page = fixtures / REPLAY_PAGES.get(offset, "-")
        total = _replayed_total(fixtures)
        if page.is_file():
            document = json.loads(page.read_bytes())
            jobs = document.get("jobs") if isinstance(document, dict) else None
            if not isinstance(jobs, list):  # a recording of a broken page: as it was
                return page.read_bytes()
            document = {**document, "totalCount": total}
            stated = self.stated_size(document)
            if stated is not None and stated > len(jobs):
                document["limit"] = len(jobs)
            return json.dumps(document).encode()
        empty = {"offset": offset, "limit": PAGE_SIZE, "totalCount": min(offset, total), "jobs": []}
        return json.dumps(empty).encode()


def _replayed_total(fixtures: Path) -> int:
    """Where the replayed feed ends: after the last recorded page's listings."""
    end = 0
    for offset, name in REPLAY_PAGES.items():
        page = fixtures / name
        if page.is_file():
            document = json.loads(page.read_bytes())
            jobs = document.get("jobs") if isinstance(document, dict) else None
            end = max(end, offset + len(jobs) if isinstance(jobs, list) else offset)
    return end
