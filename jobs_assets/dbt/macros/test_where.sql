{#- Names a test's `where` config may use, so that a refresh tests what it changed
    instead of a million listings every window (a build that read everything: all).

    Built after int_listing_changes (no filter when this refresh read every listing):
      changed_in_refresh     listing_id among int_listing_changes (models on the state)
      written_in_refresh     (source, source_job_id) among int_listing_changes (models
                             on stg_listings: the listings table's key)
      recomputed_in_refresh  the weeks the refresh recomputed (weekly marts; no filter
                             when the mart was rebuilt in full)
    Tested before int_listing_changes (no filter before the first refresh):
      written_since_refresh  changed_xid at or after int_listing_state's watermark
      versions_since_refresh versions of the listings written since that watermark

    Any other `where` is used as written, as dbt does. -#}
{% macro postgres__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set changes = 'analytics_intermediate.int_listing_changes' -%}
    {%- set mark -%}
        (select mark from {{ refresh_marks() }} where name = 'int_listing_state')
    {%- endset -%}
    {%- if where in ('changed_in_refresh', 'written_in_refresh', 'recomputed_in_refresh')
           and read_every_listing() -%}
        {%- set where = '' -%}
    {%- elif where in ('written_since_refresh', 'versions_since_refresh')
             and refresh_mark('int_listing_state') is none -%}
        {%- set where = '' -%}
    {%- elif where == 'recomputed_in_refresh' -%}
        {%- if refresh_mark(relation.identifier, 'previous') is none -%}
            {%- set where = '' -%}
        {%- else -%}
            {%- set where = 'week_start in (' ~ weeks_moved(relation.identifier, changes) ~ ')' -%}
        {%- endif -%}
    {%- elif where == 'changed_in_refresh' -%}
        {%- set where = 'listing_id in (select listing_id from ' ~ changes ~ ')' -%}
    {%- elif where == 'written_in_refresh' -%}
        {%- set where -%}
            (source, source_job_id) in (select source, source_job_id from {{ changes }})
        {%- endset -%}
    {%- elif where == 'written_since_refresh' -%}
        {%- set where = 'changed_xid >= ' ~ mark -%}
    {%- elif where == 'versions_since_refresh' -%}
        {%- set where -%}
            (source, source_job_id) in (
                select source, source_job_id from {{ source('jobs', 'jobs_listings_data') }}
                where changed_xid >= {{ mark }})
        {%- endset -%}
    {%- endif -%}
    {%- if where -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
