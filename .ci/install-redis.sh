#!/usr/bin/env bash
# Installs Debian's redis-server when it is missing (tests start their own
# instances on random loopback ports; no system service is left running).
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
# The package may start a service on 6379; stop it so only test instances run.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
$SUDO service redis-server stop >/dev/null 2>&1 || true
command -v redis-server >/dev/null
