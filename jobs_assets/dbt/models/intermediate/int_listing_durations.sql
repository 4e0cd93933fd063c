-- How long each expired listing stayed up: days from its first sighting to its expiry.
-- An expiry stamped before the first sighting (clock skew between sources) counts as 0.
select
    listing_id,
    source,
    category_normalised,
    first_seen_at,
    expired_at,
    greatest(extract(epoch from (expired_at - first_seen_at)), 0) / 86400.0 as duration_days
from {{ ref('stg_listings') }}
where status = 'expired'
  and expired_at is not null
