#!/usr/bin/env python
"""Rebuild the shared `duplicates/cross_source_listings.jsonl.gz` of jobs_assets: the
listings that `jobs_assets_tests/data/cross_source_pairs.csv` refers to and that
`duplicates/duplicate_listings.jsonl.gz` does not already hold (docs/duplicates.md,
"Cross-source pairs (issue 25)"), read as raw items from public repositories' git
history and normalised with the project's own code.

Nothing is fetched from the network: the repositories must already be on this machine
as git directories (bare or not). The session's `fetch` tool puts them at
`<mirrors>/<owner>+<name>/repo`; sources to fetch:

  github:themikemoniker/contract-scraper            data/sources/<source>.json, all commits
  github:go-api-libs/remote-ok-jobs                 RemoteOK go-vcr cassette
  github:go-api-libs/jobicy                         Jobicy go-vcr cassettes
  github:MoaviaMahmood/Arbeitnow-Jobs-ETL-Pipeline  Arbeitnow responses
  github:JACKAS5/resume-helper                      a RemoteOK response
  github:breixoperezalvarez/germany-job-search-pipeline   Arbeitnow and Remotive responses
  github:Creampanda/jobscout                        an Arbeitnow response
  github:yagosilvax/Data-Enginnering-Remotive-API   Remotive responses

Every version of each file named in VERSIONS (every commit that adds or changes it, on
any branch) is read; a listing's row comes from the first of them by commit time (ties:
repository, path, commit), `first_seen_at` is that commit's time (UTC) and `provenance`
is `owner/repo:path@commit`. The columns and rules are those of
`duplicate_listings.jsonl.gz` (shared/data/duplicates/README.md): the source module's
field map for Remotive, Jobicy and Himalayas, the documented fields for RemoteOK and
Arbeitnow, then `jobs_assets.lib.normalise.rows.normalise()`; text as served; rows sorted by
source (remotive, jobicy, himalayas, remoteok, arbeitnow) and id.

Run it with the project's virtualenv, pointing at a checkout of jobs_assets (the
normalised columns come from the project's own code), after the older file exists:

  .venv/bin/python docs/data/build_cross_source.py --project . --mirrors MIRRORS \\
      --out ../shared/data

Options: `--repo owner/name=GITDIR` (repeatable) for repositories kept elsewhere;
`--existing FILE` for the older listings file (default
`<out>/duplicates/duplicate_listings.jsonl.gz`). The output is deterministic (sorted
rows, gzip mtime 0), so a rebuild gives the same sha256. It exits with status 1 if a
listing of the pairs is found nowhere or if a key of both files would differ.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

SOURCES_ORDER = ("remotive", "jobicy", "himalayas", "remoteok", "arbeitnow")
SCRAPER = "themikemoniker/contract-scraper"
#: the files read besides contract-scraper's: (repository, path, source, kind), where
#: kind is "cassette" (go-vcr YAML, the JSON bodies of its responses) or "response" (an
#: API response as served: RemoteOK's array, `jobs` or Arbeitnow's `data`)
VERSIONS = [
    # added as pkg/remote-ok-jobs/vcr/2024-12-04.yaml at bbcc01d and renamed (same blob)
    # at 80ab4fc: the docs and the older file name the renamed path, so it is read here
    ("go-api-libs/remote-ok-jobs", "pkg/remoteokjobs/vcr/2024-12-04.yaml", "remoteok", "cassette"),
    ("go-api-libs/jobicy", "pkg/jobicy/vcr/2024-12-05.yaml", "jobicy", "cassette"),
    ("go-api-libs/jobicy", "pkg/jobicy/vcr/2024-12-08.yaml", "jobicy", "cassette"),
    ("MoaviaMahmood/Arbeitnow-Jobs-ETL-Pipeline", "data/bronze_jobs.json", "arbeitnow", "response"),
    ("JACKAS5/resume-helper", "remoteok.json", "remoteok", "response"),
    (
        "breixoperezalvarez/germany-job-search-pipeline",
        "data/raw/arbeitnow_jobs.json",
        "arbeitnow",
        "response",
    ),
    (
        "breixoperezalvarez/germany-job-search-pipeline",
        "data/raw/remotive_jobs.json",
        "remotive",
        "response",
    ),
    ("Creampanda/jobscout", "arbeitnow_jobs.json", "arbeitnow", "response"),
    ("yagosilvax/Data-Enginnering-Remotive-API", "raw/remotive_data.json", "remotive", "response"),
]
COLUMNS = (
    "source",
    "source_job_id",
    "title",
    "company_name",
    "location_raw",
    "countries",
    "regions",
    "seniority",
    "description_text",
    "job_url",
    "first_seen_at",
    "provenance",
)
ID_FIELDS = {
    "remotive": "id",
    "jobicy": "id",
    "himalayas": "guid",
    "remoteok": "id",
    "arbeitnow": "slug",
}


# --- git (as shared/data/build/build_shared_data.py reads it) -------------------------


class Repos:
    def __init__(self, mirrors: Path | None, overrides: dict[str, Path]):
        self.mirrors = mirrors
        self.overrides = overrides
        self._times: dict[tuple[str, str], str] = {}

    def gitdir(self, repo: str) -> Path:
        if repo in self.overrides:
            return self.overrides[repo]
        if self.mirrors is None:
            raise SystemExit(f"no git directory for {repo}: give --mirrors or --repo {repo}=DIR")
        path = self.mirrors / repo.replace("/", "+") / "repo"
        if not path.exists():
            raise SystemExit(f"{path} is missing: fetch github:{repo} first (see the docstring)")
        return path

    def git(self, repo: str, *args: str) -> bytes:
        cmd = ["git", "--git-dir", str(self.gitdir(repo)), *args]
        return subprocess.run(cmd, check=True, capture_output=True).stdout

    def show(self, repo: str, commit: str, path: str) -> bytes:
        return self.git(repo, "show", f"{commit}:{path}")

    def committed_at(self, repo: str, commit: str) -> str:
        """The commit's committer time, in UTC, ISO 8601."""
        key = (repo, commit)
        if key not in self._times:
            stamp = self.git(repo, "show", "-s", "--format=%ct", commit).decode().strip()
            self._times[key] = _iso_utc(int(stamp))
        return self._times[key]

    def commits_of(self, repo: str, path: str) -> list[str]:
        """Every commit that added or changed `path` (any branch), oldest first."""
        out = self.git(repo, "log", "--all", "--diff-filter=AMR", "--format=%H", "--", path)
        found = out.decode().split()
        return sorted(set(found), key=lambda c: (self.committed_at(repo, c), c))


