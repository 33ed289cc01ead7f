#!/usr/bin/env bash
# Installs everything tinytorch needs to build, test and run its milestones (Debian 12, as root).
set -euo pipefail
packages=(
  g++ cmake ninja-build ccache pkg-config
  libxtensor-dev xtl-dev libxsimd-dev    # arrays
  libopenblas-dev                        # cblas_sgemm
  libfmt-dev libcli11-dev nlohmann-json3-dev zlib1g-dev
  libgtest-dev libbenchmark-dev          # tests and benchmarks
  clang-14 libclang-rt-14-dev            # the fuzz preset: libFuzzer, ASan and UBSan runtimes
  dataset-fashion-mnist                  # LeNet-5 milestone data (/usr/share/datasets/fashion-mnist)
  libopenmpi-dev openmpi-bin             # tinytorch::distributed and mpirun
  python3                                # the tests' checkers (report pages, guide tables)
  chromium                               # the report's browser test (headless screenshots)
)
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (or with sudo)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "install-deps.sh: ${#packages[@]} packages present"
