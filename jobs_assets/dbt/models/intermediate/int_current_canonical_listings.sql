-- The listings on offer now, one per job: active, and the canonical member of its
-- duplicate cluster (a listing without a cluster is its own canonical member).
select *
from {{ ref('stg_listings') }}
where status = 'active'
  and is_canonical
