#!/usr/bin/env bash
# The README's test command, and what .ci/run runs. Installs missing Debian
# packages first (scripts/packages.txt; needs root), then runs every test in
# three parts, stopping at the first that fails:
#
#   1. the suite: natsrpc built with its tests, examples and benchmarks in
#      build/, then ctest: unit tests, generator golden files, integration
#      tests on a real nats-server (started on 127.0.0.1 by the tests
#      themselves; the fault, security and hostile-input suites among them),
#      the fuzz corpora replayed, the conformance suites and the
#      install/consumer package test;
#   2. the same suite built with ASan+UBSan in build-asan/ (every UBSan
#      report is fatal; benchmarks and the package test left out: the
#      package test installs and rebuilds an out-of-tree project with its own
#      flags);
#   3. every fuzzer built with clang and libFuzzer in build-fuzz/ and run
#      for 30 s (scripts/fuzz.sh; NATSRPC_CI_FUZZ_SECONDS changes it).
#
# It prints each part's wall time at the end and exits with the status of
# the part that failed (0 and "==== tests OK" when none did).
#
#   scripts/test.sh              # all three parts
#   scripts/test.sh --suite      # part 1 only
#   scripts/test.sh --sanitize   # part 2 only
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
# With --suite or --sanitize, NATSRPC_BUILD_DIR overrides the build directory.
sanitize=0
all=1
for arg in "$@"; do
  case "${arg}" in
    --sanitize) sanitize=1; all=0 ;;
    --suite) all=0 ;;
    *) echo "test.sh: unknown argument ${arg}" >&2; exit 2 ;;
  esac
done
if ((all)); then
  times=()
  run_part() {
    local name=$1 start=${SECONDS} status=0
    shift
    echo "==== ${name}: $*"
    "$@" || status=$?
    times+=("${name}: $((SECONDS - start)) s, exit ${status}")
    if ((status != 0)); then
      printf '==== times\n'; printf '%s\n' "${times[@]}"
      echo "==== tests FAILED in ${name}" >&2
      exit "${status}"
    fi
  }
  run_part "suite" "${root}/scripts/test.sh" --suite
  run_part "sanitizer suite" "${root}/scripts/test.sh" --sanitize
  run_part "fuzzers" "${root}/scripts/fuzz.sh" "${NATSRPC_CI_FUZZ_SECONDS:-30}"
  printf '==== times\n'; printf '%s\n' "${times[@]}"
  echo "==== tests OK"
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
