-- How long listings stay up, per source and category: expired listings and the median
-- and 90th percentile (linear interpolation) of days from first sighting to expiry.
-- Incremental: a refresh recomputes the groups changed listings moved into or out of.
{{ config(
    materialized='incremental',
    pre_hook="{{ delete_recomputed('(source, category_normalised) in ('
                                   ~ duration_groups_moved() ~ ')') }}",
    post_hook="{{ mark_mart_built() }}",
) }}
-- depends_on: {{ ref('int_listing_changes') }}

select
    d.source,
    d.category_normalised,
    count(*) as listings_expired,
    percentile_cont(0.5) within group (order by d.duration_days) as median_days,
    percentile_cont(0.9) within group (order by d.duration_days) as p90_days
from {{ ref('int_listing_durations') }} as d
{%- if mart_mode() == 'incremental' %}
join ({{ duration_groups_moved() }}) as moved using (source, category_normalised)
{%- endif %}
group by d.source, d.category_normalised
