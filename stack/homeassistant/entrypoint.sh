#!/bin/sh
# Prepares /config (first boot: configuration, hems, HACS; every start: the
# MQTT and InfluxDB connections and hems' OpenADR settings from the balena
# variables), then starts Home Assistant through the image's own init. A failed
# bootstrap is reported and Home Assistant starts anyway.
set -eu

(cd "${HEMS_BOOTSTRAP_HOME:-/usr/src/hems}" && python3 -m hems_bootstrap) ||
  echo "hems: bootstrap failed (see above); starting Home Assistant anyway." >&2

exec "${HEMS_HOMEASSISTANT_INIT:-/init}" "$@"
