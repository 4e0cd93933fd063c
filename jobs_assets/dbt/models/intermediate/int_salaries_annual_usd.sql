-- Every listing with a USD salary: the ingestion already annualised the amounts
-- (salary_period says what the source figure was per) and converted them to USD;
-- int_listing_state keeps them with the midpoint (the mean of both ends, or the one
-- end given).
select
    listing_id,
    source,
    region,
    category_normalised,
    seniority,
    status,
    is_canonical,
    salary_period,
    salary_currency,
    annual_usd_min,
    annual_usd_max,
    annual_usd_midpoint,
    case
        when annual_usd_min is not null and annual_usd_max is not null then 'range'
        when annual_usd_min is not null then 'minimum only'
        else 'maximum only'
    end as salary_ends
from {{ ref('int_listing_state') }}
where annual_usd_midpoint is not null
