{#- Incremental refresh of the marts (see models/intermediate/int_listing_changes.sql).

    `analytics_intermediate.refresh_marks` holds one row per consumer of the listing
    changes: `mark` is the transaction-id watermark it has read up to. For
    int_listing_changes and int_listing_state, `previous` is the one the read started
    from (NULL: it read every listing); for a mart, the one it refreshed from (NULL: it
    was rebuilt in full). A watermark is `pg_snapshot_xmin` of the snapshot that read
    the listings: every transaction it could not see has an id at or above it, so
    reading `changed_xid >= mark` next time misses nothing (and re-reads a little, which
    the refresh absorbs: it recomputes from the current state). `as_of` is the instant the
    refresh described (macros/as_of.sql): the next one also reads the listings whose first
    sighting or expiry fell due after it. -#}

{% macro refresh_marks() -%}
    analytics_intermediate.refresh_marks
{%- endmacro %}

{#- on-run-start: the table of marks (dbt owns this schema; no migration needed). -#}
{% macro create_refresh_marks() -%}
    create schema if not exists analytics_intermediate;
    create table if not exists {{ refresh_marks() }} (
        name text primary key,
        mark xid8,
        previous xid8,
        marked_at timestamptz not null default now()
    );
    alter table {{ refresh_marks() }} add column if not exists as_of timestamptz
{%- endmacro %}

{#- A consumer's mark ('mark' or 'previous') as text, or none. -#}
{% macro refresh_mark(name, column='mark') -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set found = run_query(
        "select " ~ column ~ "::text from " ~ refresh_marks() ~ " where name = '" ~ name ~ "'") -%}
    {%- if found.rows | length == 0 or found.rows[0][0] is none -%}{{ return(none) }}{%- endif -%}
    {{ return(found.rows[0][0]) }}
{%- endmacro %}

{#- The watermark int_listing_changes reads from: int_listing_state's mark, or none
    (read every listing) on a first build, with --full-refresh, without the state, when
    listings were deleted since (public.jobs_listings_removals), when the mark is ahead
    of the server (a backup restored into another server), when this build's instant is
    before the state's (or the state has none: built before as_of was kept), or when a
    listing the state holds was written since with a first sighting after this build's
    instant (it must leave every mart). -#}
{% macro changes_since() -%}
    {%- set state = adapter.get_relation(
        database=this.database, schema=this.schema, identifier='int_listing_state') -%}
    {%- if state is none or flags.FULL_REFRESH -%}{{ return(none) }}{%- endif -%}
    {%- set since = refresh_mark('int_listing_state') -%}
    {%- if since is none -%}{{ return(none) }}{%- endif -%}
    {%- set since_as_of = refresh_mark('int_listing_state', 'as_of') -%}
    {%- if since_as_of is none -%}{{ return(none) }}{%- endif -%}
    {%- set back = run_query(
        "select " ~ as_of() ~ " < '" ~ since_as_of ~ "'::timestamptz") -%}
    {%- if back.rows[0][0] -%}{{ return(none) }}{%- endif -%}
    {#- a mark ahead of this server's transactions: the database was restored into
        another server, whose new stamps could be lower than the mark -#}
    {%- set ahead = run_query(
        "select '" ~ since ~ "'::xid8 > pg_snapshot_xmax(pg_current_snapshot())") -%}
    {%- if ahead.rows[0][0] -%}{{ return(none) }}{%- endif -%}
    {%- set removals = api.Relation.create(
        database=this.database, schema='public', identifier='jobs_listings_removals') -%}
    {%- if relation_exists(removals) -%}
        {%- set removed = run_query(
            "select exists (select 1 from " ~ removals ~ " where removed_xid >= '"
            ~ since ~ "'::xid8)") -%}
        {%- if removed.rows[0][0] -%}{{ return(none) }}{%- endif -%}
    {%- endif -%}
    {%- set moved_later = run_query(
        "select exists (select 1 from " ~ ref('stg_listings') ~ " as l join " ~ state
        ~ " as s using (listing_id) where l.changed_xid >= '" ~ since ~ "'::xid8"
        ~ " and l.first_seen_at > " ~ as_of() ~ ")") -%}
    {%- if moved_later.rows[0][0] -%}{{ return(none) }}{%- endif -%}
    {{ return(since) }}
{%- endmacro %}

{#- Whether this refresh read every listing (int_listing_changes records where its read
    started: NULL for all). -#}
{% macro read_every_listing() -%}
    {{ return(refresh_mark('int_listing_changes', 'previous') is none) }}
{%- endmacro %}

{#- pre-hook of int_listing_changes: the watermark of the read about to happen (taken
    just before it, so at most the read's own: safe), and the one it reads from. -#}
{% macro mark_changes_read() -%}
    {%- set since = changes_since() -%}
    insert into {{ refresh_marks() }} (name, mark, previous, as_of)
    values ('int_listing_changes', pg_snapshot_xmin(pg_current_snapshot()),
            {{ "'" ~ since ~ "'::xid8" if since is not none else 'null' }}, {{ as_of() }})
    on conflict (name) do update
        set mark = excluded.mark, previous = excluded.previous, as_of = excluded.as_of,
            marked_at = now()
{%- endmacro %}

{#- post-hook of int_listing_state: it now holds every change up to that read, as of
    that read's instant; `previous` is where the read started (NULL: it read everything). -#}
{% macro advance_state_mark() -%}
    insert into {{ refresh_marks() }} (name, mark, previous, as_of)
    select 'int_listing_state', mark, previous, as_of from {{ refresh_marks() }}
    where name = 'int_listing_changes'
    on conflict (name) do update
        set mark = excluded.mark, previous = excluded.previous, as_of = excluded.as_of,
            marked_at = now()
{%- endmacro %}

{#- post-hook of int_listing_state after it read every listing into a new table: the
    indexes each mart's refresh reads through (the weeks; a group's days; the salary
    cells and duration groups, covering, so that their percentiles read sorted index
    entries; the last day of data). Unnamed, so PostgreSQL names them: a --full-refresh
    builds them while the old table's still exist. -#}
{% macro index_after_full_read() -%}
    {%- set indexed = run_query(
        "select count(*) from pg_indexes where schemaname = '" ~ this.schema
        ~ "' and tablename = '" ~ this.identifier ~ "'") if execute else none -%}
    {%- if indexed is not none and indexed.rows[0][0] == 0 -%}
        create unique index on {{ this }} (listing_id);
        create index on {{ this }} (week_start);
        create index on {{ this }} (source, region, category_normalised, first_seen_date);
        create index on {{ this }} (source, region, category_normalised, expired_date);
        create index on {{ this }} (region, category_normalised, seniority, annual_usd_midpoint)
            where status = 'active' and is_canonical and annual_usd_midpoint is not null;
        create index on {{ this }} (source, category_normalised, duration_days)
            where duration_days is not null;
        create index on {{ this }} (first_seen_date);
        create index on {{ this }} (expired_date);
        create index on {{ this }} (last_seen_date)
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- ... and after it committed: statistics for the planner, and the visibility map
    that lets the percentiles read the index alone. -#}
{% macro vacuum_after_full_read() -%}
    {%- if read_every_listing() -%}
        vacuum analyze {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- How a mart refreshes: 'full' when it is built from nothing, or when it missed a
    refresh of int_listing_state (its mark is neither the state's mark nor the one that
    refresh started from); otherwise 'incremental' from int_listing_changes. -#}
{% macro mart_mode() -%}
    {%- if not is_incremental() -%}{{ return('full') }}{%- endif -%}
    {%- set consumed = refresh_mark(this.identifier) -%}
    {%- if consumed is none -%}{{ return('full') }}{%- endif -%}
    {%- if consumed in [refresh_mark('int_listing_state'),
                        refresh_mark('int_listing_state', 'previous')] -%}
        {{ return('incremental') }}
    {%- endif -%}
    {{ return('full') }}
{%- endmacro %}

{#- post-hook of each mart: it has consumed the state up to the state's mark;
    `previous` is the mark it refreshed from (NULL: it was rebuilt in full). -#}
{% macro mark_mart_built() -%}
    {%- set consumed = refresh_mark(this.identifier) if mart_mode() == 'incremental' else none -%}
    insert into {{ refresh_marks() }} (name, mark, previous, as_of)
    select '{{ this.identifier }}', mark,
           {{ "'" ~ consumed ~ "'::xid8" if consumed is not none else 'null' }}, as_of
    from {{ refresh_marks() }} where name = 'int_listing_state'
    on conflict (name) do update
        set mark = excluded.mark, previous = excluded.previous, as_of = excluded.as_of,
            marked_at = now()
{%- endmacro %}

{#- pre-hook of each mart: delete the rows the refresh recomputes, those where
    `condition` holds (every row when the refresh is full). -#}
{% macro delete_recomputed(condition) -%}
    {%- if not is_incremental() -%}
        select 1
    {%- elif mart_mode() == 'full' -%}
        delete from {{ this }}
    {%- else -%}
        delete from {{ this }} where {{ condition }}
    {%- endif -%}
{%- endmacro %}
