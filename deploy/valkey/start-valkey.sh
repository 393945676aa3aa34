#!/bin/sh
# Start one Valkey of the primary/replica pair from valkey.conf and users.acl,
# as they are (mounted read-only at $CONF_DIR): the compose file
# (deploy/compose) and the Kubernetes StatefulSet (deploy/k8s) both run this.
#
# It adds only what the shipped files cannot hold, in $RUN_DIR (writable):
#   - users.acl with a SHA-256 hash of each user's password, from
#     $SECRETS_DIR/valkey-<user>-password (deploy/README.md, step 3);
#   - a config that includes valkey.conf and sets the data folder, AOF
#     "always" (docs/topology.md), the admin login for replication, the name
#     this server announces, and "replicaof" the current primary: the one the
#     Sentinels name ($SENTINELS, host:port,...), else $INITIAL_PRIMARY
#     (port $PRIMARY_PORT); $PORT and $BIND, when set, are this server's port
#     and address (the tests use them);
#   - with $TLS_DIR (tls.crt, tls.key and ca.crt, as cert-manager writes them):
#     TLS only, on the same port: clients, replication and the questions to
#     the Sentinels, every client presenting a certificate from that CA
#     (docs/security-transport.md, "TLS to the brokers").
set -eu
CONF_DIR=${CONF_DIR:-/etc/valkey}
RUN_DIR=${RUN_DIR:-/run/valkey}
SECRETS_DIR=${SECRETS_DIR:-/run/secrets}
DATA_DIR=${DATA_DIR:-/data}
MASTER=${MASTER:-alongside}
PRIMARY_PORT=${PRIMARY_PORT:-6379}
: "${INITIAL_PRIMARY:?the host name of the first primary}" "${ANNOUNCE_HOST:?this server's host name}"

secret() { tr -d '\r\n' < "$SECRETS_DIR/valkey-$1-password"; }
cli_tls() { if [ -n "${TLS_DIR:-}" ]; then echo "--tls --cacert $TLS_DIR/ca.crt --cert $TLS_DIR/tls.crt --key $TLS_DIR/tls.key"; fi; }
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

mkdir -p "$RUN_DIR"
umask 077
: > "$RUN_DIR/users.acl"
while IFS= read -r line; do
  user=$(printf %s "$line" | cut -d' ' -f2)
  case "$line" in
    "user $user on "*)
      if [ -f "$SECRETS_DIR/valkey-$user-password" ]; then
        line="user $user on #$(hash "$(secret "$user")") ${line#"user $user on "}"
      fi ;;
  esac
  printf '%s\n' "$line" >> "$RUN_DIR/users.acl"
done < "$CONF_DIR/users.acl"

primary=""
for sentinel in $(printf %s "${SENTINELS:-}" | tr ',' ' '); do
  # shellcheck disable=SC2046 # the TLS options are words
  answer=$(valkey-cli $(cli_tls) -h "${sentinel%:*}" -p "${sentinel##*:}" --raw \
    SENTINEL get-master-addr-by-name "$MASTER" 2>/dev/null) || answer=""
  set -- $answer
  if [ $# -eq 2 ]; then primary=$1 PRIMARY_PORT=$2; break; fi
done
[ -n "$primary" ] || primary=$INITIAL_PRIMARY

{
  echo "include $CONF_DIR/valkey.conf"
  echo "aclfile $RUN_DIR/users.acl"
  echo "dir $DATA_DIR"
  echo "appendfsync always"
  echo "masteruser admin"
  echo "masterauth $(secret admin)"
  echo "replica-announce-ip $ANNOUNCE_HOST"
  if [ "$primary" != "$ANNOUNCE_HOST" ]; then echo "replicaof $primary $PRIMARY_PORT"; fi
  if [ -n "${TLS_DIR:-}" ]; then
    echo "port 0"
    echo "tls-port ${PORT:-6379}"
    echo "tls-cert-file $TLS_DIR/tls.crt"
    echo "tls-key-file $TLS_DIR/tls.key"
    echo "tls-ca-cert-file $TLS_DIR/ca.crt"
    echo "tls-auth-clients yes"
    echo "tls-replication yes"
  elif [ -n "${PORT:-}" ]; then echo "port $PORT"; fi
  if [ -n "${BIND:-}" ]; then echo "bind $BIND"; fi
} > "$RUN_DIR/valkey.conf"
exec valkey-server "$RUN_DIR/valkey.conf"
