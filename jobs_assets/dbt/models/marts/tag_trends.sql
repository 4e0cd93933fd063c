-- Per ISO week (of the UTC first sighting) and tag (lower-cased, trimmed): canonical
-- listings first seen that week carrying the tag, and their share of all canonical
-- listings first seen that week (a listing has several tags, so shares of a week add
-- up to more than 1). A tag repeated within one listing counts once (int_listing_state
-- keeps each listing's tags cleaned and de-duplicated).
-- Incremental: a refresh recomputes the weeks changed listings moved into or out of.
{{ config(
    materialized='incremental',
    pre_hook="{{ delete_recomputed('week_start in (' ~ weeks_moved('tag_trends') ~ ')') }}",
    post_hook="{{ mark_mart_built() }}",
) }}
-- depends_on: {{ ref('int_listing_changes') }}

with listings as (
    select s.week_start, s.tags
    from {{ ref('int_listing_state') }} as s
    where s.is_canonical
    {%- if mart_mode() == 'incremental' %}
      and s.week_start = any (array({{ weeks_moved('tag_trends') }}))
    {%- endif %}
),

weeks as (
    select week_start, count(*) as week_listings
    from listings
    group by week_start
),

tagged as (
    select l.week_start, t.tag, count(*) as listings
    from listings as l
    cross join lateral unnest(l.tags) as t(tag)
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
