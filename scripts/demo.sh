#!/usr/bin/env bash
# The main job on a fresh machine: installs Fashion-MNIST if missing, builds the CLI, then trains a small OpenVision
# encoder from scratch (CLIPS losses, 16 -> 24 px) and reports zero-shot accuracy on the 10,000 test images.
# Extra arguments go to `openvision demo` (e.g. --high-res-epochs 2 --output my-run).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data=/usr/share/datasets/fashion-mnist
if [[ -z "${OPENVISION_FASHION_MNIST:-}" && ! -f "$data/t10k-labels-idx1-ubyte.gz" ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "installing Debian's dataset-fashion-mnist ..."
    source "$root/scripts/apt-retry.sh"
    apt_retry apt-get update -qq
    apt_retry env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
  else
    echo "Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist'" >&2
    echo "(or set OPENVISION_FASHION_MNIST to a folder with the four IDX files)" >&2
    exit 1
  fi
fi
exec "$root/openvision" demo "$@"
