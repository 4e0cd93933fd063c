{#- The instant the marts describe: when this dbt invocation started (UTC), or the var
    `as_of` (`dbt build --vars '{as_of: "2026-12-01T00:00:00+00:00"}'`; a time without
    an offset is UTC). A listing fact dated after it has not happened yet as far as the
    marts go:

      first_seen_at after it   the listing counts in no mart (int_listing_state and
                               int_current_canonical_listings leave it out);
      expired_at after it      the listing is still active, its expiry pending;
      last_seen_at after it    it does not stretch daily_postings past the build's day.

    So no mart has a day or a week after the build's, and a day already past is never
    rewritten by time going by. Such dates come from a window stamped in the future (the
    ingestion host's clock ahead, a window key in the future); the warning test
    `dated_after_build` on stg_listings counts those listings. Each counts once a build's
    instant reaches it: int_listing_changes reads the listings whose first sighting or
    expiry fell due since the last refresh (changes_since(), macros/refresh_marks.sql). -#}
{% macro as_of() -%}
    {%- set given = var('as_of', none) -%}
    {%- if given is none or given == '' -%}
        {%- set given = run_started_at -%}
    {%- endif -%}
    {%- if given is string -%}
        {%- set given = modules.datetime.datetime.fromisoformat(given | replace('Z', '+00:00')) -%}
    {%- endif -%}
    {%- if given.tzinfo is none -%}
        {%- set given = given.replace(tzinfo=modules.pytz.utc) -%}
    {%- endif -%}
    '{{ given.isoformat() }}'::timestamptz
{%- endmacro %}

{#- The instant int_listing_state describes: this build's, unless the state was last
    refreshed by an earlier build (a selection of the marts alone). The marts describe
    the state, so they hold no day after it. -#}
{% macro state_as_of() -%}
    {%- set refreshed = refresh_mark('int_listing_state', 'as_of') -%}
    {%- if refreshed is none -%}
        {{ as_of() }}
    {%- else -%}
        '{{ refreshed }}'::timestamptz
    {%- endif -%}
{%- endmacro %}

{#- The build's UTC day: the last day a mart may hold. -#}
{% macro as_of_date() -%}
    ({{ as_of() }} at time zone 'UTC')::date
{%- endmacro %}

{#- A listing's status as of the build (`l`: stg_listings): an expiry dated after it is
    pending, so the listing is active until then. -#}
{% macro status_as_of(l) -%}
    case when {{ l }}.status = 'expired' and {{ l }}.expired_at > {{ as_of() }}
        then 'active' else {{ l }}.status end
{%- endmacro %}
