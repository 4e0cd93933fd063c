-- Quartiles of the annual USD salary midpoint over the listings on offer now (active,
-- canonical), per region, category and seniority (missing labels are 'Unknown').
-- percentile_cont interpolates linearly; cells of fewer than 5 listings are left out
-- because their quartiles say more about single listings than about the market.
select
    c.region,
    c.category_normalised,
    c.seniority,
    count(*) as listings,
    percentile_cont(0.25) within group (order by s.annual_usd_midpoint) as p25_usd,
    percentile_cont(0.50) within group (order by s.annual_usd_midpoint) as p50_usd,
    percentile_cont(0.75) within group (order by s.annual_usd_midpoint) as p75_usd
from {{ ref('int_current_canonical_listings') }} as c
join {{ ref('int_salaries_annual_usd') }} as s on s.listing_id = c.listing_id
group by c.region, c.category_normalised, c.seniority
having count(*) >= 5
