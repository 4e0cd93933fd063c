-- How long listings stay up, per source and category: expired listings and the median
-- and 90th percentile (linear interpolation) of days from first sighting to expiry.
select
    source,
    category_normalised,
    count(*) as listings_expired,
    percentile_cont(0.5) within group (order by duration_days) as median_days,
    percentile_cont(0.9) within group (order by duration_days) as p90_days
from {{ ref('int_listing_durations') }}
group by source, category_normalised
