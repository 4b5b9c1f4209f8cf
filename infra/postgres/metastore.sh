#!/bin/sh
# The Hive metastore's database beside Airflow's (docs/bi.md, "The catalog"): its own user,
# whose password comes from the environment. The postgres image runs this once, when its
# volume is first initialised; the metastore's tables are created on first use.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v password="$METASTORE_PASSWORD" <<'SQL'
CREATE ROLE metastore LOGIN PASSWORD :'password';
CREATE DATABASE metastore OWNER metastore;
SQL
