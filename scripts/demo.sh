#!/usr/bin/env bash
# `npm run demo`: the whole path once, on this machine, with nothing but embedded defaults.
#   connected side: make a signing key and three small container images (an OCI layout written
#                   here: no registry, no network), build the example release shop 1.0.0 with them
#   isolated side:  verify it, install it into a demo site (config directory, SQLite, OCI layout
#                   directory), export the site's receipt (what its image store holds)
#   connected side: build shop 1.1.0 (one image changed) as a delta against that receipt, and the
#                   full bundle beside it; write the delta to release media (volumes, index,
#                   INSTALL.txt, the installer)
#   isolated side:  check the media with openssl and sha256sum, install 1.1.0 with the installer
#                   on the media, straight from the volumes; run it again (nothing to do); print
#                   status, history and a summary with full against delta bytes.
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

step "2. Container images, made here (an OCI layout: no registry, no network), and the releases that carry them"
mkdir -p "$demo/src"
cp -r manifests/. "$demo/src/"
node scripts/demo-images.mjs "$demo/src/images"
images() {
  echo 'images:'
  for spec in "$@"; do echo "  - { ref: registry.demo.internal/shop/${spec}, ociLayout: images, tag: \"${spec}\" }"; done
}
{ cat manifests/shop.yaml; images web:1.0.0 api:1.0.0 worker:1.0.0; } > "$demo/src/shop-1.0.0.yaml"
{ cat manifests/shop-1.1.0.yaml; images web:1.1.0 api:1.0.0 worker:1.0.0; } > "$demo/src/shop-1.1.0.yaml"
echo "shop 1.0.0: web, api and worker 1.0.0; shop 1.1.0: web 1.1.0 (its application layer changed), api and worker as they were"

step "3. Build shop 1.0.0 with its images"
airlock build "$demo/src/shop-1.0.0.yaml" --key "$demo/keys/demo-build.key.pem" --out "$demo/out" --cache "$demo/cache"

step "4. Verify on the isolated side (signatures, policy, every checksum, the image graph, expiry)"
airlock verify "$demo/out/shop-1.0.0.airlock" --trust "$demo/trust"

step "5. The demo site: embedded defaults (config directory, SQLite, OCI layout directory)"
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

step "6. Install shop 1.0.0 (plan, then apply unattended with --yes): its images go into the site's OCI layout"
airlock install "$demo/out/shop-1.0.0.airlock" --site "$demo/site/site.yaml" --yes

step "7. Isolated side: a receipt of what the site holds, to carry back (every install's receipt says it too)"
mkdir -p "$demo/carried-back"
airlock status --site "$demo/site/site.yaml" --receipt "$demo/carried-back/demo-site-receipt.json"

step "8. Connected side: build shop 1.1.0 as a delta against that receipt (and the full bundle, to compare)"
airlock build "$demo/src/shop-1.1.0.yaml" --key "$demo/keys/demo-build.key.pem" --out "$demo/delta" --cache "$demo/cache" --since "$demo/carried-back/demo-site-receipt.json"
airlock build "$demo/src/shop-1.1.0.yaml" --key "$demo/keys/demo-build.key.pem" --out "$demo/full" --cache "$demo/cache"
airlock inspect "$demo/delta/shop-1.1.0.airlock" | sed -n '/^delta/,/^images/p' | sed '$d'

step "9. Write the delta to release media (a 'USB stick'; 64 KiB volumes to show the split)"
airlock media write "$demo/delta/shop-1.1.0.airlock" --to "$demo/usb1" --volume-size 64K --key "$demo/keys/demo-build.key.pem"

step "10. Isolated side: check the media with stock tools, then install 1.1.0 from it with the installer it carries"
key_id=$(openssl pkey -pubin -in "$demo/trust/demo-build.pub.pem" -outform DER | sha256sum | cut -c1-64)
(cd "$demo/usb1" && openssl pkeyutl -verify -pubin -inkey "$demo/trust/demo-build.pub.pem" -rawin -in SHA256SUMS.media -sigfile "signatures/$key_id.sig" && sha256sum --quiet -c SHA256SUMS.media && echo "usb1: every file matches SHA256SUMS.media")
node "$demo/usb1/airlock-installer.mjs" install "$demo/usb1" --site "$demo/site/site.yaml" --yes
echo
echo "The same command again:"
node "$demo/usb1/airlock-installer.mjs" install "$demo/usb1" --site "$demo/site/site.yaml" --yes

step "11. Status and history"
airlock status --site "$demo/site/site.yaml"
airlock history --site "$demo/site/site.yaml"

step "12. Summary"
echo "Config files under $demo/site/etc:"
(cd "$demo/site/etc" && find . -type f -printf '  %m  %p\n' | sort -k2)
echo "Schema history of $demo/site/data/shop.db:"
sqlite3 -header -column "$demo/site/data/shop.db" \
  'SELECT version, description, success, bundle_version FROM airlock_schema_history ORDER BY installed_rank' | sed 's/^/  /'
echo "Tables: $(sqlite3 "$demo/site/data/shop.db" "SELECT group_concat(name, ', ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name)")"
echo "Images in the site's OCI layout $demo/site/images:"
node -e 'for (const m of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).manifests) console.log(`  ${m.annotations["org.opencontainers.image.ref.name"].padEnd(40)} ${m.digest.slice(0, 19)}…`)' "$demo/site/images/index.json"
full=$(stat -c %s "$demo/full/shop-1.1.0.airlock")
delta=$(stat -c %s "$demo/delta/shop-1.1.0.airlock")
echo "shop 1.1.0 across the gap: full bundle $full bytes, delta $delta bytes ($(( delta * 100 / full ))% of the full bundle)"
if grep -rq 'demo-token-never-printed' "$demo/site/state"/*.json "$demo/site/state/audit.jsonl" "$demo/site/state/receipts" "$demo/carried-back"; then
  echo "ERROR: a site variable leaked into state, audit or receipts" >&2
  exit 1
fi
echo "Receipts to carry back:"
ls -1 "$demo/site/state/receipts" | sed 's/^/  /'
echo
echo "Demo finished in $demo (try: node dist/airlock.mjs rollback --site $demo/site/site.yaml)"
