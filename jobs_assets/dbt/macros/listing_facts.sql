{#- What the marts need of each listing as of the build (macros/as_of.sql), computed
    once per change (int_listing_changes) and kept in int_listing_state. `l` is
    stg_listings, a listing first seen by the build's instant; an expiry dated after it
    is pending: the listing is active and has no expiry yet. -#}

{% macro listing_fact_columns() -%}
    {{ return([
        'listing_id', 'source', 'source_job_id', 'region', 'category_normalised', 'seniority',
        'company_name', 'status', 'is_canonical', 'tags', 'first_seen_at', 'first_seen_date',
        'week_start', 'last_seen_date', 'expired_at', 'expired_date', 'duration_days',
        'salary_period', 'salary_currency', 'annual_usd_min', 'annual_usd_max',
        'annual_usd_midpoint',
    ]) }}
{%- endmacro %}

{% macro listing_facts(l) -%}
    {{ l }}.listing_id,
    {{ l }}.source,
    {{ l }}.source_job_id,
    {{ l }}.region,
    {{ l }}.category_normalised,
    {{ l }}.seniority,
    {{ l }}.company_name,
    {{ status_as_of(l) }} as status,
    {{ l }}.is_canonical,
    -- lower-cased, trimmed, each tag once, sorted (so that equal sets compare equal)
    array(
        select distinct lower(trim(t)) from unnest({{ l }}.tags) as t
        where trim(t) <> '' order by 1
    ) as tags,
    {{ l }}.first_seen_at,
    {{ l }}.first_seen_date,
    date_trunc('week', {{ l }}.first_seen_at at time zone 'UTC')::date as week_start,
    -- as written: daily_postings stops at the build's day whatever it says
    ({{ l }}.last_seen_at at time zone 'UTC')::date as last_seen_date,
    {%- set expired -%}
        {{ l }}.status = 'expired' and {{ l }}.expired_at <= {{ as_of() }}
    {%- endset %}
    case when {{ expired }} then {{ l }}.expired_at end as expired_at,
    -- the UTC day it expired; an expiry stamped before the first sighting (clock skew
    -- between sources) counts on the day of the first sighting, and lasted 0 days
    case when {{ expired }}
        then greatest(({{ l }}.expired_at at time zone 'UTC')::date, {{ l }}.first_seen_date)
    end as expired_date,
    case when {{ expired }}
        then greatest(extract(epoch from ({{ l }}.expired_at - {{ l }}.first_seen_at)), 0)
             / 86400.0
    end as duration_days,
    -- the ingestion already annualised the amounts and converted them to USD
    coalesce({{ l }}.salary_period, 'unknown') as salary_period,
    {{ l }}.salary_currency,
    {{ l }}.salary_min_usd as annual_usd_min,
    {{ l }}.salary_max_usd as annual_usd_max,
    -- the mean of both ends, or the one end given
    case
        when {{ l }}.salary_min_usd is not null and {{ l }}.salary_max_usd is not null
            then ({{ l }}.salary_min_usd + {{ l }}.salary_max_usd) / 2
        else coalesce({{ l }}.salary_min_usd, {{ l }}.salary_max_usd)
    end as annual_usd_midpoint
{%- endmacro %}
