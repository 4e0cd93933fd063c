-- Per UTC day, source, region and category_normalised:
--   new_listings      listings first seen that day;
--   expired_listings  listings that expired that day (status 'expired', UTC date of
--                     expired_at; an expiry dated before the first sighting counts on
--                     the day of the first sighting);
--   active_listings   listings up at the END of that day: first seen on or before it
--                     and not expired on or before it. It is the running sum of new
--                     minus expired, so it reflects each listing's current state (a
--                     reactivated listing counts from its first sighting).
-- Days run from a group's first event to the last day of data (latest event or latest
-- sighting), so a day with only active listings still has its row; rows with all three
-- counts zero are left out.
with listings as (
    select
        source,
        region,
        category_normalised,
        first_seen_date,
        case when status = 'expired' and expired_at is not null
            then greatest((expired_at at time zone 'UTC')::date, first_seen_date)
        end as expired_date,
        (last_seen_at at time zone 'UTC')::date as last_seen_date
    from {{ ref('stg_listings') }}
),

events as (
    select first_seen_date as day, source, region, category_normalised,
           1 as is_new, 0 as is_expired
    from listings
    union all
    select expired_date, source, region, category_normalised, 0, 1
    from listings
    where expired_date is not null
),

daily as (
    select day, source, region, category_normalised,
           sum(is_new) as new_listings, sum(is_expired) as expired_listings
    from events
    group by day, source, region, category_normalised
),

last_day as (
    select greatest(max(expired_date), max(first_seen_date), max(last_seen_date)) as day
    from listings
),

spine as (
    select g.source, g.region, g.category_normalised, d::date as day
    from (
        select source, region, category_normalised, min(day) as first_day
        from daily
        group by source, region, category_normalised
    ) as g
    cross join last_day
    cross join lateral generate_series(g.first_day, last_day.day, interval '1 day') as d
),

running as (
    select
        spine.day,
        spine.source,
        spine.region,
        spine.category_normalised,
        coalesce(daily.new_listings, 0) as new_listings,
        sum(coalesce(daily.new_listings, 0) - coalesce(daily.expired_listings, 0)) over (
            partition by spine.source, spine.region, spine.category_normalised
            order by spine.day
        ) as active_listings,
        coalesce(daily.expired_listings, 0) as expired_listings
    from spine
    left join daily
        on daily.day = spine.day
        and daily.source = spine.source
        and daily.region = spine.region
        and daily.category_normalised = spine.category_normalised
)

select day, source, region, category_normalised,
       new_listings::bigint as new_listings,
       active_listings::bigint as active_listings,
       expired_listings::bigint as expired_listings
from running
where new_listings > 0 or expired_listings > 0 or active_listings > 0
