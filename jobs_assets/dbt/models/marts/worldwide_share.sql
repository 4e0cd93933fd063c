-- Who may apply, per category: of the listings on offer now (active, canonical), how
-- many anyone anywhere may apply to (eligibility 'worldwide', lib/normalise/eligibility.py) and
-- their share. A listing restricted to countries, regions or a time-zone band, an office
-- job and one whose location says nothing readable are not worldwide.
-- A table built in full each time: one row per category, from the current listings. It
-- reads no listing changes, so it keeps no refresh mark (refresh_marks is the
-- incremental marts' bookkeeping).
{{ config(materialized='table') }}

select
    c.category_normalised,
    count(*) as listings,
    count(*) filter (where c.eligibility = 'worldwide') as worldwide_listings,
    (count(*) filter (where c.eligibility = 'worldwide'))::double precision / count(*)
        as worldwide_share
from {{ ref('int_current_canonical_listings') }} as c
group by c.category_normalised
