#!/usr/bin/env bash
# The test suite: installs what it needs, builds the tween executable that the CLI tests run, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build --product tween
# Swift Testing is not used; its empty run would print a misleading "0 tests" closing line.
swift test --disable-swift-testing "$@"
