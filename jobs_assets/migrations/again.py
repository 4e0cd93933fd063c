"""Load a sibling revision, to run its upgrade or backfill again with this release's code.

Some revisions change no schema: they decide derived columns again (places, eligibility,
categories) because this release's parser decides them differently, and do so by running
the revision that first backfilled those columns (`0010_places`, `0012_eligibility`,
`0018_places_parsed_again`, `0019_categories_decided_again`), whose code reads the stored
listings through the current parser. Revision files start with a digit, so they cannot
be imported by name; Alembic loads them by path, and so does this.

`rehash_current_versions` is what each of them does last: the current version of every
listing in the history gets its `row_hash` again over the values it now holds, so the
upgrade writes no new version.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from sqlalchemy.engine import Connection

VERSIONS = Path(__file__).with_name("versions")


def load_revision(stem: str) -> ModuleType:
    """The module of `versions/<stem>.py` (e.g. `0018_places_parsed_again`)."""
    spec = importlib.util.spec_from_file_location(f"jobs_migration_{stem}", VERSIONS / f"{stem}.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no migration {stem}.py in {VERSIONS}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade_again(stem: str) -> None:
    """Run revision `stem`'s `upgrade()` again."""
    load_revision(stem).upgrade()


def rehash_current_versions(bind: Connection) -> None:
    """Each listing's current history version hashed again (`row_hash`), over the columns
    the history has at the running revision (a later one may add and hash more)."""
    from jobs_assets.lib.identity.history import HASHED, ROW_HASH_SQL

    present = {
        row[0]
        for row in bind.exec_driver_sql(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = 'jobs_listings_history'"
        )
    }
    hashed = ROW_HASH_SQL.format(", ".join(f"h.{c}" for c in HASHED if c in present))
    bind.exec_driver_sql(
        f"UPDATE public.jobs_listings_history AS h SET row_hash = {hashed}"
        f" WHERE h.valid_to IS NULL AND h.row_hash IS DISTINCT FROM {hashed}"
    )
