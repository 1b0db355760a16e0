#!/usr/bin/env bash
# The test suite: installs what it needs, builds the tween executable that the CLI tests run, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/check-file-sizes.sh
Scripts/install-deps.sh
# RIFE's official weights (converted, not committed) let the parity tests against the official code run; without
# them (no network) those two tests are skipped, not failed.
weights=${TWEEN_WEIGHTS:-${XDG_DATA_HOME:-$HOME/.local/share}/tween/models}
if [ ! -f "$weights/rife-hdv3.safetensors" ] || [ ! -f "$weights/rife-v4.25.safetensors" ]; then
    Scripts/fetch-rife.sh || echo "test: RIFE weights could not be fetched; their parity tests will be skipped" >&2
fi
swift build --product tween
# Swift Testing is not used; its empty run would print a misleading "0 tests" closing line.
swift test --disable-swift-testing "$@"
