-- Per ISO week (of the UTC first sighting) and tag (lower-cased, trimmed): canonical
-- listings first seen that week carrying the tag, and their share of all canonical
-- listings first seen that week (a listing has several tags, so shares of a week add
-- up to more than 1). A tag repeated within one listing counts once: tags are
-- de-duplicated inside each listing's own array, so no global sort is needed.
with listings as (
    select
        date_trunc('week', first_seen_at at time zone 'UTC')::date as week_start,
        array(
            select distinct lower(trim(t))
            from unnest(tags) as t
            where trim(t) <> ''
        ) as clean_tags
    from {{ ref('stg_listings') }}
    where is_canonical
),

weeks as (
    select week_start, count(*) as week_listings
    from listings
    group by week_start
),

tagged as (
    select l.week_start, t.tag, count(*) as listings
    from listings as l
    cross join lateral unnest(l.clean_tags) as t(tag)
    group by l.week_start, t.tag
)

select
    to_char(tagged.week_start, 'IYYY-"W"IW') as iso_week,
    tagged.week_start,
    tagged.tag,
    tagged.listings,
    tagged.listings::numeric / weeks.week_listings as share_of_week
from tagged
join weeks on weeks.week_start = tagged.week_start
