#!/bin/sh
# One-shot set-up of the compose stack's Mosquitto, run before the broker at every `compose up`
# (in the eclipse-mosquitto image, as root). Idempotent:
#  1. installs the server certificate from ./certs (made by `enertrack certs init`) where the broker,
#     which reads it after dropping to its own user, can read the key;
#  2. creates the dynamic-security configuration with the admin account
#     (ENERTRACK_BROKER_ADMIN_USER / ENERTRACK_BROKER_ADMIN_PASSWORD) when there is none;
#  3. makes sure the ingest daemon's account (MQTT_USR / MQTT_PASS) exists and may only subscribe
#     to <MQTT_TOPIC_PREFIX>/+/telemetry and /+/status, through a temporary broker on loopback.
# Paths and the broker's user can be changed for a test outside the container.
set -eu
CERTS_SRC=${CERTS_SRC:-/certs}
CERTS_DIR=${CERTS_DIR:-/mosquitto/certs}
DATA_DIR=${DATA_DIR:-/mosquitto/data}
PLUGIN=${PLUGIN:-/usr/lib/mosquitto_dynamic_security.so}
BROKER_USER=${BROKER_USER:-mosquitto}
INIT_PORT=${INIT_PORT:-1884}
PREFIX=${MQTT_TOPIC_PREFIX:-enertrack}
ROLE=enertrack-ingest
say() { echo "[mosquitto-init] $*"; }
die() { echo "[mosquitto-init] error: $*" >&2; exit 1; }

: "${ENERTRACK_BROKER_ADMIN_USER:?set ENERTRACK_BROKER_ADMIN_USER in .env (the broker admin account)}"
: "${ENERTRACK_BROKER_ADMIN_PASSWORD:?set ENERTRACK_BROKER_ADMIN_PASSWORD in .env}"
: "${MQTT_USR:?set MQTT_USR in .env (the ingest daemon broker account)}"
: "${MQTT_PASS:?set MQTT_PASS in .env}"
for f in ca.crt server.crt server.key; do
  [ -f "$CERTS_SRC/$f" ] || die "$CERTS_SRC/$f is missing: run 'enertrack certs init --dir certs --san mosquitto' first (docs/deployment.md)"
done

mkdir -p "$CERTS_DIR" "$DATA_DIR"
cp "$CERTS_SRC/ca.crt" "$CERTS_SRC/server.crt" "$CERTS_DIR/"
cp "$CERTS_SRC/server.key" "$CERTS_DIR/server.key.new"
chmod 0644 "$CERTS_DIR/ca.crt" "$CERTS_DIR/server.crt"
chmod 0600 "$CERTS_DIR/server.key.new"
mv "$CERTS_DIR/server.key.new" "$CERTS_DIR/server.key"
say "server certificate installed"

CONFIG="$DATA_DIR/dynamic-security.json"
if [ ! -f "$CONFIG" ]; then
  mosquitto_ctrl dynsec init "$CONFIG" "$ENERTRACK_BROKER_ADMIN_USER" "$ENERTRACK_BROKER_ADMIN_PASSWORD" >/dev/null
  say "dynamic-security configuration created with admin account $ENERTRACK_BROKER_ADMIN_USER"
fi
chown -R "$BROKER_USER" "$CERTS_DIR" "$DATA_DIR"

TMP=$(mktemp -d)
PID=
trap '[ -z "$PID" ] || kill "$PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT
cat > "$TMP/init.conf" <<CONF
per_listener_settings false
listener $INIT_PORT 127.0.0.1
allow_anonymous false
plugin $PLUGIN
plugin_opt_config_file $CONFIG
persistence false
user $BROKER_USER
CONF
mosquitto -c "$TMP/init.conf" >"$TMP/log" 2>&1 &
PID=$!
# mosquitto_ctrl exits 0 even when the broker answers an error: read what it says instead.
ctrl() {
  out=$(mosquitto_ctrl -h 127.0.0.1 -p "$INIT_PORT" -u "$ENERTRACK_BROKER_ADMIN_USER" \
        -P "$ENERTRACK_BROKER_ADMIN_PASSWORD" dynsec "$@" 2>&1 | grep -v -e 'without encryption' -e 'visible on the network' || true)
  case "$out" in *"Error:"*|*"rror connecting"*|*"rror: Problem"*) echo "$out" >&2; return 1 ;; esac
  [ -z "$out" ] || echo "$out"
}
i=0
until ctrl getDefaultACLAccess >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -lt 50 ] && kill -0 "$PID" 2>/dev/null || { cat "$TMP/log" >&2; die "the admin account cannot log in to the broker (was ENERTRACK_BROKER_ADMIN_PASSWORD changed after the first start? docs/deployment.md)"; }
  sleep 0.2
done
if ! ctrl getRole "$ROLE" >/dev/null 2>&1; then
  ctrl createRole "$ROLE" >/dev/null
  # Exactly the daemon's two subscriptions, literally (Mosquitto 2.0's subscribePattern does not
  # match a filter that holds a '+'); receiving is allowed by default, publishing is not.
  ctrl addRoleACL "$ROLE" subscribeLiteral "$PREFIX/+/telemetry" allow >/dev/null
  ctrl addRoleACL "$ROLE" subscribeLiteral "$PREFIX/+/status" allow >/dev/null
  say "role $ROLE created: subscribe to $PREFIX/+/telemetry and $PREFIX/+/status, publish nothing"
fi
if ctrl getClient "$MQTT_USR" >/dev/null 2>&1; then
  ctrl setClientPassword "$MQTT_USR" "$MQTT_PASS" >/dev/null
else
  ctrl createClient "$MQTT_USR" -p "$MQTT_PASS" >/dev/null
  say "ingest account $MQTT_USR created"
fi
# Adding a role the client already has is an error too: add, then check what the client holds.
ctrl addClientRole "$MQTT_USR" "$ROLE" >/dev/null 2>&1 || true
ctrl getClient "$MQTT_USR" | grep -q "$ROLE (priority" || die "could not give $MQTT_USR the role $ROLE"
kill "$PID"
wait "$PID" 2>/dev/null || true
PID=
say "ready"
