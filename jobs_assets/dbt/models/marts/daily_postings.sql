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
-- sighting, and never after the build's UTC day: macros/as_of.sql), so a day with only
-- active listings still has its row; rows with all three counts zero are left out.
--
-- Incremental: a refresh recomputes each group changed listings moved events of, from
-- the earliest day they moved on (or from the day after the group's last row, when its
-- days stopped short of that one), starting from the active listings of the row before;
-- the other groups' active listings are carried forward to a new last day, and days
-- after the last day (data corrected back) are deleted.
{{ config(
    materialized='incremental',
    pre_hook=[
        "{{ delete_recomputed(
            'exists (select 1 from (' ~ daily_groups_moved() ~ ') as moved
             where (moved.source, moved.region, moved.category_normalised)
                 = (' ~ this ~ '.source, ' ~ this ~ '.region, ' ~ this ~ '.category_normalised)
               and ' ~ this ~ '.day >= moved.from_day)') }}",
        "{{ 'delete from ' ~ this ~ ' where day > (' ~ daily_last_day() ~ ')'
            if mart_mode() == 'incremental' else 'select 1' }}",
    ],
    post_hook="{{ mark_mart_built() }}",
) }}
-- depends_on: {{ ref('int_listing_changes') }}
{%- set incremental = mart_mode() == 'incremental' %}
{%- set listings = ref('int_listing_state') %}

with last_day as (
    select {{ daily_last_day() }} as day
),

{%- if incremental %}

latest as (
    -- each group's last row; a moved group's is its last before the day it moved from
    -- (the pre-hook deleted the rest)
    select distinct on (source, region, category_normalised)
        source, region, category_normalised, day, active_listings
    from {{ this }}
    order by source, region, category_normalised, day desc
),
{%- endif %}

recomputed as (
    -- each group from the day its rows are recomputed, and the active listings before:
    -- the day it moved from, or the day after its last row when its days stopped short
    -- of that (the last day of data was earlier then: no build for days, or events that
    -- only fell due now)
    {%- if incremental %}
    select moved.source, moved.region, moved.category_normalised,
           coalesce(latest.day + 1, moved.from_day) as from_day,
           coalesce(latest.active_listings, 0) as start_active
    from ({{ daily_groups_moved() }}) as moved
    left join latest using (source, region, category_normalised)
    {%- else %}
    select source, region, category_normalised,
           min(least(first_seen_date, expired_date)) as from_day, 0 as start_active
    from {{ listings }}
    group by source, region, category_normalised
    {%- endif %}
),

events as (
    -- (a full build reads every listing: no group starts later than its first event)
    select l.first_seen_date as day, l.source, l.region, l.category_normalised,
           1 as is_new, 0 as is_expired
    from {{ listings }} as l
    {%- if incremental %}
    join recomputed as r using (source, region, category_normalised)
    where l.first_seen_date >= r.from_day
    {%- endif %}
    union all
    select l.expired_date, l.source, l.region, l.category_normalised, 0, 1
    from {{ listings }} as l
    {%- if incremental %}
    join recomputed as r using (source, region, category_normalised)
    where l.expired_date >= r.from_day
    {%- else %}
    where l.expired_date is not null
    {%- endif %}
),

daily as (
    select day, source, region, category_normalised,
           sum(is_new) as new_listings, sum(is_expired) as expired_listings
    from events
    group by day, source, region, category_normalised
),

spine as (
    select r.source, r.region, r.category_normalised, r.start_active, d::date as day
    from recomputed as r
    cross join last_day
    cross join lateral generate_series(r.from_day, last_day.day, interval '1 day') as d
),

running as (
    select
        spine.day,
        spine.source,
        spine.region,
        spine.category_normalised,
        coalesce(daily.new_listings, 0) as new_listings,
        spine.start_active + sum(
            coalesce(daily.new_listings, 0) - coalesce(daily.expired_listings, 0)
        ) over (
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
{%- if incremental %}

union all

-- the groups nothing moved in: their active listings carried to the new last day
select d::date, latest.source, latest.region, latest.category_normalised,
       0::bigint, latest.active_listings, 0::bigint
from latest
cross join last_day
cross join lateral generate_series(latest.day + 1, last_day.day, interval '1 day') as d
where latest.active_listings > 0
  and not exists (
      select 1 from recomputed as r
      where r.source = latest.source
        and r.region = latest.region
        and r.category_normalised = latest.category_normalised
  )
{%- endif %}
