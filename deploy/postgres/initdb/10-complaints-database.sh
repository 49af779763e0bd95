#!/usr/bin/env bash
# Runs once, when the postgres data volume is first initialised (docker-entrypoint-initdb.d):
# creates the service's own login role and database, so the API and worker never use the
# superuser that Temporal's auto-setup needs to create its databases.
set -euo pipefail

: "${COMPLAINTS_DB_NAME:?}"
: "${COMPLAINTS_DB_USER:?}"
: "${COMPLAINTS_DB_PASSWORD:?}"

# psql variables (:"name" quotes an identifier, :'name' a literal), so no value is spliced into SQL.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=app_db="$COMPLAINTS_DB_NAME" \
    --set=app_user="$COMPLAINTS_DB_USER" \
    --set=app_password="$COMPLAINTS_DB_PASSWORD" <<'SQL'
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"app_db" OWNER :"app_user";
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;
SQL
