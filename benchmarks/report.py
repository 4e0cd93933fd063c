"""The results as Markdown tables, written between a scale's markers in BENCHMARKS.md."""

from __future__ import annotations

from pathlib import Path


def _mb(size: float) -> str:
    return f"{size / 2**20:,.0f} MB" if size < 2**30 else f"{size / 2**30:,.2f} GB"


def _s(seconds: float) -> str:
    return f"{seconds:,.2f} s" if seconds < 100 else f"{seconds:,.0f} s"


def _met(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _header(r: dict) -> list[str]:
    m, v, pg = r["machine"], r["versions"], r["postgresql"]
    settings = ", ".join(f"{k} {val}" for k, val in pg["settings"].items())
    return [
        f"Run of {r['started_at']} at scale `{r['scale']}`, {r['duration_s']:.0f} s in all.",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB memory, {m['os']}.",
        f"  Load average {r['load_average_start']} at the start, {r['load_average_end']} at "
        "the end (1, 5, 15 min; other processes shared the machine).",
        f"- PostgreSQL {v['postgresql']}, {pg['where']} ({settings}).",
        f"- Python {v['python']}; jobs_assets {v['jobs_assets']}, dagster {v['dagster']}, "
        f"pandas {v['pandas']}, pyarrow {v['pyarrow']}, numpy {v['numpy']}, "
        f"psycopg {v['psycopg']}, SQLAlchemy {v['sqlalchemy']}, dlt {v['dlt']}, "
        f"requests {v['requests']}.",
        "",
    ]


def _fetch(b: dict) -> list[str]:
    one = b["measured_one_worker_s"]
    return [
        "### B1 fetch: Himalayas pages through `fetch_raw_window`",
        "",
        "| pages N | workers W | latency L | measured (median) | N·L | ideal N·L/W | "
        "× ideal | without speculation | one worker |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {b['pages']} | {b['workers']} | {b['latency_s']:g} s | {_s(b['seconds_median'])} | "
        f"{_s(b['sequential_bound_s'])} | {_s(b['ideal_s'])} | **{b['ratio_to_ideal']:.2f}×** | "
        f"{_s(b['without_speculation_s'])} ({b['without_speculation_ratio']:.2f}×) | "
        f"{_s(one) if one is not None else 'not measured'} |",
        "",
        f"Median of {b['repeats']} ({', '.join(_s(t) for t in b['seconds_all'])}). "
        f"Target ≤ {b['target_ratio']}× ideal: {_met(b['target_met'])}.",
        "",
    ]


_NAMES = {
    "ours": "**ours** (`upsert_window`)",
    "floor": "floor: bare COPY, no index",
    "floor_indexed": "bare COPY into the indexed table",
    "to_sql": "pandas `to_sql` (old system)",
    "dlt": "dlt (merge)",
}


def _load(runs: list[dict]) -> list[str]:
    lines = [
        "### B2 load: staged window to normalised rows",
        "",
        "| rows | contender | seconds | rows/s | × floor | × ours | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for b in runs:
        for name, c in b["contenders"].items():
            lines.append(
                f"| {b['rows']:,} | {_NAMES[name]} | {_s(c['seconds'])} | {c['rows_per_s']:,} | "
                f"{c['ratio_to_floor']:.2f} | {c['ratio_to_ours']:.2f} | "
                f"{c['peak_rss_mb']:,.0f} MB |"
            )
    lines.append("")
    repeats = runs[0].get("repeats", 1)
    if repeats > 1:
        lines += [
            f"Ours and the two floors: median of {repeats} runs each "
            + "; ".join(
                f"{b['rows']:,} rows: ours "
                + ", ".join(_s(t) for t in b["contenders"]["ours"]["seconds_all"])
                + ", floor "
                + ", ".join(_s(t) for t in b["contenders"]["floor"]["seconds_all"])
                for b in runs
            )
            + ". to_sql and dlt: one run each.",
            "",
        ]
    for b in runs:
        ours = b["contenders"]["ours"]
        lines.append(
            f"- {b['rows']:,} rows ({b['copy_text_mb']:,} MB as COPY text): ours "
            f"{ours['ratio_to_floor']:.2f}× the floor (target ≤ {b['target_floor_ratio']:g}×), "
            f"{b['contenders']['to_sql']['ratio_to_ours']:.2f}× faster than to_sql, "
            f"{b['contenders']['dlt']['ratio_to_ours']:.2f}× faster than dlt: "
            f"{_met(b['target_met'])}."
        )
    lines.append("")
    return lines


def _incremental(b: dict) -> list[str]:
    empty, large = b["empty_history"], b["large_history"]
    before = b["history_before"]
    rows = [
        f"| none | 0 | 0 | | {_s(empty['seconds_median'])} "
        f"({', '.join(_s(t) for t in empty['seconds_all'])}) |",
        f"| large | {before['staged_rows']:,} in {before['staged_windows']:,} windows | "
        f"{before['listings']:,} | {_mb(before['database_bytes'])} | "
        f"{_s(large['seconds_median'])} ({', '.join(_s(t) for t in large['seconds_all'])}) |",
    ]
    rss = b.get("peak_rss")
    lines = [
        f"### B3 incremental: a new window of {b['window_rows']:,} listings",
        "",
        "| history | staged rows | listings | database | `upsert_window` (median of the new "
        "windows after a warm-up) |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Large history / empty: **{b['ratio']:.2f}×** (target ≤ {b['target_ratio']}×): "
        f"{_met(b['target_met'])}.",
    ]
    if rss:
        lines.append(
            f"Peak RSS normalising and upserting {rss['rows']:,} rows: "
            f"**{rss['peak_rss_mb']:,.0f} MB** ({rss['rss_before_work_mb']:,.0f} MB of it "
            f"before any work: imports), target < {rss['target_mb'] / 1024:g} GB: "
            f"{_met(rss['target_met'])}."
        )
    lines.append("")
    return lines


def _end_to_end(b: dict) -> list[str]:
    lines = [
        "### B4 end to end: a demo window through Dagster (replay server, fresh process)",
        "",
        "| executor | process start to run success | run | steps' own code (assets + checks) "
        "| Dagster overhead | share |",
        "|---|---|---|---|---|---|",
    ]
    for r in b["runs"]:
        lines.append(
            f"| {r['executor']} | {_s(r['total_s'])} | {_s(r['run_s'])} | "
            f"{_s(r['steps_compute_union_s'])} ({_s(r['assets_compute_s'])} + "
            f"{_s(r['checks_compute_s'])}) | {_s(r['dagster_overhead_s'])} | "
            f"{r['dagster_overhead_share']:.0%} |"
        )
    lines.append("")
    return lines


def _backup(b: dict) -> list[str]:
    counts = ", ".join(f"{t} {n:,}" for t, n in b["row_counts"].items())
    return [
        "### B5 backup of the loaded database",
        "",
        f"Database: {_mb(b['database_bytes'])} on disk, {b['rows']:,} rows ({counts}).",
        "",
        "| step | seconds | dump size | × plain pg_dump |",
        "|---|---|---|---|",
        f"| plain `pg_dump -Fc` {b['pg_dump_version']} | {_s(b['plain_pg_dump_s'])} | "
        f"{_mb(b['plain_dump_bytes'])} | 1.00 |",
        f"| `backup.dump` (snapshot, exact counts, checksum, manifest) | {_s(b['dump_s'])} | "
        f"{_mb(b['dump_bytes'])} | {b['dump_ratio_to_plain']:.2f} |",
        f"| `backup.verify` (restore into a scratch database, compare counts) | "
        f"{_s(b['verify_s'])} | | |",
        f"| dump + verify | {_s(b['dump_and_verify_s'])} | | "
        f"{b['dump_and_verify_ratio_to_plain']:.2f} |",
        "",
    ]


def _marts(b: dict) -> list[str]:
    full, refresh = b["full_build"], b["refresh_after_one_window"]
    met = b["targets_met"]

    def row(run: dict, what: str, target: str) -> str:
        nodes, sql = run["node_seconds_by_type"], run.get("sql_seconds_by_type", {})
        return (
            f"| {what} | {_s(run['seconds'])} | {run['nodes']} "
            f"| {_s(nodes.get('model', 0))} / {_s(sql.get('model', 0))} "
            f"| {_s(nodes.get('test', 0))} / {_s(sql.get('test', 0))} | {target} |"
        )

    return [
        f"### B6 analytics marts (dbt), {b['listings']:,} listings",
        "",
        "dbt as a process of its own (`DbtCliResource`, as every run); models and tests: the",
        "time dbt spent on the nodes / the database on their statements (2-4 threads).",
        "",
        "| run | wall | nodes | models | tests | target |",
        "| --- | --- | --- | --- | --- | --- |",
        row(full, "full `dbt build`", f"≤ 60 s {_met(met['full_build'])}"),
        row(
            refresh,
            "incremental refresh after one window (1,500 new, 500 expired)",
            f"≤ 5 s {_met(met['refresh'])}",
        ),
        f"| the five marts as plain SQL (CREATE TABLE AS of the full build's SELECTs, "
        f"no tests) | {_s(b['plain_sql_marts_s'])} | | | | |",
        "",
    ]


def _identity(b: dict) -> list[str]:
    big, empty, met = b["with_history"], b["empty_history"], b["targets_met"]
    nothing = b["empty_database"]

    def steps(run: dict) -> str:
        return ", ".join(f"{k} {_s(v)}" for k, v in run["steps_s"].items())

    stored = b["stored"]
    return [
        f"### B7 listing identity: a window of {b['window']:,} new listings",
        "",
        "| stored | lifecycle + clusters + history | steps | expired | versions | target |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {stored['listings']:,} active listings, {stored['history_rows']:,} history rows "
        f"| {_s(big['seconds'])} | {steps(big)} | {big['listings_expired']} "
        f"| {big['new_versions']} | ≤ 10 s {_met(met['seconds'])} |",
        f"| the same listings, empty history | {_s(empty['seconds'])} | {steps(empty)} "
        f"| {empty['listings_expired']} | {empty['new_versions']} | |",
        f"| ratio | {b['ratio']:.2f}× | | | | ≤ 1.5× {_met(met['ratio'])} |",
        f"| empty database (no company block to match) | {_s(nothing['seconds'])} "
        f"| {steps(nothing)} | {nothing['listings_expired']} | {nothing['new_versions']} "
        f"| {b['ratio_to_empty_database']:.2f}× |",
        "",
        *_large_blocks(b.get("large_blocks") or {}),
    ]


def _large_blocks(large: dict) -> list[str]:
    """Issue 25: one large company block against the same listings spread."""
    if not any(k in large for k in ("one_company", "copies")):
        return []
    met = large["targets_met"]
    lines = [
        "#### Large company blocks: one block against the same listings spread",
        "",
        "| window | layout | identity (wall) | matching | CPU (ours + PostgreSQL) "
        "| candidate pairs | largest block | ratio wall / CPU | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    names = {"one_company": "listings of one company", "copies": "copies of real listings"}
    for name, label in names.items():
        if name not in large:
            continue
        r = large[name]
        for side, layout in (("one_block", "one block"), ("spread", "spread")):
            x = r[side]
            ratio = f"{r['ratio']:.2f}× / {r['ratio_cpu']:.2f}×" if side == "one_block" else ""
            target = (
                f"≤ 2× {_met(met[f'{name}_ratio'])} / {_met(met[f'{name}_ratio_cpu'])}"
                if side == "one_block"
                else ""
            )
            lines.append(
                f"| {r['window']:,} {label} | {layout} | {_s(x['seconds'])} "
                f"| {_s(x['steps_s'].get('clusters_matching', 0.0))} "
                f"| {_s(x['cpu_s']['identity'])} | {x['identity_candidate_pairs']:,} "
                f"| {x['identity_largest_block']:,} | {ratio} | {target} |"
            )
    if "copies" in large:
        x = large["copies"]["one_block"]
        lines += [
            "",
            f"The whole `jobs_listings` step for the {large['copies']['window']:,} copies "
            f"(`upsert_window` {_s(x['upsert_s'])} + identity {_s(x['seconds'])}): "
            f"{_s(x['step_s'])}, {_s(x['cpu_s']['upsert'] + x['cpu_s']['identity'])} CPU "
            "(target: within 3× a bare COPY of the same rows), against each COPY of them:",
            "",
            "| COPY of the rows the window wrote | wall | CPU | step / COPY, wall | CPU |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, label in FLOOR_LABELS.items():
            if f"{name}_s" in x:
                lines.append(
                    f"| {label} | {_s(x[f'{name}_s'])} | {_s(x['cpu_s'][name])} "
                    f"| {x[f'step_to_{name}']:.1f}× | {x[f'step_to_{name}_cpu']:.1f}× |"
                )
        lines += [
            "",
            f"Target ≤ 3× the bare COPY: {_met(met['copies_step_to_bare_copy'])} (wall) / "
            f"{_met(met['copies_step_to_bare_copy_cpu'])} (CPU).",
        ]
    return [*lines, ""]


#: the identity benchmark's COPYs (`benchmarks.identity.FLOORS`), as the report names them
FLOOR_LABELS = {
    "bare_copy": "bare: an ordinary table without indexes (the target's floor, as B2's)",
    "bare_copy_temp": "bare, into a temporary table (no WAL)",
    "bare_copy_fulltext": "an ordinary table with the listings' full-text trigger",
    "copy_like_listings": "a table like the listings: their indexes and full-text trigger",
}


def _salary_model(b: dict) -> list[str]:
    title = "### B8 salary model: training and prediction"
    if "skipped" in b:
        return [title, "", f"Not run: {b['skipped']}.", ""]
    return [
        title,
        "",
        "| step | rows | wall | CPU | target |",
        "| --- | --- | --- | --- | --- |",
        f"| training (features, interval calibration, final fit) | {b['train_rows']:,} "
        f"| {_s(b['train_wall_s'])} | {_s(b['train_cpu_s'])} "
        f"| ≤ {b['train_target_s']} s {_met(b['train_target_met'])} |",
        f"| prediction (listings with descriptions) | {b['predict_rows']:,} "
        f"| {b['predict_rows_per_wall_s']:,} rows/s | {b['predict_rows_per_cpu_s']:,} rows/s "
        f"| ≥ {b['predict_target_rows_per_s']:,} rows/s {_met(b['predict_target_met'])} |",
        "",
        f"Measured {b.get('measured_at', '')} (load average {b.get('load_average', '')}); "
        "200,000 rows resampled from the salary corpus (speed only: no quality metric is "
        f"computed on resampled rows). The stored model is {_mb(b['model_bytes'])} of skops.",
        "",
    ]


def _salary_labels(b: dict) -> list[str]:
    def row(what: str, part: dict) -> str:
        return f"| {what} | {part['rows']} | {part['right']} | {part['accuracy']:.1%} |"

    return [
        "### Salary parse accuracy on hand-labelled real strings",
        "",
        "| strings | labelled | exactly right | accuracy |",
        "| --- | --- | --- | --- |",
        row("all (target ≥ 97%)", b["overall"]),
        row("tuning half (the rules were fixed on it)", b["tuning"]),
        row("held-out half (never used to fix a rule)", b["held_out"]),
        row("free text (Remotive field, description lines)", b["free_text"]),
        row("structured fields", b["structured"]),
        "",
        "Labels: `jobs_assets_tests/data/salary_labels.csv` (issue 28); min, max, currency "
        "and period must all match.",
        "",
    ]


def _places(b: dict) -> list[str]:
    a = b["accuracy"]
    return [
        f"### B9 places and who may apply: a window of {b['rows']:,} listings",
        "",
        f"`normalise` with {b['distinct_locations']:,} distinct real location strings "
        f"(benchmarks/places.py): {_s(b['cold_s'])} cold, {_s(b['warm_s'])} warm; "
        f"{b['unknown_share']:.1%} Unknown, {b['worldwide_share']:.1%} worldwide.",
        "",
        f"| hard set ({a['strings']} strings, by hand) | exactly right | target |",
        "| --- | --- | --- |",
        f"| countries and regions | {a['countries_and_regions']:.1%} | ≥ 97% "
        f"{_met(a['countries_and_regions'] >= 0.97)} |",
        f"| cities | {a['cities']:.1%} | ≥ 95% |",
        f"| subdivisions | {a['subdivisions']:.1%} | ≥ 95% |",
        f"| eligibility (kind) | {a['eligibility']:.1%} | |",
        f"| eligibility and eligible countries | {a['eligibility_and_countries']:.1%} | |",
        f"| stated UTC band | {a['utc_band']:.1%} | |",
        f"| wrongly worldwide | {a['wrongly_worldwide']} | 0 {_met(a['wrongly_worldwide'] == 0)} |",
        "",
    ]


def render(r: dict) -> str:
    lines = _header(r)
    if "generation_s" in r:
        lines += [f"Synthetic staged listings generated in {_s(r['generation_s'])}.", ""]
    if "b1_fetch" in r:
        lines += _fetch(r["b1_fetch"])
    if "b2_load" in r:
        lines += _load(r["b2_load"])
    if "b3_incremental" in r:
        lines += _incremental(r["b3_incremental"])
    if "b4_end_to_end" in r:
        lines += _end_to_end(r["b4_end_to_end"])
    if "b5_backup" in r:
        lines += _backup(r["b5_backup"])
    if "b6_marts" in r:
        lines += _marts(r["b6_marts"])
    if "b7_identity" in r:
        lines += _identity(r["b7_identity"])
    if "b8_salary_model" in r:
        lines += _salary_model(r["b8_salary_model"])
    elif "b7_salary_model" in r:  # results recorded before the identity benchmark took B7
        lines += _salary_model(r["b7_salary_model"])
    if "salary_labels" in r:
        lines += _salary_labels(r["salary_labels"])
    if "b9_places" in r:
        lines += _places(r["b9_places"])
    return "\n".join(lines).rstrip() + "\n"


def replace_section(path: Path, marker: str, body: str, heading: str = "") -> None:
    """Put `body` between `<!-- {marker}:begin -->` and `<!-- {marker}:end -->` in the
    markdown file, replacing what was there; added at the end (under `heading`, if
    given) when the markers are missing."""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    block = f"{begin}\n{body}{end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + (f"\n\n{heading}" if heading else "") + f"\n\n{block}\n"
    path.write_text(text)


def update_markdown(path: Path, scale: str, results: dict) -> None:
    """Replace the text between the scale's markers (added at the end if missing)."""
    replace_section(path, f"results:{scale}", render(results), f"## Results at scale `{scale}`")
