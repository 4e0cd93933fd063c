-- Every listing with a USD salary: the ingestion already annualised the amounts
-- (salary_period says what the source figure was per) and converted them to USD.
-- The midpoint is the mean of both ends, or the one end given.
select
    listing_id,
    source,
    region,
    category_normalised,
    seniority,
    status,
    is_canonical,
    coalesce(salary_period, 'unknown') as salary_period,
    salary_currency,
    salary_min_usd as annual_usd_min,
    salary_max_usd as annual_usd_max,
    case
        when salary_min_usd is not null and salary_max_usd is not null
            then (salary_min_usd + salary_max_usd) / 2
        else coalesce(salary_min_usd, salary_max_usd)
    end as annual_usd_midpoint,
    case
        when salary_min_usd is not null and salary_max_usd is not null then 'range'
        when salary_min_usd is not null then 'minimum only'
        else 'maximum only'
    end as salary_ends
from {{ ref('stg_listings') }}
where salary_min_usd is not null or salary_max_usd is not null
