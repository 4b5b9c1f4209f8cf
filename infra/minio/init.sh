#!/bin/sh
# minio-init (infra/docker-compose.yml): create the lake bucket and two least-privilege
# users, the collector (writes landing/ only), the jobs (read landing, write the layers) and
# gold's readers (the SQL endpoint: read gold/ only).
# Idempotent: safe on every `docker compose up`.
set -eu

mc alias set lake http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "lake/$EVENTLAKE_BUCKET"
# Versioning keeps overwritten or deleted objects recoverable (pair it with a lifecycle
# rule that expires noncurrent versions).
mc version enable "lake/$EVENTLAKE_BUCKET"

apply_policy() {  # name, policy file, access key, secret key
  sed "s/EVENTLAKE_BUCKET/$EVENTLAKE_BUCKET/g" "/policies/$2" > "/tmp/$2"
  mc admin policy create lake "$1" "/tmp/$2"
  mc admin user add lake "$3" "$4"
  mc admin policy attach lake "$1" --user "$3" 2>/dev/null || true  # already attached
}

apply_policy eventlake-collector collector-landing.json "$COLLECTOR_ACCESS_KEY" "$COLLECTOR_SECRET_KEY"
apply_policy eventlake-jobs jobs-lake.json "$JOBS_ACCESS_KEY" "$JOBS_SECRET_KEY"
apply_policy eventlake-readers readers-gold.json "$READERS_ACCESS_KEY" "$READERS_SECRET_KEY"
echo "bucket $EVENTLAKE_BUCKET ready; users for the collector, the jobs and gold's readers created"
