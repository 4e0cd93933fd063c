"""RemoteOK: one GET returns the whole feed (~100 jobs) as a JSON array; no paging.

Element 0 is a legal notice, not a job. Ids are strings; a salary of 0 means none
given, and figures under 1,000 are hourly. Text arrives as UTF-8 that was decoded as
Latin-1 and encoded again: it is repaired when parsed (the raw body is kept as
received). Every description ends with an anti-spam paragraph ("Please mention the
word ..."), stripped before the text is stored.

Terms (the notice): name Remote OK as the source and link back, followed, to the
job's page on Remote OK; never use the Remote OK logo. So `job_url` is always the
remoteOK.com page, even for jobs whose `url` points at the employer's site. The feed
is a CDN document refreshed about hourly: polling more often gets nothing new.
"""

from __future__ import annotations

from jobs_assets.lib.sources.base import KeepPage, Source, SourceSettings
from jobs_assets.lib.sources.fields import (
    NULL,
    AnyNotNull,
    Expr,
    GreatestBelow,
    NullIf,
    Prefixed,
    Strip,
    When,
    as_json,
    coalesce,
    first,
    joined,
    literal,
    non_empty,
    text,
    vocabulary,
)
from jobs_assets.lib.sources.http import HttpClient
from jobs_assets.lib.sources.mojibake import repair_record

JOB_PAGE = "https://remoteOK.com/remote-jobs/"
#: a figure below this is an hourly rate (the feed has 25-27, 80-140, 114-225)
HOURLY_BELOW = 1000


def _amount(key: str) -> Expr:
    return NullIf(text(key), "0")


_TAGS = joined("tags")
_AMOUNTS = (_amount("salary_min"), _amount("salary_max"))
_HAS_SALARY = AnyNotNull(_AMOUNTS)


class RemoteOK(Source):
    name = "remoteok"
    display_name = "Remote OK"
    home_url = "https://remoteok.com"
    default_url = "https://remoteok.com/api"
    min_interval_hours = 1.0  # the feed is cached for an hour
    terms = (
        "Name Remote OK as the source and link back (followed) to each job's Remote OK "
        "page; do not use the Remote OK logo without written permission."
    )
    expiry = "absence"  # one GET returns the whole feed
    # The feed states no size (element 0 holds only `last_updated` and the legal notice):
    # `stated_size` stays None, and the sudden-drop guard alone judges a short feed.
    id_field = "id"
    # Some jobs arrive with an empty `position` (and nothing but the anti-spam notice).
    required = {"title": "position", "company": "company", "url": "url"}
    fields = {
        "title": text("position"),
        "company_name": text("company"),
        # The link back the terms ask for: the job's page on Remote OK, never the
        # employer's site (`url` of an "original" job); a job without slug keeps `url`.
        "job_url": coalesce(Prefixed(JOB_PAGE, non_empty(text("slug"))), text("url")),
        "company_logo_url": non_empty(text("company_logo")),
        "job_type": vocabulary(
            _TAGS,
            [
                (r"(^|\|)full[ -]?time(\||$)", "full_time"),
                (r"(^|\|)part[ -]?time(\||$)", "part_time"),
                (r"(^|\|)(contract|contractor)(\||$)", "contract"),
                (r"(^|\|)freelance(\||$)", "freelance"),
                (r"(^|\|)(internship|intern)(\||$)", "internship"),
            ],
        ),
        "seniority": vocabulary(
            _TAGS,
            [
                (r"(^|\|)(executive|exec|c level)(\||$)", "executive"),
                (r"(^|\|)director(\||$)", "director"),
                (r"(^|\|)manager(\||$)", "manager"),
                (r"(^|\|)(senior|lead|principal|staff)(\||$)", "senior"),
                (r"(^|\|)(junior|entry level|graduate)(\||$)", "entry"),
            ],
        ),
        "category": first("tags"),
        "tags_json": as_json("tags"),
        "location_text": non_empty(text("location")),
        "location_json": NULL,
        "salary_text": NULL,
        "salary_min": _amount("salary_min"),
        "salary_max": _amount("salary_max"),
        "salary_period": When(
            _HAS_SALARY,
            When(GreatestBelow(_AMOUNTS, HOURLY_BELOW), literal("hour"), literal("year")),
        ),
        "salary_currency": When(_HAS_SALARY, literal("USD")),
        "description_html": Strip(
            text("description"), r"(\s|<br\s*/?>)*Please mention the word \*\*.*$"
        ),
        "published": coalesce(text("epoch"), text("date")),
        "expires": NULL,
        "timezones_json": NULL,
        "remote_flag": NULL,
    }

    def records_in(self, document: object) -> object:
        """The jobs after the legal notice (element 0), with their text repaired."""
        if not isinstance(document, list):
            return None
        jobs = document[1:] if document and _is_notice(document[0]) else document
        return [repair_record(job) for job in jobs]

    def shape_error(self, document: object) -> str:
        return f"a JSON {type(document).__name__}, not the array of jobs Remote OK serves"

    published_epoch_field = "epoch"

    def fetch(self, client: HttpClient, settings: SourceSettings, keep: KeepPage) -> None:
        self.get_page(client, settings.url, None, 0, keep)


def _is_notice(element: object) -> bool:
    return isinstance(element, dict) and "legal" in element and "id" not in element
