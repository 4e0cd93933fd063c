"""The registry of sources: adding one means a module here and a line below."""

from jobs_assets.lib.sources.base import (
    Page,
    ParsedPage,
    Reject,
    Source,
    WindowRecords,
    parse_window,
)
from jobs_assets.lib.sources.himalayas import Himalayas
from jobs_assets.lib.sources.jobicy import Jobicy
from jobs_assets.lib.sources.remotive import Remotive

SOURCES: dict[str, Source] = {s.name: s for s in (Remotive(), Jobicy(), Himalayas())}

__all__ = ["SOURCES", "Page", "ParsedPage", "Reject", "Source", "WindowRecords", "parse_window"]
