-- Quartiles of the annual USD salary midpoint over the listings on offer now (active,
-- canonical: the rows of int_current_canonical_listings, filtered here on the columns
-- int_salaries_annual_usd carries so that 1M listings need no join), per region,
-- category and seniority (missing labels are 'Unknown'). percentile_cont interpolates
-- linearly; cells of fewer than 5 listings are left out because their quartiles say
-- more about single listings than about the market.
select
    region,
    category_normalised,
    seniority,
    count(*) as listings,
    percentile_cont(0.25) within group (order by annual_usd_midpoint) as p25_usd,
    percentile_cont(0.50) within group (order by annual_usd_midpoint) as p50_usd,
    percentile_cont(0.75) within group (order by annual_usd_midpoint) as p75_usd
from {{ ref('int_salaries_annual_usd') }}
where status = 'active'
  and is_canonical
group by region, category_normalised, seniority
having count(*) >= 5
