{#- What each mart recomputes on an incremental refresh: the groups that the changed
    listings (int_listing_changes) moved into or out of. A listing "moved" when a
    column the mart reads differs from before_<column>; a listing seen again with
    nothing else changed moves nothing. -#}

{% macro moved(columns) -%}
    ({{ columns | join(', ') }}) is distinct from (before_{{ columns | join(', before_') }})
{%- endmacro %}

{#- The SELECT of the `keys` of the groups that changed listings moved into or out of.
    `reads`: the other columns the mart reads; `member`: when a listing counts in the
    mart, with `$` before each column (read now, then as before_<column>); `changes`:
    int_listing_changes unless named. -#}
{% macro moved_groups(keys, reads, member, changes=none) -%}
    {%- set changes = changes or ref('int_listing_changes') -%}
    select {{ keys | join(', ') }}
    from {{ changes }}
    where {{ moved(keys + reads) }} and ({{ member | replace('$', '') }})
    union
    select before_{{ keys | join(', before_') }}
    from {{ changes }}
    where existed and {{ moved(keys + reads) }} and ({{ member | replace('$', 'before_') }})
{%- endmacro %}

{% macro salary_cells_moved() -%}
    {{ moved_groups(
        ['region', 'category_normalised', 'seniority'],
        ['status', 'is_canonical', 'annual_usd_midpoint'],
        "$status = 'active' and $is_canonical and $annual_usd_midpoint is not null") }}
{%- endmacro %}

{% macro duration_groups_moved() -%}
    {{ moved_groups(
        ['source', 'category_normalised'], ['duration_days'], "$duration_days is not null") }}
{%- endmacro %}

{#- the weeks of a weekly mart (`changes`: a relation name, for its tests) -#}
{% macro weeks_moved(mart, changes=none) -%}
    {%- set reads = {'top_companies': 'company_name', 'tag_trends': 'tags'}[mart] -%}
    {{ moved_groups(['week_start'], ['is_canonical', reads], "$is_canonical", changes) }}
{%- endmacro %}

{#- daily_postings: each group whose events moved, from the earliest day they moved on
    (a listing that only expired moves its group from the expiry day). -#}
{% macro daily_groups_moved() -%}
    {%- set group = ['source', 'region', 'category_normalised'] -%}
    {%- set placed = group + ['first_seen_date'] -%}
    select source, region, category_normalised, min(day) as from_day
    from (
        select source, region, category_normalised,
               case when not {{ moved(placed) }}
                   then least(expired_date, before_expired_date)
                   else least(first_seen_date, expired_date)
               end as day
        from {{ ref('int_listing_changes') }}
        where {{ moved(placed + ['expired_date']) }}
        union all
        select before_source, before_region, before_category_normalised,
               least(before_first_seen_date, before_expired_date)
        from {{ ref('int_listing_changes') }}
        where existed and {{ moved(placed) }}
    ) as moved_days
    group by source, region, category_normalised
{%- endmacro %}

{#- daily_postings' last day: the latest event or sighting, never after the day of the
    instant int_listing_state describes (a sighting dated later stops there). -#}
{% macro daily_last_day() -%}
    {%- set listings = ref('int_listing_state') -%}
    least(
        greatest(
            (select max(expired_date) from {{ listings }}),
            (select max(first_seen_date) from {{ listings }}),
            (select max(last_seen_date) from {{ listings }})
        ),
        ({{ state_as_of() }} at time zone 'UTC')::date
    )
{%- endmacro %}
