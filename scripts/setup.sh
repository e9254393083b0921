#!/usr/bin/env bash
# Installs what clconv needs on Debian 12 (as root, or through sudo), once.
set -euo pipefail
PKGS=(build-essential cmake pkg-config ocl-icd-opencl-dev opencl-headers pocl-opencl-icd
      libclblast-dev check clinfo
      oclgrind mesa-opencl-icd   # the Oclgrind and rusticl CI stages
      python3-numpy python3-pytest python3-torch python3-pyopencl  # the Python stage
      python3-pip python3-setuptools python3-venv)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