def _iso_utc(seconds: float) -> str:
    import pandas as pd

    return pd.Timestamp(seconds, unit="s", tz="UTC").isoformat()


# --- raw items ------------------------------------------------------------------------


def cassette_bodies(raw: bytes) -> list[object]:
    """The JSON response bodies of a go-vcr cassette, in interaction order."""
    import yaml

    cassette = yaml.safe_load(raw)
    bodies = []
    for interaction in cassette.get("interactions") or []:
        body = (interaction.get("response") or {}).get("body")
        try:
            bodies.append(json.loads(body))
        except (TypeError, ValueError):
            continue
    return bodies


def scraper_items(raw: bytes) -> list[dict]:
    """contract-scraper's records keep the API's own item under `raw`: only that is used."""
    records = json.loads(raw)
    return [r["raw"] for r in records if isinstance(r, dict) and isinstance(r.get("raw"), dict)]


def response_items(source: str, document: object) -> list[dict]:
    """The listings of one API response, as served (no text repair): RemoteOK's array
    without its legal notice, `jobs` for Remotive/Jobicy/Himalayas, `data` for Arbeitnow."""
    if isinstance(document, list):
        items = document
    elif isinstance(document, dict):
        items = document.get("data" if source == "arbeitnow" else "jobs") or []
    else:
        items = []
    return [i for i in items if isinstance(i, dict) and "legal" not in i]


