-- Per ISO week (of the UTC first sighting), each company's new listings (canonical
-- listings, so a job posted on two sources counts once) and its share of the week.
-- Every company is kept; rank_in_week orders them (ties share a rank).
-- Incremental: a refresh recomputes the weeks changed listings moved into or out of.
{{ config(
    materialized='incremental',
    pre_hook="{{ delete_recomputed('week_start in (' ~ weeks_moved('top_companies') ~ ')') }}",
    post_hook="{{ mark_mart_built() }}",
) }}
-- depends_on: {{ ref('int_listing_changes') }}

with counts as (
    select
        s.week_start,
        s.company_name,
        count(*) as new_listings
    from {{ ref('int_listing_state') }} as s
    where s.is_canonical
    {%- if mart_mode() == 'incremental' %}
      and s.week_start = any (array({{ weeks_moved('top_companies') }}))
    {%- endif %}
    group by 1, 2
)

select
    to_char(week_start, 'IYYY-"W"IW') as iso_week,
    week_start,
    company_name,
    new_listings,
    new_listings::numeric / sum(new_listings) over (partition by week_start) as share_of_week,
    rank() over (partition by week_start order by new_listings desc) as rank_in_week
from counts
