-- Quartiles of the annual USD salary midpoint over the listings on offer now (active,
-- canonical), per region, category and seniority (missing labels are 'Unknown').
-- percentile_cont interpolates linearly; cells of fewer than 5 listings are left out
-- because their quartiles say more about single listings than about the market.
-- Incremental: a refresh recomputes the cells changed listings moved into or out of.
{{ config(
    materialized='incremental',
    pre_hook="{{ delete_recomputed('(region, category_normalised, seniority) in ('
                                   ~ salary_cells_moved() ~ ')') }}",
    post_hook="{{ mark_mart_built() }}",
) }}
-- depends_on: {{ ref('int_listing_changes') }}

select
    s.region,
    s.category_normalised,
    s.seniority,
    count(*) as listings,
    percentile_cont(0.25) within group (order by s.annual_usd_midpoint) as p25_usd,
    percentile_cont(0.50) within group (order by s.annual_usd_midpoint) as p50_usd,
    percentile_cont(0.75) within group (order by s.annual_usd_midpoint) as p75_usd
from {{ ref('int_salaries_annual_usd') }} as s
{%- if mart_mode() == 'incremental' %}
join ({{ salary_cells_moved() }}) as moved using (region, category_normalised, seniority)
{%- endif %}
where s.status = 'active'
  and s.is_canonical
group by s.region, s.category_normalised, s.seniority
having count(*) >= 5
