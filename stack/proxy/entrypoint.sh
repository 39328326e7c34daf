#!/bin/sh
# Renders NGINX's htpasswd file from PROXY_USERNAME / PROXY_PASSWORD, then runs
# the command (nginx). Without PROXY_PASSWORD the file has no user, so the
# protected paths refuse everyone while Home Assistant stays reachable. The
# password goes to openssl on standard input and is never printed.
set -eu

htpasswd=${HEMS_NGINX_HTPASSWD:-/etc/nginx/hems/htpasswd}
group=${HEMS_NGINX_GROUP:-nginx}
username=${PROXY_USERNAME:-hems}

case $username in
  *:* | "") echo "hems: PROXY_USERNAME must be non-empty and contain no ':'." >&2; exit 1 ;;
esac

umask 027
mkdir -p "$(dirname "$htpasswd")"
tmp="$htpasswd.tmp"
if [ -n "${PROXY_PASSWORD:-}" ]; then
  hash=$(printf '%s\n' "$PROXY_PASSWORD" | openssl passwd -apr1 -stdin)
  printf '%s:%s\n' "$username" "$hash" >"$tmp"
  echo "hems: proxy login '$username' configured for /configurator/ and the InfluxDB UI." >&2
else
  : >"$tmp"
  echo "hems: PROXY_PASSWORD is not set: /configurator/ and the InfluxDB UI refuse everyone." >&2
fi
chgrp "$group" "$tmp" 2>/dev/null || echo "hems: could not hand $htpasswd to group '$group'." >&2
mv -f "$tmp" "$htpasswd"

exec "$@"
