#!/usr/bin/env bash
# Builds a real OpenTelemetry Collector for the tests with the collector's
# official builder (ocb), from Go modules only: OTLP receiver + file and
# debug exporters (manifest: .ci/otelcol-builder.yaml).
# Output: .tools/bin/otelcol. Idempotent: does nothing when it is there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin"
target="$bin/otelcol"
# Keep in step with the versions in the manifest. (From v0.163 the OTLP
# receiver needs a module the Go module proxy does not serve.)
builder_version="v0.162.0"

if [[ -x "$target" ]]; then
  echo "otelcol: already built at $target"
  exit 0
fi
command -v go >/dev/null || { echo "otelcol: Go is required to build the collector" >&2; exit 1; }

mkdir -p "$bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

export GOBIN="$work/gobin"
echo "otelcol: installing builder $builder_version"
go install "go.opentelemetry.io/collector/cmd/builder@$builder_version"

cp "$root/.ci/otelcol-builder.yaml" "$work/manifest.yaml"
echo "otelcol: generating sources"
# The builder's own `go mod tidy` also fetches the test-only dependencies of
# the file exporter, some of which the module proxy refuses; they are not
# needed to build, so generate, tidy with -e, and compile ourselves.
(cd "$work" && "$GOBIN/builder" --config manifest.yaml --skip-compilation) || true
[[ -f "$work/build/go.mod" ]] || { echo "otelcol: the builder did not generate sources" >&2; exit 1; }
echo "otelcol: compiling (takes a minute or two)"
(cd "$work/build" && go mod tidy -e >/dev/null 2>&1 && go build -trimpath -ldflags="-s -w" -o otelcol .)
install -m 0755 "$work/build/otelcol" "$target"
"$target" --version
