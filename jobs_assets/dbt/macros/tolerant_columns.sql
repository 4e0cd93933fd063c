{#- The listing-identity columns (status, expired_at, duplicate clusters) and the
    history table arrive with their own migration. Until a database has them, staging
    reads the documented defaults instead of failing, so the marts build on any release
    of the schema; once the columns exist these macros select them unchanged. -#}

{% macro column_or_default(relation, column, default_sql) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for col in adapter.get_columns_in_relation(relation) -%}
            {%- do names.append(col.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if not execute or column | lower in names -%}
        {{ column }}
    {%- else -%}
        {{ default_sql }}
    {%- endif -%}
{%- endmacro %}

{% macro relation_exists(relation) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {{ return(found is not none) }}
{%- endmacro %}
