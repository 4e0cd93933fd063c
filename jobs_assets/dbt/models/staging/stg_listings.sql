-- One row per listing with the columns the marts use, UTC dates precomputed and the
-- identity columns read with their documented defaults when a database lacks them.
{%- set src = source('jobs', 'jobs_listings_data') %}

select
    source,
    source_job_id,
    source || ':' || source_job_id as listing_id,
    nullif(trim(title), '') as title,
    coalesce(nullif(trim(company_name), ''), 'Unknown') as company_name,
    coalesce(nullif(trim(seniority), ''), 'Unknown') as seniority,
    region,
    -- who may apply (migration 0012): 'unknown' on a database that predates it
    {{ column_or_default(src, 'eligibility', "'unknown'::text") }} as eligibility,
    coalesce(
        nullif(trim({{ column_or_default(src, 'category_normalised', 'null::text') }}), ''),
        'Unknown'
    ) as category_normalised,
    tags,
    salary_period,
    salary_currency,
    salary_min_usd,
    salary_max_usd,
    first_seen_at,
    last_seen_at,
    (first_seen_at at time zone 'UTC')::date as first_seen_date,
    {{ column_or_default(src, 'status', "'active'::text") }} as status,
    {{ column_or_default(src, 'expired_at', 'null::timestamptz') }} as expired_at,
    coalesce({{ column_or_default(src, 'reactivated_count', '0') }}, 0) as reactivated_count,
    {{ column_or_default(src, 'duplicate_cluster_id', 'null::text') }} as duplicate_cluster_id,
    -- a listing not (yet) clustered stands for itself
    coalesce({{ column_or_default(src, 'is_canonical', 'null::boolean') }}, true) as is_canonical,
    -- the transaction that last wrote the row (NULL: unchanged since it was tracked)
    {{ column_or_default(src, 'changed_xid', 'null::xid8') }} as changed_xid
from {{ src }}
