-- The listings on offer now, one per job: active, and the canonical member of its
-- duplicate cluster (a listing without a cluster is its own canonical member).
-- Built after int_listing_changes, whose listings its tests check:
-- depends_on: {{ ref('int_listing_changes') }}
select *
from {{ ref('stg_listings') }}
where status = 'active'
  and is_canonical
