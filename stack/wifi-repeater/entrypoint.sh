#!/bin/bash
# Starts the wifi-repeater only when WIFI_REPEATER_ENABLED is true and the
# access point has a proper password; otherwise exits cleanly (the service's
# restart policy is on-failure, and balena restarts it when a variable
# changes). The upstream app prints the WiFi passwords it uses: they are
# replaced by <hidden> in its output before it reaches the logs.
set -euo pipefail

app=${HEMS_WIFI_REPEATER_APP:-/usr/src/app/build/index.js}

case "${WIFI_REPEATER_ENABLED:-false}" in
  true | TRUE | True | 1 | yes | on) ;;
  *)
    echo "hems: wifi-repeater is off (set WIFI_REPEATER_ENABLED=true to turn it on)."
    exit 0
    ;;
esac

if [ -z "${AP_PASSWORD:-}" ] || [ ${#AP_PASSWORD} -lt 8 ]; then
  echo "hems: AP_PASSWORD must have at least 8 characters (WPA2); not starting the access point." >&2
  exit 0
fi

# The secrets reach awk through its environment, never its arguments.
node "$app" 2>&1 | awk '
  function hide(line, secret,    out, at) {
    if (secret == "") return line
    out = ""
    while ((at = index(line, secret)) > 0) {
      out = out substr(line, 1, at - 1) "<hidden>"
      line = substr(line, at + length(secret))
    }
    return out line
  }
  { print hide(hide($0, ENVIRON["AP_PASSWORD"]), ENVIRON["WIFI_PASSWORD"]); fflush() }
'
