#!/usr/bin/env bash
# Installs what the tests need on Debian/Ubuntu (.ci/apt-packages.txt), or stops naming the one command to run.
# Run by scripts/test.sh; OPENVISION_SKIP_SETUP=1 skips it where packages are managed otherwise.
# Exit status: 0 ready, 2 something is missing that this script may not install (the message says what to run).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "${OPENVISION_SKIP_SETUP:-0}" == 1 ]] && exit 0

if ! command -v dotnet >/dev/null 2>&1; then
  echo "openvision tests need the .NET 10 SDK: https://dotnet.microsoft.com/download (dotnet is not on PATH)" >&2
  exit 2
fi

mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' .ci/apt-packages.txt)
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "openvision tests need these Debian/Ubuntu packages or their equivalents: ${packages[*]}; this system has no apt-get," \
       "so install them yourself and run with OPENVISION_SKIP_SETUP=1" >&2
  exit 2
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
((${#missing[@]})) || exit 0

if [[ $(id -u) == 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "openvision tests need: sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi
echo "installing the packages the tests need: ${missing[*]}"
source scripts/apt-retry.sh
apt_retry "${as_root[@]}" apt-get update -qq
apt_retry "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
