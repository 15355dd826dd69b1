#!/usr/bin/env bash
# Installs what airlock's tests, demo and benchmarks need on a Debian machine with Node 20+:
# system tools (registry, skopeo, PostgreSQL, openssl, sqlite3, htpasswd, curl, containerd, Prometheus, node_exporter,
# Pushgateway), npm dependencies,
# and the bundled CLI. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v skopeo >/dev/null || need_apt+=(skopeo)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql)
command -v htpasswd >/dev/null || need_apt+=(apache2-utils)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v unshare >/dev/null || need_apt+=(util-linux)
command -v curl >/dev/null || need_apt+=(curl)
# Prometheus, node_exporter and the Pushgateway: the telemetry tests run health gates and deployment markers against them.
command -v prometheus >/dev/null || need_apt+=(prometheus)
command -v prometheus-node-exporter >/dev/null || need_apt+=(prometheus-node-exporter)
command -v prometheus-pushgateway >/dev/null || need_apt+=(prometheus-pushgateway)
# A real containerd daemon checks the hosts.toml files `airlock serve --print-config containerd` writes.
command -v containerd >/dev/null || need_apt+=(containerd)
# Headless Chromium renders the security officer's HTML report in the tests.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${need_apt[*]}" >&2
  $sudo apt-get update -qq
  # No package may start its service (prometheus, postgresql...): the tests start their own servers
  # on loopback, and a CI container has no init system to start them with.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# npm ci when node_modules is missing or older than the lock file. One setup at a time (a
# bench and a test run started together would otherwise both run npm ci into one node_modules).
mkdir -p .tmp
exec 9>.tmp/setup.lock
flock 9
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
node scripts/build.mjs
