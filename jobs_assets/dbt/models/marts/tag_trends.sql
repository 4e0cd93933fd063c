-- Per ISO week (of the UTC first sighting) and tag (lower-cased, trimmed): canonical
-- listings first seen that week carrying the tag, and their share of all canonical
-- listings first seen that week (a listing has several tags, so shares of a week add
-- up to more than 1).
with listings as (
    select
        listing_id,
        tags,
        to_char(first_seen_at at time zone 'UTC', 'IYYY-"W"IW') as iso_week,
        date_trunc('week', first_seen_at at time zone 'UTC')::date as week_start
    from {{ ref('stg_listings') }}
    where is_canonical
),

weeks as (
    select iso_week, count(*) as week_listings
    from listings
    group by iso_week
),

tagged as (
    select distinct l.iso_week, l.week_start, l.listing_id, lower(trim(t.tag)) as tag
    from listings as l
    cross join lateral unnest(l.tags) as t(tag)
    where trim(t.tag) <> ''
)

select
    tagged.iso_week,
    tagged.week_start,
    tagged.tag,
    count(*) as listings,
    count(*)::numeric / max(weeks.week_listings) as share_of_week
from tagged
join weeks on weeks.iso_week = tagged.iso_week
group by tagged.iso_week, tagged.week_start, tagged.tag
