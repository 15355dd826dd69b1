#!/bin/sh
# shop post-install: configs and migrations are in place; tell the running service to pick them up.
set -eu

if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet shop.service 2>/dev/null; then
  systemctl reload shop.service
  echo "post-install: reloaded shop.service for $AIRLOCK_RELEASE_NAME $AIRLOCK_RELEASE_VERSION"
else
  echo "post-install: shop.service is not running here; $AIRLOCK_RELEASE_NAME $AIRLOCK_RELEASE_VERSION takes effect at its next start"
fi
