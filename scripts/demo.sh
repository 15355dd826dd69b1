#!/usr/bin/env bash
# `npm run demo`: the whole path once, on this machine, with nothing but embedded defaults.
#   connected side: make a signing key, build the example releases shop 1.0.0 and 1.1.0, verify,
#                   write 1.1.0 to release media (volumes, index, INSTALL.txt, the installer)
#   isolated side:  install 1.0.0 into a demo site (config directory, SQLite, OCI layout
#                   directory); check the media with openssl and sha256sum, then install 1.1.0
#                   over it with the installer on the media, straight from the volumes; run it
#                   again (nothing to do); print status, history and a summary.
# Everything happens in a fresh directory (AIRLOCK_DEMO_DIR, else a new /tmp/airlock-demo-*),
# which is left in place to look at. Works on a fresh checkout: setup.sh installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

bash scripts/setup.sh

demo="${AIRLOCK_DEMO_DIR:-$(mktemp -d /tmp/airlock-demo-XXXXXX)}"
mkdir -p "$demo"
# Demo only: a real signing key's passphrase comes from a prompt or a protected file.
export AIRLOCK_PASSPHRASE="demo passphrase, not a secret"
# Reproducible bundles: the same inputs and this time give the same bytes.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(date +%s)}"

airlock() { node "$repo/dist/airlock.mjs" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Connected side: a signing key and a trust store that trusts it"
airlock keys generate --name demo-build --out "$demo/keys"
mkdir -p "$demo/trust"
cp "$demo/keys/demo-build.pub.pem" "$demo/trust/"

step "2. Build the example releases (manifests/shop.yaml and its upgrade manifests/shop-1.1.0.yaml)"
airlock build manifests/shop.yaml --key "$demo/keys/demo-build.key.pem" --out "$demo/media"
airlock build manifests/shop-1.1.0.yaml --key "$demo/keys/demo-build.key.pem" --out "$demo/media"

step "3. Verify on the isolated side (signatures, policy, every checksum, expiry)"
airlock verify "$demo/media/shop-1.0.0.airlock" --trust "$demo/trust"

step "4. The demo site: embedded defaults (config directory, SQLite, OCI layout directory)"
mkdir -p "$demo/site"
cat > "$demo/site/site.yaml" <<'YAML'
site: demo-site
environment: prod
stateDir: state
trust: ../trust
variables:
  db_host: db.demo.internal
  api_token: demo-token-never-printed
  smtp_host: mail.demo.internal
targets:
  configRoot: etc
  databases:
    shop: { sqlite: { file: data/shop.db } }
  images: { ociLayout: images }
YAML
cat "$demo/site/site.yaml"

step "5. Install shop 1.0.0 (plan, then apply unattended with --yes)"
airlock install "$demo/media/shop-1.0.0.airlock" --site "$demo/site/site.yaml" --yes

step "6. Connected side: write shop 1.1.0 to release media (a 'USB stick'; 8 KiB volumes to show the split)"
airlock media write "$demo/media/shop-1.1.0.airlock" --to "$demo/usb1" --volume-size 8K --key "$demo/keys/demo-build.key.pem"

step "7. Isolated side: check the media with stock tools, then install 1.1.0 from it with the installer it carries"
key_id=$(openssl pkey -pubin -in "$demo/trust/demo-build.pub.pem" -outform DER | sha256sum | cut -c1-64)
(cd "$demo/usb1" && openssl pkeyutl -verify -pubin -inkey "$demo/trust/demo-build.pub.pem" -rawin -in SHA256SUMS.media -sigfile "signatures/$key_id.sig" && sha256sum --quiet -c SHA256SUMS.media && echo "usb1: every file matches SHA256SUMS.media")
node "$demo/usb1/airlock-installer.mjs" install "$demo/usb1" --site "$demo/site/site.yaml" --yes
echo
echo "The same command again:"
node "$demo/usb1/airlock-installer.mjs" install "$demo/usb1" --site "$demo/site/site.yaml" --yes

step "8. Status and history"
airlock status --site "$demo/site/site.yaml"
airlock history --site "$demo/site/site.yaml"

step "9. Summary"
echo "Config files under $demo/site/etc:"
(cd "$demo/site/etc" && find . -type f -printf '  %m  %p\n' | sort -k2)
echo "Schema history of $demo/site/data/shop.db:"
sqlite3 -header -column "$demo/site/data/shop.db" \
  'SELECT version, description, success, bundle_version FROM airlock_schema_history ORDER BY installed_rank' | sed 's/^/  /'
echo "Tables: $(sqlite3 "$demo/site/data/shop.db" "SELECT group_concat(name, ', ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name)")"
if grep -rq 'demo-token-never-printed' "$demo/site/state"/*.json "$demo/site/state/audit.jsonl" "$demo/site/state/receipts"; then
  echo "ERROR: a site variable leaked into state, audit or receipts" >&2
  exit 1
fi
echo "Receipts to carry back:"
ls -1 "$demo/site/state/receipts" | sed 's/^/  /'
echo
echo "Demo finished in $demo (try: node dist/airlock.mjs rollback --site $demo/site/site.yaml)"
