#!/bin/sh
# Start one of the three Sentinels from sentinel.conf as it is (mounted
# read-only at $CONF_DIR): the compose file and the Kubernetes StatefulSet
# both run this. Sentinel rewrites its file, so it runs a copy in $RUN_DIR
# (kept across restarts when $RUN_DIR is on a volume) with what the shipped
# file cannot hold: the primary's host name (the one the other Sentinels name,
# else $INITIAL_PRIMARY), the name this Sentinel announces, and the
# passwords, from $SECRETS_DIR/valkey-admin-password and valkey-peer-password
# ($PORT and $BIND, when set, are this Sentinel's port and address;
# $PRIMARY_PORT is the primary's). With $TLS_DIR (tls.crt, tls.key, ca.crt):
# TLS only, to its clients, to the other Sentinels and to the Valkey servers.
set -eu
CONF_DIR=${CONF_DIR:-/etc/valkey}
RUN_DIR=${RUN_DIR:-/run/valkey}
SECRETS_DIR=${SECRETS_DIR:-/run/secrets}
MASTER=${MASTER:-alongside}
PRIMARY_PORT=${PRIMARY_PORT:-6379}
: "${INITIAL_PRIMARY:?the host name of the first primary}" "${ANNOUNCE_HOST:?this Sentinel's host name}"

secret() { tr -d '\r\n' < "$SECRETS_DIR/valkey-$1-password"; }
cli_tls() { if [ -n "${TLS_DIR:-}" ]; then echo "--tls --cacert $TLS_DIR/ca.crt --cert $TLS_DIR/tls.crt --key $TLS_DIR/tls.key"; fi; }

mkdir -p "$RUN_DIR"
umask 077
if [ ! -s "$RUN_DIR/sentinel.conf" ]; then
  primary=""
  for sentinel in $(printf %s "${SENTINELS:-}" | tr ',' ' '); do
    # shellcheck disable=SC2046 # the TLS options are words
    answer=$(valkey-cli $(cli_tls) -h "${sentinel%:*}" -p "${sentinel##*:}" --raw \
      SENTINEL get-master-addr-by-name "$MASTER" 2>/dev/null) || answer=""
    set -- $answer
    if [ $# -eq 2 ]; then primary=$1 PRIMARY_PORT=$2; break; fi
  done
  [ -n "$primary" ] || primary=$INITIAL_PRIMARY
  sed -e "s/^sentinel monitor $MASTER [^ ]* [0-9]* /sentinel monitor $MASTER $primary $PRIMARY_PORT /" \
      -e "s|^dir .*|dir $RUN_DIR|" "$CONF_DIR/sentinel.conf" > "$RUN_DIR/sentinel.conf"
  {
    echo "sentinel announce-ip $ANNOUNCE_HOST"
    echo "sentinel auth-pass $MASTER $(secret admin)"
    echo "sentinel sentinel-pass $(secret peer)"
    echo "user peer on >$(secret peer) ~* &* +@all"
    if [ -n "${TLS_DIR:-}" ]; then
      echo "port 0"
      echo "tls-port ${PORT:-26379}"
      echo "tls-cert-file $TLS_DIR/tls.crt"
      echo "tls-key-file $TLS_DIR/tls.key"
      echo "tls-ca-cert-file $TLS_DIR/ca.crt"
      echo "tls-auth-clients yes"
      echo "tls-replication yes"
    elif [ -n "${PORT:-}" ]; then echo "port $PORT"; fi
    if [ -n "${BIND:-}" ]; then echo "bind $BIND"; fi
  } >> "$RUN_DIR/sentinel.conf"
fi
exec valkey-server "$RUN_DIR/sentinel.conf" --sentinel
