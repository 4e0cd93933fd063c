-- What the marts need of every listing first seen by the build's instant (one row each,
-- as of that instant: macros/as_of.sql), kept up to date from int_listing_changes: the
-- changed listings are deleted and inserted again. The marts read this narrow table, not
-- the wide listings table. A first or full build reads every listing (and leaves
-- int_listing_changes empty), replacing what was here.
{{ config(
    materialized='incremental',
    unique_key='listing_id',
    incremental_strategy='delete+insert',
    pre_hook="{{ 'delete from ' ~ this if is_incremental() and read_every_listing() else 'select 1' }}",
    post_hook=[
        "{{ advance_state_mark() }}",
        "{{ index_after_full_read() }}",
        {"sql": "{{ vacuum_after_full_read() }}", "transaction": false},
    ],
) }}
-- depends_on: {{ ref('int_listing_changes') }}

{%- if read_every_listing() %}
-- every listing (a first or full build: int_listing_changes is left empty then)
select {{ listing_facts('l') }}
from {{ ref('stg_listings') }} as l
where l.first_seen_at <= {{ as_of() }}
{%- else %}
select {{ listing_fact_columns() | join(', ') }}
from {{ ref('int_listing_changes') }}
{%- endif %}
