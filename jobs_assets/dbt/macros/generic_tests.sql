{#- Generic tests of this project (no dbt packages: `dbt deps` needs the network).
    Each returns the offending rows; zero rows pass. -#}

{#- The grain: no two rows share the combination of `columns`. -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_this_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Every non-null value lies within [min_value, max_value]. -#}
{% test between(model, column_name, min_value, max_value) %}
select *
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}

{#- Columns never decrease from left to right in a row (p25 <= p50 <= p75). -#}
{% test ordered(model, columns) %}
select *
from {{ model }}
where
{%- for i in range(columns | length - 1) %}
    {{ 'or ' if not loop.first }}{{ columns[i] }} > {{ columns[i + 1] }}
{%- endfor %}
{% endtest %}

{#- Shares of one group (a week) add up to at most 1 (plus rounding). -#}
{% test group_sum_at_most(model, column_name, group_by, max_total) %}
select {{ group_by | join(', ') }}, sum({{ column_name }}) as total
from {{ model }}
group by {{ group_by | join(', ') }}
having sum({{ column_name }}) > {{ max_total }} + 1e-9
{% endtest %}

{#- No day after the build's UTC day (macros/as_of.sql): a mart never holds a day, or a
    week, that has not begun. -#}
{% test no_day_after_build(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} > {{ as_of_date() }}
{% endtest %}

{#- Listings first seen, seen or expired after the build's instant (macros/as_of.sql):
    those the marts leave out, wholly or in part, until then. Each condition reads its
    index on the listings table. -#}
{% test dated_after_build(model) %}
select *
from {{ model }}
where first_seen_at > {{ as_of() }}
   or last_seen_at > {{ as_of() }}
   or (status = 'expired' and expired_at > {{ as_of() }})
{% endtest %}
