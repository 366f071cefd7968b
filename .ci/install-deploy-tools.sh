#!/usr/bin/env bash
# Everything test/deploy needs: helm (built from its Go module), the Kubernetes
# manifest validators (one per target version), Debian's prometheus/promtool,
# and hadolint. Each script is idempotent.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$HERE/install-helm.sh"
bash "$HERE/install-k8s-validate.sh"
bash "$HERE/install-prometheus.sh"
bash "$HERE/install-hadolint.sh"
