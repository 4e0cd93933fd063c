-- Per ISO week (of the UTC first sighting), each company's new listings (canonical
-- listings, so a job posted on two sources counts once) and its share of the week.
-- Every company is kept; rank_in_week orders them (ties share a rank).
with counts as (
    select
        date_trunc('week', first_seen_at at time zone 'UTC')::date as week_start,
        company_name,
        count(*) as new_listings
    from {{ ref('stg_listings') }}
    where is_canonical
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
