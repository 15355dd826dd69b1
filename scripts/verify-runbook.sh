#!/usr/bin/env bash
# Follows docs/VERIFY.md literally: runs its runbook blocks (```sh runbook, and the ones
# tagged with the trusted key's type, ```sh runbook ed25519 / rsa), in order, in one shell,
# with BUNDLE, TRUSTED_PEM and WORK set as the document asks. Exits non-zero at the first
# failure and names the step it belongs to, so a test can tell that a tampered bundle was
# caught by the right check.
#
#   scripts/verify-runbook.sh [--as-typed] <bundle> <trusted.pub.pem> [work-dir]
#
# By default the blocks run under `set -euo pipefail`: any failing command stops. With
# --as-typed they run as an officer typing them into an interactive shell would: no shell
# options, every command of a block runs, and the status of a block's last command is what
# the officer sees (`echo $?`) and what decides whether to go on. A block that prints FAIL
# and then OK, or FAIL with status 0, passes the first way and is caught the second.
#
# The key type is the one decision taken here rather than in the document: the document
# asks the officer to read it off `openssl pkey -noout -text`, and so does this script.
set -euo pipefail

as_typed=0
if [ "${1:-}" = --as-typed ]; then
  as_typed=1
  shift
fi
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 [--as-typed] <bundle> <trusted.pub.pem> [work-dir]" >&2
  exit 2
fi
doc="${RUNBOOK_DOC:-$(dirname "$0")/../docs/VERIFY.md}"
BUNDLE=$(realpath "$1")
TRUSTED_PEM=$(realpath "$2")
if [ $# -eq 3 ]; then
  WORK=$(realpath "$3")
else
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
fi
export BUNDLE TRUSTED_PEM WORK

key_text=$(openssl pkey -pubin -in "$TRUSTED_PEM" -noout -text)
case "$key_text" in
  ED25519*) key_type=ed25519 ;;
  *"Public-Key: ("*) key_type=rsa ;;
  *) echo "verify-runbook: $TRUSTED_PEM: neither an Ed25519 nor an RSA public key" >&2; exit 2 ;;
esac

# One generated script: each block is preceded by the name of its step (the last `## `
# heading), which an ERR trap reports when a command of that block fails (or, as typed,
# the check after the block when its last command failed).
script="$WORK/.runbook.sh"
awk -v key_type="$key_type" -v as_typed="$as_typed" '
  function quote(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
  /^## / { step = substr($0, 4); next }
  in_block && /^```/ {
    in_block = 0
    if (as_typed) print "runbook_status=$?; if [ \"$runbook_status\" -ne 0 ]; then echo \"verify-runbook: FAILED at step: $STEP\" >&2; exit \"$runbook_status\"; fi"
    next
  }
  in_block { print; next }
  /^```sh runbook/ {
    tag = $3
    if (tag == "" || tag == key_type) {
      in_block = 1; blocks++
      print "STEP=" quote(step); print "echo " quote("== " step) " >&2"
    }
    next
  }
  END { if (blocks == 0) exit 1 }
' "$doc" > "$script.body" || { echo "verify-runbook: no runbook blocks for $key_type keys in $doc" >&2; exit 2; }

{
  if [ "$as_typed" -eq 0 ]; then
    echo 'set -euo pipefail'
    echo 'trap '\''echo "verify-runbook: FAILED at step: $STEP" >&2'\'' ERR'
  fi
  cat "$script.body"
  echo 'echo "verify-runbook: every step passed" >&2'
} > "$script"
rm "$script.body"

bash "$script"
