#!/usr/bin/env bash
# Runs once, when the postgres service starts on an empty volume (docker-entrypoint-initdb.d).
# Creates two roles, each owning its database: the data database (the pipeline's tables,
# PG* in the other services) and Dagster's storage (runs, event logs, schedules). Neither
# role is a superuser; the superuser (POSTGRES_PASSWORD) is for administration only.
# A third role, for the read API, may only read the data database's public and marts
# schemas (never staging), in read-only sessions; the one table it writes, the saved
# searches (INSERT and DELETE, in a read-write transaction), is granted by the migrate
# service after the migrations made it (JOBS_API_PG_ROLE). A fourth, the pipeline's (runs and
# sensors), may load data but not change the schema (pipeline-role.psql); the owner of
# the data database runs the migrations, once per deployment.
set -euo pipefail

for name in DATA_PG_USER DATA_PG_PASSWORD DATA_PG_DB DAGSTER_PG_USER DAGSTER_PG_PASSWORD DAGSTER_PG_DB \
    API_PG_USER API_PG_PASSWORD PIPELINE_PG_USER PIPELINE_PG_PASSWORD; do
    if [ -z "${!name:-}" ]; then
        echo "init: $name is empty; set it in .env (see .env.example) and recreate the volume" >&2
        exit 1
    fi
done
for name in POSTGRES_PASSWORD DATA_PG_PASSWORD DAGSTER_PG_PASSWORD API_PG_PASSWORD \
    PIPELINE_PG_PASSWORD; do
    case "${!name}" in
        change-me*)
            echo "init: $name still has the .env.example placeholder; choose a real password" >&2
            exit 1
            ;;
    esac
done

# psql variables (:"name" quotes an identifier, :'name' a literal), so no value is spliced
# into SQL text by the shell.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=data_user="$DATA_PG_USER" --set=data_password="$DATA_PG_PASSWORD" \
    --set=data_db="$DATA_PG_DB" \
    --set=dagster_user="$DAGSTER_PG_USER" --set=dagster_password="$DAGSTER_PG_PASSWORD" \
    --set=dagster_db="$DAGSTER_PG_DB" \
    --set=api_user="$API_PG_USER" --set=api_password="$API_PG_PASSWORD" \
    --set=pipeline_user="$PIPELINE_PG_USER" --set=pipeline_password="$PIPELINE_PG_PASSWORD" \
    --set=pipeline_role_file="$(dirname "${BASH_SOURCE[0]}")/pipeline-role.psql" <<'SQL'
-- CREATEDB: every backup is verified by a test restore into a scratch database.
CREATE ROLE :"data_user" LOGIN CREATEDB PASSWORD :'data_password';
CREATE DATABASE :"data_db" OWNER :"data_user";
REVOKE ALL ON DATABASE :"data_db" FROM PUBLIC;
CREATE ROLE :"dagster_user" LOGIN PASSWORD :'dagster_password';
CREATE DATABASE :"dagster_db" OWNER :"dagster_user";
REVOKE ALL ON DATABASE :"dagster_db" FROM PUBLIC;

-- The read API: SELECT on what dbt creates (marts, and analytics_intermediate, where dbt
-- stamps each marts build: the API's /stats cache keys on it); in public only the tables it
-- reads, granted by name by the migrate service (JOBS_API_PG_ROLE: store.grant_api_role).
CREATE ROLE :"api_user" LOGIN PASSWORD :'api_password';
ALTER ROLE :"api_user" SET default_transaction_read_only = on;
GRANT CONNECT ON DATABASE :"data_db" TO :"api_user";
\connect :"data_db"
CREATE SCHEMA marts AUTHORIZATION :"data_user";
CREATE SCHEMA analytics_intermediate AUTHORIZATION :"data_user";
GRANT USAGE ON SCHEMA public, marts, analytics_intermediate TO :"api_user";
ALTER DEFAULT PRIVILEGES FOR ROLE :"data_user" IN SCHEMA marts, analytics_intermediate
    GRANT SELECT ON TABLES TO :"api_user";
\i :pipeline_role_file
SQL
echo "init: created databases $DATA_PG_DB (owner $DATA_PG_USER) and $DAGSTER_PG_DB (owner $DAGSTER_PG_USER), read-only role $API_PG_USER, pipeline role $PIPELINE_PG_USER"
