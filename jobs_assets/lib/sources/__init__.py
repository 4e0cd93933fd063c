"""The registry of sources: every module here declares one, and nothing else names it.

Adding a source takes two files: a module here with a `Source` subclass (name, display
name, home URL, default URL, minimum interval and terms, paging rule and `max_pages`, id
field, the `fields` map onto the common table (`fields.py`: one map gives both the
SQL projection and the Python one), expiry rule, `fetch`, and how the
replay server serves its recordings when one `<name>.json` is not enough), and its
recorded response(s) in `jobs_assets/replay_fixtures/`; then one line below. Settings
(`JOBS_<NAME>_URL`, `JOBS_<NAME>_MIN_INTERVAL_HOURS`, `JOBS_<NAME>_MAX_PAGES` when it
pages), resources, assets, checks, the replay server, the CLI and the tests' fixtures
follow from the registry. `docker-compose.yml`, `dagster.yaml`, `.env.example` and the
README list the variables by hand: `test_settings.py` fails until they name the new ones.

May import: `lib.errors`, `lib.redact`.
"""

from jobs_assets.lib.sources.arbeitnow import Arbeitnow
from jobs_assets.lib.sources.base import (
    Page,
    ParsedPage,
    ParseSummary,
    Reject,
    Source,
    SourceSettings,
    WindowRecords,
    parse_window,
)
from jobs_assets.lib.sources.himalayas import Himalayas
from jobs_assets.lib.sources.jobicy import Jobicy
from jobs_assets.lib.sources.remoteok import RemoteOK
from jobs_assets.lib.sources.remotive import Remotive

SOURCES: dict[str, Source] = {
    s.name: s for s in (Remotive(), Jobicy(), Himalayas(), RemoteOK(), Arbeitnow())
}

__all__ = [
    "SOURCES",
    "Page",
    "ParseSummary",
    "ParsedPage",
    "Reject",
    "Source",
    "SourceSettings",
    "WindowRecords",
    "parse_window",
]
