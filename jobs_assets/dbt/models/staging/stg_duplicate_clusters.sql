-- One row per duplicate cluster: the same job posted on several sources (or twice on one).
select
    duplicate_cluster_id,
    count(*) as listings,
    count(distinct source) as sources,
    min(listing_id) filter (where is_canonical) as canonical_listing_id,
    min(first_seen_at) as first_seen_at
from {{ ref('stg_listings') }}
where duplicate_cluster_id is not null
group by duplicate_cluster_id
