#!/usr/bin/env bash
# Builds helm from its Go module into .tools/bin (no prebuilt binaries can be
# downloaded here). Idempotent: does nothing when the pinned version is there.
set -euo pipefail
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
HELM_VERSION=v3.19.5
PROJECT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$PROJECT/.tools/bin"
mkdir -p "$BIN"
if [ -x "$BIN/helm" ] && "$BIN/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
  exit 0
fi
echo "building helm $HELM_VERSION from its Go module..." >&2
# -ldflags sets the version string the binary reports (the Makefile does the same).
GOBIN="$BIN" CGO_ENABLED=0 go install \
  -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
"$BIN/helm" version --short
