#!/usr/bin/env bash
# Installs the Debian packages of scripts/packages.txt that are missing.
# As root it runs `apt-get update` and `apt-get install`; otherwise it prints
# the command to run and fails. Prints nothing when all are installed.
#
#   scripts/install-deps.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "${here}/packages.txt" | grep -v '^$')

missing=()
for package in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "${package}" 2>/dev/null || true)"
  if [[ "${status}" != "install ok installed" ]]; then
    missing+=("${package}")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "natsrpc: missing Debian packages: ${missing[*]}"
if ((EUID != 0)); then
  echo "natsrpc: not root; run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
