#!/usr/bin/env bash
# Installs the Debian packages Tween builds and tests with, when any is missing: FFmpeg's libraries and headers
# (libavformat, libavcodec, libswscale, libavutil, libavfilter), libpng, pkg-config, and the ffmpeg/ffprobe commands
# that the fixture script and the CLI tests use. Swift itself (6.x) must already be on PATH.
set -euo pipefail
packages=(pkg-config libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavfilter-dev libpng-dev ffmpeg)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "install-deps: swift not found on PATH (Swift 6 toolchain required)" >&2; exit 1; }
