{#- A model's custom schema is used exactly (`marts`, not `analytics_marts`), so
    dashboards and the read API can name marts.daily_postings whatever the target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
