-- How long each expired listing stayed up: days from its first sighting to its expiry
-- (int_listing_state: an expiry stamped before the first sighting counts as 0).
select
    listing_id,
    source,
    category_normalised,
    first_seen_at,
    expired_at,
    duration_days
from {{ ref('int_listing_state') }}
where duration_days is not null
