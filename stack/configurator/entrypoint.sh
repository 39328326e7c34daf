#!/bin/sh
# Hands the optional CONFIGURATOR_HA_TOKEN (a Home Assistant long-lived access
# token, for the check-config and restart buttons) to hass-configurator, then
# runs the command. Without it the configurator edits files only.
set -eu

if [ -n "${CONFIGURATOR_HA_TOKEN:-}" ]; then
  export HC_HASS_API_PASSWORD="$CONFIGURATOR_HA_TOKEN"
else
  # Standalone: no calls to Home Assistant's API.
  export HC_HASS_API=none
fi
unset CONFIGURATOR_HA_TOKEN

exec "$@"