def snapshots(repos: Repos) -> list[dict]:
    """Every file version read, oldest first: origin, time, source and its raw items."""
    found = []
    for commit in repos.commits_of(SCRAPER, "data/sources/"):
        for source in SOURCES_ORDER:
            path = f"data/sources/{source}.json"
            try:
                raw = repos.show(SCRAPER, commit, path)
            except subprocess.CalledProcessError:
                continue  # this source was not collected yet
            found.append(
                {
                    "repo": SCRAPER,
                    "path": path,
                    "commit": commit,
                    "seen": repos.committed_at(SCRAPER, commit),
                    "source": source,
                    "items": scraper_items(raw),
                }
            )
    for repo, path, source, kind in VERSIONS:
        for commit in repos.commits_of(repo, path):
            raw = repos.show(repo, commit, path)
            documents = cassette_bodies(raw) if kind == "cassette" else [json.loads(raw)]
            found.append(
                {
                    "repo": repo,
                    "path": path,
                    "commit": commit,
                    "seen": repos.committed_at(repo, commit),
                    "source": source,
                    "items": [i for d in documents for i in response_items(source, d)],
                }
            )
    found.sort(key=lambda v: (v["seen"], v["repo"], v["path"], v["commit"]))
    return found


# --- normalised rows (the older file's rules) -----------------------------------------


def documented_fields(source: str, item: dict) -> dict:
    """The columns read from one raw item: the source module's field map for Remotive,
    Jobicy and Himalayas; the documented fields of RemoteOK (position, company, location,
    description, date) and Arbeitnow (title, company_name, location, description,
    created_at)."""
    from jobs_assets.lib.sources import SOURCES

    if source == "remoteok":
        return {
            "title": item.get("position"),
            "company_name": item.get("company"),
            "location_text": item.get("location"),
            "description_html": item.get("description"),
            "published": item.get("date"),
        }
    if source == "arbeitnow":
        return {
            "title": item.get("title"),
            "company_name": item.get("company_name"),
            "location_text": item.get("location"),
            "description_html": item.get("description"),
            "published": item.get("created_at"),
        }
    return SOURCES[source].item_fields(item) or {}


def normalised_rows(source: str, found: list[tuple[str, dict, str, str]]) -> list[dict]:
    """`found`: (id, raw item, first_seen_at, provenance) -> rows of COLUMNS."""
    import pandas as pd

    from jobs_assets.lib.normalise.rows import EXTRACTED, normalise

    frame = pd.DataFrame(
        [
            {**dict.fromkeys(EXTRACTED), **documented_fields(source, item)}
            for _, item, _, _ in found
        ],
        columns=list(EXTRACTED),
        dtype=object,
    )
    frame["source_job_id"] = [job_id for job_id, _, _, _ in found]
    frame["retrieved_at"] = pd.to_datetime([seen for _, _, seen, _ in found], utc=True)
    normalised, _ = normalise(frame, source)
    rows = []
    for (job_id, _, seen, provenance), row in zip(
        found, normalised.to_dict("records"), strict=True
    ):
        out = {}
        for column in COLUMNS:
            if column == "first_seen_at":
                value = seen
            elif column == "provenance":
                value = provenance
            elif column == "source_job_id":
                value = job_id
            else:
                value = _plain(row.get(column))
            out[column] = value
        rows.append(out)
    return rows


def _plain(value: object) -> object:
    """JSON-ready: lists as lists, missing values as None."""
    import numpy as np
    import pandas as pd

    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


# --- the build ------------------------------------------------------------------------


