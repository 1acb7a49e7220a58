#!/usr/bin/env bash
# Shell completions (bash, zsh, fish) and man pages for synccli and syncserver, generated from
# their argument parsers, so they always match `--help`.
#
#   scripts/install-cli-extras.sh [PREFIX]      # default PREFIX: ~/.local (use /usr/local as root)
#
# Installs into PREFIX/share/{bash-completion/completions,zsh/site-functions,
# fish/vendor_completions.d,man/man1}. Uses the release binaries (built if missing; BIN=DIR to use
# others) and argument-parser's generate-manual tool (built from the package's dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:-$HOME/.local}
BIN=${BIN:-.build/release}
if [[ ! -x $BIN/synccli || ! -x $BIN/syncserver ]]; then
    swift build -c release --product synccli
    swift build -c release --product syncserver
fi
CONFIG=${CONFIG:-release}   # of the generate-manual tool
swift build -c "$CONFIG" --product generate-manual >/dev/null
MANUAL=$(swift build -c "$CONFIG" --show-bin-path)/generate-manual

share=$PREFIX/share
install -d "$share/bash-completion/completions" "$share/zsh/site-functions" "$share/fish/vendor_completions.d" "$share/man/man1"
for tool in synccli syncserver; do
    "$BIN/$tool" --generate-completion-script bash >"$share/bash-completion/completions/$tool"
    "$BIN/$tool" --generate-completion-script zsh >"$share/zsh/site-functions/_$tool"
    "$BIN/$tool" --generate-completion-script fish >"$share/fish/vendor_completions.d/$tool.fish"
    "$MANUAL" "$BIN/$tool" --multi-page --authors "ArticleSync" -o "$share/man/man1"
done
echo "installed completions and $(ls "$share/man/man1" | grep -c -E '^(synccli|syncserver)') man pages under $share"
echo "man synccli, man synccli.sync …; start a new shell for completions (zsh: fpath+=($share/zsh/site-functions))"
