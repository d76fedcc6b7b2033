#!/usr/bin/env bash
# Set up tune on Debian/Ubuntu from a fresh clone:
#  - system packages: the real Fashion-MNIST (dataset-fashion-mnist), PostgreSQL (for the
#    multi-worker tests), Chromium (PNG copies of plots);
#  - a virtual environment in .venv with tune, its dependencies and the test tools.
# Safe to run again. As a non-root user it uses sudo for apt-get.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if command -v apt-get >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3-venv dataset-fashion-mnist postgresql chromium >/dev/null
else
  echo "setup.sh: no apt-get here; install Fashion-MNIST yourself and pass --data-dir (see README)" >&2
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
echo "set up: .venv/bin/tune --help"
