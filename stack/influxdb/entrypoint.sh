#!/bin/bash
# First boot of InfluxDB from the balena variables: maps INFLUXDB_* onto the
# image's DOCKER_INFLUXDB_INIT_* setup variables and hands over to the image's
# entrypoint, which sets up the org, bucket, admin user and admin token once
# (only while no bolt file exists). Secrets are never printed.
set -euo pipefail

bolt=${HEMS_INFLUXDB_BOLT_PATH:-/var/lib/influxdb2/influxd.bolt}
upstream=${HEMS_INFLUXDB_UPSTREAM_ENTRYPOINT:-/entrypoint.sh}

if [ -e "$bolt" ]; then
  echo "hems: InfluxDB already set up; INFLUXDB_ORG, INFLUXDB_BUCKET and the admin variables apply on first boot only." >&2
else
  missing=()
  [ -n "${INFLUXDB_ADMIN_PASSWORD:-}" ] || missing+=(INFLUXDB_ADMIN_PASSWORD)
  [ -n "${INFLUXDB_ADMIN_TOKEN:-}" ] || missing+=(INFLUXDB_ADMIN_TOKEN)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "hems: first boot needs ${missing[*]} (balena fleet or device variables); not starting InfluxDB yet." >&2
    exit 1
  fi
  if [ ${#INFLUXDB_ADMIN_PASSWORD} -lt 8 ]; then
    echo "hems: INFLUXDB_ADMIN_PASSWORD must have at least 8 characters." >&2
    exit 1
  fi
  export DOCKER_INFLUXDB_INIT_MODE=setup
  export DOCKER_INFLUXDB_INIT_USERNAME="${INFLUXDB_ADMIN_USER:-admin}"
  export DOCKER_INFLUXDB_INIT_PASSWORD="$INFLUXDB_ADMIN_PASSWORD"
  export DOCKER_INFLUXDB_INIT_ORG="${INFLUXDB_ORG:-hems}"
  export DOCKER_INFLUXDB_INIT_BUCKET="${INFLUXDB_BUCKET:-home_assistant}"
  export DOCKER_INFLUXDB_INIT_RETENTION="${INFLUXDB_RETENTION:-104w}"
  export DOCKER_INFLUXDB_INIT_ADMIN_TOKEN="$INFLUXDB_ADMIN_TOKEN"
  echo "hems: first boot: setting up org '$DOCKER_INFLUXDB_INIT_ORG', bucket '$DOCKER_INFLUXDB_INIT_BUCKET' (retention $DOCKER_INFLUXDB_INIT_RETENTION), admin '$DOCKER_INFLUXDB_INIT_USERNAME'." >&2
fi

exec "$upstream" "$@"
