#!/usr/bin/env bash
# Kannel baseline benchmark: bearerbox + smsbox fed through sendsms HTTP into smsc-sim --sink.
# Prints messages/s and CPU per message. Options: --messages N --concurrency C --window W
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v /usr/sbin/bearerbox >/dev/null; then
  echo "kannel is not installed: run 'bash hack/deps.sh' (Debian package kannel)" >&2
  exit 1
fi
export PATH="$PWD/node_modules/.bin:$PATH"
exec node --no-warnings --import ./test/bench/lib/register.mjs \
  test/bench/kannel-baseline.ts "$@"
