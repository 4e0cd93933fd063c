"""Himalayas: `limit` (at most 20) and `offset`, newest first, ~100k listings.

Only the newest `JOBS_HIMALAYAS_MAX_PAGES` pages are read. The first page tells the
total; the rest are fetched concurrently by a bounded thread pool sharing one
session and one rate limiter, so N pages at latency L with W workers take about
N·L/W. New jobs arriving mid-crawl shift pages, so a `guid` can appear twice: the
window keeps its first (newest) copy.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

from jobs_assets.lib.http import HttpClient
from jobs_assets.lib.sources.base import KeepPage, Source, as_json, first, text
from jobs_assets.settings import SourceSettings

PAGE_SIZE = 20


class Himalayas(Source):
    name = "himalayas"
    id_field = "guid"
    columns = {
        "title": text("title"),
        "company_name": text("companyName"),
        "job_url": text("applicationLink"),
        "company_logo_url": text("companyLogo"),
        "job_type": text("employmentType"),
        "seniority": first("seniority"),
        "category": f"COALESCE({first('parentCategories')}, {first('categories')})",
        "tags_json": as_json("categories"),
        "location_text": "NULL",
        "location_json": as_json("locationRestrictions"),
        "salary_text": "NULL",
        "salary_min": text("minSalary"),
        "salary_max": text("maxSalary"),
        "salary_period": f"COALESCE({text('salaryPeriod')}, 'year')",
        "salary_currency": text("currency"),
        "description_html": text("description"),
        "published": text("pubDate"),
        "expires": text("expiryDate"),
    }

    def fetch(self, client: HttpClient, settings: SourceSettings, keep: KeepPage) -> None:
        def fetch_page(index: int) -> None:
            params = {"limit": PAGE_SIZE, "offset": index * PAGE_SIZE}
            self.get_page(client, settings.url, params, index, keep)

        first_page = self.get_page(client, settings.url, {"limit": PAGE_SIZE, "offset": 0}, 0, keep)
        parsed = self.parse(first_page.body, first_page.status, 0)
        total = parsed.document.get("totalCount")
        if parsed.error:
            return  # the stored body tells why; nothing tells how many pages exist
        pages = settings.max_pages
        if isinstance(total, int) and total >= 0:
            pages = min(pages, max(1, math.ceil(total / PAGE_SIZE)))
        with ThreadPoolExecutor(
            max_workers=settings.workers, thread_name_prefix="himalayas"
        ) as pool:
            # list() re-raises the first failure after every page was attempted
            list(pool.map(fetch_page, range(1, pages)))
