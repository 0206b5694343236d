#!/usr/bin/env bash
# Installs everything ssm-harness needs to build, test and run, from Debian 12 packages and,
# for the JavaScript interop clients, the npm registry. Idempotent; runs as root or via sudo.
# Used by the README, .ci/run and docker/Dockerfile: keep it the one place that installs things.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  # libraries
  libboost1.81-dev libboost-url1.81-dev libssl-dev openssl nlohmann-json3-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libcli11-dev libspdlog-dev libfmt-dev
  # real third-party clients used by the interop tests
  awscli python3 python3-boto3 python3-botocore
  # pty, process and network helpers the tests use
  procps iproute2
)
# Node.js: keep an existing installation (it may come with its own npm), else Debian's.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm clients for the interop tests, pinned by the lock file, installed inside the tree.
# (SSMH_SKIP_NPM=1 skips them where only the service is built, e.g. the Docker image.)
if [ -z "${SSMH_SKIP_NPM:-}" ] && [ -f "$root/tests/interop/node/package.json" ]; then
  (cd "$root/tests/interop/node" &&
     { [ -d node_modules ] && npm ls --silent >/dev/null 2>&1 || npm ci --no-audit --no-fund --loglevel=error; })
fi
echo "install-deps: ok"
