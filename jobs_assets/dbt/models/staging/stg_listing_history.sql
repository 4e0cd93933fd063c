-- One row per version of a listing. Empty (with the same columns) on a database that
-- has no history table yet. The history is written with the listings, so it refreshes
-- with them:
-- depends_on: {{ ref('stg_listings') }}
{%- set src = source('jobs', 'jobs_listings_history') %}

{% if relation_exists(src) %}
select
    source,
    source_job_id,
    source || ':' || source_job_id as listing_id,
    status,
    row_hash,
    valid_from,
    valid_to,
    valid_to is null as is_current
from {{ src }}
{% else %}
select
    null::text as source,
    null::text as source_job_id,
    null::text as listing_id,
    null::text as status,
    null::text as row_hash,
    null::timestamptz as valid_from,
    null::timestamptz as valid_to,
    null::boolean as is_current
where false
{% endif %}
