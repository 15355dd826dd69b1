#!/bin/sh
# shop health check: the rendered configuration is complete. A non-zero exit fails the install
# and triggers the manifest's onHealthCheckFailure reaction.
set -eu

root="${AIRLOCK_CONFIG_ROOT:-}"
if [ -z "$root" ]; then
  echo "health-check: AIRLOCK_CONFIG_ROOT is not set; nothing to check for $AIRLOCK_RELEASE_NAME $AIRLOCK_RELEASE_VERSION"
  exit 0
fi

for file in shop/app.yaml shop/logging.conf nginx/conf.d/shop.conf nginx/conf.d/upstream.conf; do
  if [ ! -s "$root/$file" ]; then
    echo "health-check: $root/$file is missing or empty" >&2
    exit 1
  fi
done
if grep -n '{{' "$root/shop/app.yaml" >&2; then
  echo "health-check: $root/shop/app.yaml still holds unrendered template tags" >&2
  exit 1
fi

echo "health-check: $AIRLOCK_RELEASE_NAME $AIRLOCK_RELEASE_VERSION configuration for $AIRLOCK_ENVIRONMENT is complete"
