#!/usr/bin/env bash
# Builds natsrpc with its tests (and benchmarks, when bench/ has a
# CMakeLists.txt) in build/ and runs them all with ctest: unit tests,
# generator golden files, integration tests on a real nats-server (started on
# 127.0.0.1 by the tests themselves) and the install/consumer package test.
# Installs missing Debian packages first (scripts/packages.txt; needs root).
# Prints ctest's summary and exits with its status.
#
#   scripts/test.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
# NATSRPC_BUILD_DIR overrides the build directory (default: build/).
build="${NATSRPC_BUILD_DIR:-${root}/build}"

echo "== checking Debian packages"
scripts/install-deps.sh

options=(-DNATSRPC_BUILD_TESTS=ON -DNATSRPC_BUILD_EXAMPLES=ON)
if [[ -f bench/CMakeLists.txt ]]; then
  options+=(-DNATSRPC_BUILD_BENCHMARKS=ON)
else
  options+=(-DNATSRPC_BUILD_BENCHMARKS=OFF)
fi

echo "== configuring ${build} (${options[*]})"
cmake -S . -B "${build}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${options[@]}"
echo "== building"
cmake --build "${build}" -j"$(nproc)"

echo "== running ctest"
status=0
(cd "${build}" && ctest --output-on-failure) || status=$?
exit "${status}"
