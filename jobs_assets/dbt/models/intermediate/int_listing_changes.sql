-- The listings changed since int_listing_state was last refreshed, each with what the
-- marts need of it now and, as before_<column>, what int_listing_state held of it (NULL
-- for a listing it did not hold). Every mart refreshes only the groups these rows move
-- in or out of; see macros/refresh_marks.sql for the watermark.
--
-- A change is a row of jobs_listings_data inserted or updated since the watermark
-- (changed_xid, stamped by a trigger). On the first build, with --full-refresh, or
-- without int_listing_state, every listing is a change: int_listing_state and the marts
-- are then built from every listing, and this table is left empty.
{{ config(
    materialized='table',
    pre_hook="{{ mark_changes_read() }}",
) }}
{%- set since = changes_since() %}

with changed as (
    select {{ listing_facts('l') }}
    from {{ ref('stg_listings') }} as l
    {%- if since is not none %}
    where l.changed_xid >= '{{ since }}'::xid8
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
