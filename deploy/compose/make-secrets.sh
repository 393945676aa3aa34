#!/bin/sh
# Write every secret compose.yaml reads into ./secrets, once:
# random hex passwords (URL-safe: they go into NATS_URL and REDIS_URL), the
# URLs built from them, and an Ed25519 token key per service plus one for
# operators (`alongside token issue --key secrets/operator-token-key.pem ...`).
# An existing file is kept, so re-running fills only what is missing.
# Put the console's OpenID client secret in secrets/oidc-client-secret, and the
# SMTP password and webhook secret (empty: none) in their files.
set -eu
cd "$(dirname "$0")"
# The folder is yours alone (0700). Compose bind-mounts each file into the
# containers, whose users are not you, so the files themselves are 0644.
mkdir -p secrets
chmod 0700 secrets
cd secrets
umask 022

put() { [ -e "$1" ] || printf '%s' "$2" > "$1"; }
password() { [ -e "$1" ] || openssl rand -hex 24 | tr -d '\n' > "$1"; }

for u in matcher scheduler notifier admin; do password "nats-$u-password"; done
for u in matcher scheduler notifier admin peer; do password "valkey-$u-password"; done

nats_url() { # user -> the three servers, each with the login
  pw=$(cat "nats-$1-password")
  echo "nats://$1:$pw@nats-1:4222,nats://$1:$pw@nats-2:4222,nats://$1:$pw@nats-3:4222"
}
redis_url() { # user db -> the Sentinels, the primary's name, the user's database
  echo "redis+sentinel://$1:$(cat "valkey-$1-password")@sentinel-1:26379,sentinel-2:26379,sentinel-3:26379/alongside/$2"
}
put nats-admin-url "$(nats_url admin)"
put valkey-admin-url "$(redis_url admin 0)"
db=1
for s in matcher scheduler notifier; do
  put "$s-nats-url" "$(nats_url "$s")"
  put "$s-redis-url" "$(redis_url "$s" "$db")"
  db=$((db + 1))
done

for k in matcher scheduler notifier operator; do
  [ -e "$k-token-key.pem" ] || { openssl genpkey -algorithm ed25519 -out "$k-token-key.pem"; chmod 0644 "$k-token-key.pem"; }
  [ -e "$k-token-public.pem" ] || openssl pkey -in "$k-token-key.pem" -pubout -out "$k-token-public.pem"
done

put smtp-password ""
put webhook-secret ""
[ -e oidc-client-secret ] || { put oidc-client-secret ""; echo "put the console's OpenID client secret in $(pwd)/oidc-client-secret"; }
echo "secrets in $(pwd)"
