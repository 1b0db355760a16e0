#!/usr/bin/env bash
# The test suite: installs what it needs, builds the tween executable that the CLI tests run, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build --product tween
swift test "$@"
