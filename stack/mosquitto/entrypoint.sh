#!/bin/sh
# Renders Mosquitto's password file from the balena variables, then runs the
# command (mosquitto). The password is never printed.
set -eu

password_file=${HEMS_MOSQUITTO_PASSWORD_FILE:-/mosquitto/config/passwd}
data_dir=${HEMS_MOSQUITTO_DATA_DIR:-/mosquitto/data}
username=${MQTT_USERNAME:-hems}

if [ -z "${MQTT_PASSWORD:-}" ]; then
  echo "hems: MQTT_PASSWORD is not set; set it as a balena fleet or device variable." >&2
  echo "hems: refusing to start a broker nobody can log in to." >&2
  exit 1
fi
case $username in
  *:* | "") echo "hems: MQTT_USERNAME must be non-empty and contain no ':'." >&2; exit 1 ;;
esac

umask 077
mkdir -p "$(dirname "$password_file")" "$data_dir"
rm -f "$password_file"
: >"$password_file"
# -b takes the password as an argument: only visible inside this container for
# the instant mosquitto_passwd runs.
mosquitto_passwd -b "$password_file" "$username" "$MQTT_PASSWORD" >/dev/null
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
  chown mosquitto:mosquitto "$password_file"
  chown -R mosquitto:mosquitto "$data_dir"
fi
echo "hems: MQTT user '$username' configured; anonymous clients are refused." >&2

exec "$@"
