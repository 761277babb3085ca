#!/usr/bin/env bash
# Debian packages the whole test suite needs: headless Chromium + its driver + a Chinese font for the browser
# tests (never a downloaded browser), and the PostgreSQL server for the second run. Installs only what is
# missing; needs root (CI and these machines run as root).
set -euo pipefail
needed=()
for pkg in chromium chromium-driver fonts-wqy-microhei postgresql; do
  dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
if [ ${#needed[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${needed[*]} — run as root: apt-get install -y ${needed[*]}" >&2
  exit 1
fi
echo "installing ${needed[*]} …"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${needed[@]}" >/dev/null