def read_jsonl_gz(path: Path) -> dict[tuple[str, str], dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return {(r["source"], r["source_job_id"]): r for r in rows}


def build(repos: Repos, pairs_csv: Path, existing: Path, out_file: Path) -> dict:
    with open(pairs_csv, newline="", encoding="utf-8") as handle:
        pairs = list(csv.DictReader(handle))
    referenced = set()
    for pair in pairs:
        referenced.add((pair["left_source"], pair["left_id"]))
        referenced.add((pair["right_source"], pair["right_id"]))
    older = read_jsonl_gz(existing)
    wanted = {k for k in referenced if k not in older}

    first: dict[tuple[str, str], tuple[dict, str, dict]] = {}
    versions = snapshots(repos)
    for version in versions:  # oldest first: the first snapshot holding a listing wins
        source = version["source"]
        for item in version["items"]:
            job_id = item.get(ID_FIELDS[source])
            if job_id in (None, ""):
                continue
            key = (source, str(job_id))
            if key in referenced and key not in first:
                first[key] = (item, version["seen"], version)

    def rows_for(keys: set[tuple[str, str]]) -> list[dict]:
        rows = []
        for source in SOURCES_ORDER:
            chosen = sorted(k for k in keys if k[0] == source and k in first)
            found = [
                (
                    k[1],
                    first[k][0],
                    first[k][1],
                    f"{first[k][2]['repo']}:{first[k][2]['path']}@{first[k][2]['commit']}",
                )
                for k in chosen
            ]
            if found:
                rows += normalised_rows(source, found)
        return rows

    rows = rows_for(wanted)
    # A key of both files must be the same row (evaluation.load_listings): none is written
    # twice, but the older file's keys that the pairs use are rebuilt here as a check of
    # the rules. A difference is reported, not fatal: the older file dates its fixture
    # rows by the response, and its countries/regions are those of the normalise() it was
    # built with.
    rebuilt = {(r["source"], r["source_job_id"]): r for r in rows_for(referenced & set(older))}
    agree = sum(1 for k, r in rebuilt.items() if older[k] == r)
    written = {(r["source"], r["source_job_id"]) for r in rows}
    clash = sorted(written & set(older))  # empty by construction; checked all the same
    out_file.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl_gz(out_file, rows)
    origins = Counter()
    for row in rows:
        origins[row["provenance"]] += 1
    return {
        "pairs": len(pairs),
        "referenced": len(referenced),
        "in_older": len(referenced & set(older)),
        "rebuilt": len(rebuilt),
        "agree": agree,
        "differ": sorted(k for k, r in rebuilt.items() if older[k] != r),
        "clash": clash,
        "rows": len(rows),
        "missing": sorted(k for k in wanted if k not in first),
        "by_source": Counter(r["source"] for r in rows),
        "by_repo": Counter(p.split(":")[0] for p in origins.elements()),
        "origins": origins,
        "versions": len(versions),
    }


# --- output ---------------------------------------------------------------------------


def write_jsonl_gz(path: Path, rows: list[dict]) -> None:
    """Deterministic gzip JSON Lines (UTF-8, no timestamp or name in the gzip header)."""
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    path.write_bytes(buffer.getvalue())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=Path("."), help="jobs_assets checkout")
    parser.add_argument("--mirrors", type=Path, help="folder of <owner>+<name>/repo git dirs")
    parser.add_argument("--repo", action="append", default=[], help="owner/name=GITDIR")
    parser.add_argument("--out", type=Path, required=True, help="shared/data")
    parser.add_argument("--existing", type=Path, help="the older duplicate_listings.jsonl.gz")
    args = parser.parse_args(argv)
    project = args.project.resolve()
    sys.path.insert(0, str(project))
    overrides = {}
    for spec in args.repo:
        name, _, path = spec.partition("=")
        overrides[name] = Path(path)
    repos = Repos(args.mirrors, overrides)
    existing = args.existing or args.out / "duplicates" / "duplicate_listings.jsonl.gz"
    if not existing.exists():
        raise SystemExit(f"{existing} is missing: build it first (build_shared_data.py)")
    pairs = project / "jobs_assets_tests" / "data" / "cross_source_pairs.csv"
    out_file = args.out / "duplicates" / "cross_source_listings.jsonl.gz"
    result = build(repos, pairs, existing, out_file)
    print(
        f"cross-source: {result['pairs']} pairs, {result['referenced']} listings referenced, "
        f"{result['in_older']} already in {existing.name}; {result['rows']} rows written "
        f"from {result['versions']} file versions"
    )
    print(f"  by source {dict(result['by_source'])}")
    for repo, n in sorted(result["by_repo"].items()):
        print(f"  first seen in {repo}: {n}")
    for origin, n in sorted(result["origins"].items()):
        if not origin.startswith(SCRAPER):
            print(f"    {origin}: {n}")
    print(
        f"  check: {result['agree']} of the {result['rebuilt']} older rows the pairs use "
        f"rebuild to the same row (not fatal); differ: {result['differ'] or 'none'}"
    )
    print(f"  missing: {result['missing'] or 'none'}")
    print(f"  keys in both files: {result['clash'] or 'none'}")
    print(f"  {out_file} {out_file.stat().st_size} bytes sha256 {sha256(out_file)}")
    return 1 if result["missing"] or result["clash"] else 0


if __name__ == "__main__":
    sys.exit(main())
