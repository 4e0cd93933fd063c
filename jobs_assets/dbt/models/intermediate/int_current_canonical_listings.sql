-- The listings on offer now, one per job: active as of the build (first seen by its
-- instant, an expiry dated after it still pending: macros/as_of.sql), and the canonical
-- member of its duplicate cluster (a listing without a cluster is its own canonical member).
-- Built after int_listing_changes, whose listings its tests check:
-- depends_on: {{ ref('int_listing_changes') }}
select *
from {{ ref('stg_listings') }}
where status = 'active'
  and is_canonical
  and first_seen_at <= {{ as_of() }}
union all
-- expired after the build's instant: still on offer as of it (apart, so that each part
-- reads its own status index)
select *
from {{ ref('stg_listings') }}
where status = 'expired'
  and expired_at > {{ as_of() }}
  and is_canonical
  and first_seen_at <= {{ as_of() }}
