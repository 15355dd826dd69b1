#!/bin/sh
# shop pre-install check: runs before anything on the site changes; a non-zero exit stops the install.
set -eu

: "${AIRLOCK_RELEASE_NAME:?is not set; run this through airlock install}"
: "${AIRLOCK_RELEASE_VERSION:?is not set; run this through airlock install}"
: "${AIRLOCK_ENVIRONMENT:?is not set; run this through airlock install}"

case "$AIRLOCK_ENVIRONMENT" in
  staging | prod) ;;
  *)
    echo "pre-install: $AIRLOCK_RELEASE_NAME has no configuration for environment '$AIRLOCK_ENVIRONMENT' (expected staging or prod)" >&2
    exit 1
    ;;
esac

echo "pre-install: $AIRLOCK_RELEASE_NAME $AIRLOCK_RELEASE_VERSION for $AIRLOCK_ENVIRONMENT: checks passed"
