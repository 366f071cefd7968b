#!/usr/bin/env bash
# Installs Debian's prometheus package (the dashboards test runs it itself on a
# loopback port). Idempotent. The package's own service is kept from starting:
# a policy-rc.d that denies every start is in place only during the install.
set -euo pipefail
if command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
POLICY=/usr/sbin/policy-rc.d
had_policy=0
[ -e "$POLICY" ] && had_policy=1
if [ "$had_policy" = 0 ]; then
  printf '#!/bin/sh\nexit 101\n' > "$POLICY"
  chmod +x "$POLICY"
  trap 'rm -f "$POLICY"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# If an init system started it anyway, stop the packaged service.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus || true
  systemctl disable prometheus || true
fi
/usr/bin/prometheus --version | head -1
