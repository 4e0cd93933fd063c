"""Jobicy: the 2026 API pages with `cursor` = previous `nextCursor` until `hasMore`
is false; the older API answers in one page. A 404 with a JSON body means no jobs.

Unknown query parameters are rejected, so only `count` (and `cursor` after the first
page) is ever sent. Terms: at most one sync an hour; credit Jobicy with a link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from jobs_assets.lib.http import HttpClient
from jobs_assets.lib.sources.base import (
    NULL,
    KeepPage,
    Source,
    SourceSettings,
    first,
    first_value,
    stated_count,
    text,
)

PAGE_SIZE = 100


def _salary_field(new: str, old: str) -> str:
    """2026 `salaryMin`/`salaryMax`, else the older annual fields."""
    return f"COALESCE({text(new)}, {text(old)})"


class Jobicy(Source):
    name = "jobicy"
    display_name = "Jobicy"
    home_url = "https://jobicy.com"
    default_url = "https://jobicy.com/api/v2/remote-jobs"
    min_interval_hours = 1.0  # at most one sync an hour
    max_pages = 100  # a guard against a cursor that never ends
    terms = "At most one sync an hour; credit Jobicy with a link."
    expiry = "absence"  # the cursor is followed to its end
    id_field = "id"
    empty_statuses = frozenset({404})
    required = {"title": "jobTitle", "company": "companyName", "url": "url"}
    columns = {
        "title": text("jobTitle"),
        "company_name": text("companyName"),
        "job_url": text("url"),
        "company_logo_url": text("companyLogo"),
        "job_type": first("jobType"),
        "seniority": text("jobLevel"),
        "category": first("jobIndustry"),
        "tags_json": "(payload->'jobTags')::text",
        "location_text": text("jobGeo"),
        "location_json": NULL,
        "salary_text": NULL,
        "salary_min": _salary_field("salaryMin", "annualSalaryMin"),
        "salary_max": _salary_field("salaryMax", "annualSalaryMax"),
        # The older annual fields carry no period: they are yearly by definition.
        "salary_period": (
            f"CASE WHEN {text('salaryMin')} IS NOT NULL OR {text('salaryMax')} IS NOT NULL "
            f"THEN {text('salaryPeriod')} ELSE 'year' END"
        ),
        "salary_currency": text("salaryCurrency"),
        "description_html": text("jobDescription"),
        "published": text("pubDate"),
        "expires": NULL,
    }

    def item_fields(self, item: dict) -> dict | None:
        new = item.get("salaryMin") is not None or item.get("salaryMax") is not None
        return {
            "title": item.get("jobTitle"),
            "company_name": item.get("companyName"),
            "job_url": item.get("url"),
            "job_type": first_value(item.get("jobType")),
            "seniority": item.get("jobLevel"),
            "category": first_value(item.get("jobIndustry")),
            "location_text": item.get("jobGeo"),
            "salary_min": item.get("salaryMin") if new else item.get("annualSalaryMin"),
            "salary_max": item.get("salaryMax") if new else item.get("annualSalaryMax"),
            "salary_period": item.get("salaryPeriod") if new else "year",
            "salary_currency": item.get("salaryCurrency"),
            "description_html": item.get("jobDescription"),
            "published": item.get("pubDate"),
        }

    # `jobCount`: the jobs in a one-page answer (6 with 6 in the recorded one). No page
    # of the cursor API was recorded, so what `jobCount` would count there (the page or
    # the whole feed) is unknown: a cursor page states nothing and the sudden-drop guard
    # judges it.
    size_statement = "`jobCount`"

    def stated_size(self, document: Mapping[str, object]) -> int | None:
        if "hasMore" in document or "nextCursor" in document:
            return None
        return stated_count(document.get("jobCount"))

    def fetch(self, client: HttpClient, settings: SourceSettings, keep: KeepPage) -> str | None:
        """Follow the cursor; stop (and say why) on a repeated cursor or page, or at the limit."""
        params: dict[str, object] = {"count": PAGE_SIZE}
        seen_cursors: set[str] = set()
        seen_bodies: set[bytes] = set()
        limit = settings.max_pages
        for index in range(limit):
            page = self.get_page(client, settings.url, params, index, keep)
            document = self.peek(page.body) or {}
            cursor = document.get("nextCursor")
            if document.get("hasMore") is not True or not cursor:
                return None
            digest = hashlib.sha256(page.body).digest()
            if str(cursor) in seen_cursors or digest in seen_bodies:
                return (
                    f"the API repeated cursor {str(cursor)[:40]!r} at page {index}: paging stopped"
                )
            seen_cursors.add(str(cursor))
            seen_bodies.add(digest)
            params = {"count": PAGE_SIZE, "cursor": cursor}
        return f"hasMore was still true after {limit} pages (the page limit): paging stopped"
