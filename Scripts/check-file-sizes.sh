#!/usr/bin/env bash
# Fails when a file tracked by git is over 10 MB outside Sources/tween/Weights (the shipped float16 weights):
# float32 checkpoints, teacher caches and media stay out of the repository (docs/TRAINING.md, "Checkpoints and the
# repository"). Run by Scripts/test.sh, and so by CI, on the files of the checked-out commit.
#   Scripts/check-file-sizes.sh [LIMIT_BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-10000000}
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "check-file-sizes: not a git checkout; skipped" >&2
    exit 0
fi
found=0
while IFS= read -r -d '' path; do
    case "$path" in Sources/tween/Weights/*) continue ;; esac
    [ -f "$path" ] || continue
    size=$(stat -c %s "$path")
    if [ "$size" -gt "$limit" ]; then
        echo "check-file-sizes: $path: $size bytes, over the $limit-byte limit for tracked files outside Sources/tween/Weights" >&2
        found=1
    fi
done < <(git ls-files -z)
exit $found
