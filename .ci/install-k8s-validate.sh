#!/usr/bin/env bash
# Builds .ci/k8s-validate once per target Kubernetes version into .tools/bin:
#   k8s-validate-1.35 from go.mod (current), k8s-validate-1.27 from go.1.27.mod (old).
# Idempotent: rebuilds only when a source or module file is newer than the binary.
set -euo pipefail
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
PROJECT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$PROJECT/.ci/k8s-validate"
BIN="$PROJECT/.tools/bin"
mkdir -p "$BIN"
build() { # version modfile
  local out="$BIN/k8s-validate-$1"
  if [ -x "$out" ] && [ -z "$(find "$SRC" -newer "$out" -type f)" ]; then return 0; fi
  echo "building k8s-validate for Kubernetes $1..." >&2
  (cd "$SRC" && CGO_ENABLED=0 go build -modfile="$2" -trimpath -o "$out" .)
}
build 1.35 go.mod
build 1.27 go.1.27.mod
