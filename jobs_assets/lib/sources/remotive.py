"""Remotive: one GET returns every active listing; no paging.

Terms: at most 4 pulls a day (the 6-hour minimum interval), link back and name Remotive.
"""

from __future__ import annotations

from collections.abc import Mapping

from jobs_assets.lib.sources.base import KeepPage, Source, SourceSettings, required_count
from jobs_assets.lib.sources.fields import NULL, as_json, coalesce, text
from jobs_assets.lib.sources.http import HttpClient


class Remotive(Source):
    name = "remotive"
    display_name = "Remotive"
    home_url = "https://remotive.com"
    default_url = "https://remotive.com/api/remote-jobs"
    min_interval_hours = 6.0  # at most 4 pulls a day
    terms = "At most 4 pulls a day (2 requests a minute); link back and name Remotive."
    expiry = "absence"  # one GET returns every active listing
    id_field = "id"
    required = {"title": "title", "company": "company_name", "url": "url"}
    fields = {
        "title": text("title"),
        "company_name": text("company_name"),
        "job_url": text("url"),
        "company_logo_url": coalesce(text("company_logo"), text("company_logo_url")),
        "job_type": text("job_type"),
        "seniority": NULL,
        "category": text("category"),
        "tags_json": as_json("tags"),
        "location_text": text("candidate_required_location"),
        "location_json": NULL,
        "salary_text": text("salary"),
        "salary_min": NULL,
        "salary_max": NULL,
        "salary_period": NULL,
        "salary_currency": NULL,
        "description_html": text("description"),
        "published": text("publication_date"),
        "expires": NULL,
        "timezones_json": NULL,
        "remote_flag": NULL,
    }

    # `job-count` is the number of jobs in this answer (12 with 12 in the recorded one);
    # `total-job-count` counts Remotive's whole board (23 there), most of which the public
    # API does not serve (it delays jobs), so it says nothing about what should arrive.
    size_statement = "`job-count`"

    def stated_size(self, document: Mapping[str, object]) -> int | None:
        return required_count(document, "job-count")

    def fetch(self, client: HttpClient, settings: SourceSettings, keep: KeepPage) -> None:
        self.get_page(client, settings.url, None, 0, keep)
        return None
