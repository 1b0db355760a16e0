#!/usr/bin/env bash
# Installs tween with its bundled weights under a prefix, so it runs from any folder:
#   PREFIX/lib/tween/tween and PREFIX/lib/tween/Tween_tween.resources (the weights trained here),
#   PREFIX/bin/tween (a link to it), shell completions for bash, zsh and fish, and the man page when SwiftPM's
#   generate-manual plugin can write it.
# Usage: Scripts/install.sh [--prefix DIR] [--from BIN_DIR] [--no-man]
#   --prefix DIR   where to install (default ~/.local; /usr/local needs root)
#   --from BIN_DIR copy an existing build (a folder holding tween and Tween_tween.resources) instead of building
#                  with `swift build -c release`
#   --no-man       skip the man page (it needs SwiftPM, which must not run while another SwiftPM holds .build)
# RIFE's official weights are not part of the package: Scripts/fetch-rife.sh converts them into
# ~/.local/share/tween/models, which the installed command reads as well.
set -euo pipefail
prefix="$HOME/.local"; from=""; manual=1
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=${2:?--prefix needs a folder}; shift 2 ;;
        --from) from=${2:?--from needs a folder}; shift 2 ;;
        --no-man) manual=0; shift ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")/.."
if [ -z "$from" ]; then
    swift build -c release --product tween
    from=$(swift build -c release --show-bin-path)
fi
[ -x "$from/tween" ] && [ -d "$from/Tween_tween.resources" ] || {
    echo "install.sh: $from holds no tween build (tween and Tween_tween.resources)" >&2; exit 1; }

lib="$prefix/lib/tween"
mkdir -p "$prefix/bin" "$lib" "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
    "$prefix/share/fish/vendor_completions.d" "$prefix/share/man/man1"
# Copy under temporary names, then rename, so a running tween never sees half a file.
cp "$from/tween" "$lib/.tween.new" && mv -f "$lib/.tween.new" "$lib/tween"
rm -rf "$lib/.resources.new" && cp -R "$from/Tween_tween.resources" "$lib/.resources.new"
rm -rf "$lib/Tween_tween.resources" && mv "$lib/.resources.new" "$lib/Tween_tween.resources"
ln -sfn ../lib/tween/tween "$prefix/bin/tween"

"$lib/tween" --generate-completion-script bash > "$prefix/share/bash-completion/completions/tween"
"$lib/tween" --generate-completion-script zsh > "$prefix/share/zsh/site-functions/_tween"
"$lib/tween" --generate-completion-script fish > "$prefix/share/fish/vendor_completions.d/tween.fish"

man=$(mktemp -d); trap 'rm -rf "$man"' EXIT
if [ "$manual" = 0 ]; then
    :
elif swift package --allow-writing-to-directory "$man" generate-manual --output-directory "$man" >/dev/null 2>&1 \
        && [ -f "$man/tween.1" ]; then
    cp "$man/tween.1" "$prefix/share/man/man1/tween.1"
else
    echo "install.sh: no man page (SwiftPM's generate-manual plugin did not run); tween --help covers everything" >&2
fi
echo "installed $prefix/bin/tween ($("$prefix/bin/tween" --version)); add $prefix/bin to PATH if it is not there"
