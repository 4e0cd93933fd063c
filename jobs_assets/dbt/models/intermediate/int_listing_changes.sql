-- The listings changed since int_listing_state was last refreshed, each with what the
-- marts need of it now and, as before_<column>, what int_listing_state held of it (NULL
-- for a listing it did not hold). Every mart refreshes only the groups these rows move
-- in or out of; see macros/refresh_marks.sql for the watermark.
--
-- A change is a row of jobs_listings_data inserted or updated since the watermark
-- (changed_xid, stamped by a trigger), or one whose first sighting or expiry fell due
-- since the last refresh's instant (macros/as_of.sql: the marts leave out what is dated
-- after the build); a listing first seen after this build's instant is none yet. On the
-- first build, with --full-refresh, or without int_listing_state, every listing is a
-- change: int_listing_state and the marts are then built from every listing, and this
-- table is left empty.
{{ config(
    materialized='table',
    pre_hook="{{ mark_changes_read() }}",
) }}
{%- set since = changes_since() %}
{%- set since_as_of = "'" ~ refresh_mark('int_listing_state', 'as_of') ~ "'::timestamptz" %}

with changed as (
    select {{ listing_facts('l') }}
    from {{ ref('stg_listings') }} as l
    {%- if since is not none %}
    where l.first_seen_at <= {{ as_of() }}
      and (
          l.changed_xid >= '{{ since }}'::xid8
          or l.first_seen_at > {{ since_as_of }}
          or (l.status = 'expired' and l.expired_at > {{ since_as_of }}
              and l.expired_at <= {{ as_of() }})
      )
    {%- else %}
    where false
    {%- endif %}
)

select
    changed.*,
    before.listing_id is not null as existed,
    {%- for column in listing_fact_columns() if column != 'listing_id' %}
    before.{{ column }} as before_{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from changed
{%- if since is not none %}
left join {{ this.incorporate(path={'identifier': 'int_listing_state'}) }} as before on before.listing_id = changed.listing_id
{%- else %}
left join (select * from changed where false) as before on false
{%- endif %}
