#!/usr/bin/env bash
# Builds natsrpc with its tests (and benchmarks, when bench/ has a
# CMakeLists.txt) in build/ and runs them all with ctest: unit tests,
# generator golden files, integration tests on a real nats-server (started on
# 127.0.0.1 by the tests themselves) and the install/consumer package test.
# Installs missing Debian packages first (scripts/packages.txt; needs root).
# Prints ctest's summary and exits with its status.
#
#   scripts/test.sh              # the suite
#   scripts/test.sh --sanitize   # the suite built with ASan+UBSan, in build-asan/
#   scripts/test.sh --ci         # what .ci/run runs: the suite, then the
#                                # suite under ASan+UBSan, then every fuzzer
#                                # for 30 s (scripts/fuzz.sh 30)
#
# --sanitize builds with -fsanitize=address,undefined (every UBSan report is
# fatal) and runs every test but the package test (which installs and
# rebuilds an out-of-tree project with its own flags).
#
# --ci stops at the first part that fails and exits with its status; it
# prints each part's wall time at the end. NATSRPC_CI_FUZZ_SECONDS changes
# the fuzzing time per fuzzer (default 30).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
# NATSRPC_BUILD_DIR overrides the build directory (default: build/).
sanitize=0
ci=0
for arg in "$@"; do
  case "${arg}" in
    --sanitize) sanitize=1 ;;
    --ci) ci=1 ;;
    *) echo "test.sh: unknown argument ${arg}" >&2; exit 2 ;;
  esac
done
if ((ci)); then
  if ((sanitize)); then
    echo "test.sh: --ci already includes --sanitize" >&2
    exit 2
  fi
  times=()
  run_part() {
    local name=$1 start=${SECONDS} status=0
    shift
    echo "==== CI: ${name}: $*"
    "$@" || status=$?
    times+=("${name}: $((SECONDS - start)) s, exit ${status}")
    if ((status != 0)); then
      printf '==== CI times\n'; printf '%s\n' "${times[@]}"
      echo "==== CI FAILED in ${name}" >&2
      exit "${status}"
    fi
  }
  run_part "suite" "${root}/scripts/test.sh"
  run_part "sanitizer suite" "${root}/scripts/test.sh" --sanitize
  run_part "fuzzers" "${root}/scripts/fuzz.sh" "${NATSRPC_CI_FUZZ_SECONDS:-30}"
  printf '==== CI times\n'; printf '%s\n' "${times[@]}"
  echo "==== CI OK"
  exit 0
fi
if ((sanitize)); then
  build="${NATSRPC_BUILD_DIR:-${root}/build-asan}"
else
  build="${NATSRPC_BUILD_DIR:-${root}/build}"
fi

echo "== checking Debian packages"
scripts/install-deps.sh

options=(-DNATSRPC_BUILD_TESTS=ON -DNATSRPC_BUILD_EXAMPLES=ON)
if ((sanitize)); then
  # The benchmarks measure speed, not correctness: not worth an ASan build.
  options+=(-DNATSRPC_BUILD_BENCHMARKS=OFF)
elif [[ -f bench/CMakeLists.txt ]]; then
  options+=(-DNATSRPC_BUILD_BENCHMARKS=ON)
else
  options+=(-DNATSRPC_BUILD_BENCHMARKS=OFF)
fi

ctest_args=(--output-on-failure)
if ((sanitize)); then
  flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
  flags+=" -fno-omit-frame-pointer"
  options+=("-DCMAKE_CXX_FLAGS=${flags}" "-DCMAKE_EXE_LINKER_FLAGS=${flags}"
            "-DCMAKE_SHARED_LINKER_FLAGS=${flags}")
  ctest_args+=(-E '^package_consumer$')
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
fi
if command -v ccache >/dev/null; then
  options+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

echo "== configuring ${build} (${options[*]})"
cmake -S . -B "${build}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${options[@]}"
echo "== building"
cmake --build "${build}" -j"$(nproc)"

echo "== running ctest"
status=0
(cd "${build}" && ctest "${ctest_args[@]}") || status=$?
exit "${status}"
