#!/usr/bin/env bash
# Builds the fuzzers of tests/fuzz with clang and libFuzzer (plus ASan and
# UBSan, everything instrumented) in build-fuzz/ and runs each for a bounded
# time, starting from its committed corpus (tests/fuzz/corpus/<name>). Exits
# non-zero if any fuzzer finds a crash, a leak, undefined behaviour or a
# broken check; the input that did it is saved in
# build-fuzz/artifacts/<name>/ (docs/fuzzing.md says how to reproduce it and
# add it to the corpus). Installs missing Debian packages first
# (scripts/packages.txt; needs root).
#
#   scripts/fuzz.sh                  # every fuzzer, 60 s each
#   scripts/fuzz.sh 30               # every fuzzer, 30 s each
#   scripts/fuzz.sh 600 server_receive reply_mux   # only these
#
# New inputs libFuzzer finds go to build-fuzz/corpus/<name> (not committed).
# Prints, per fuzzer, the executions and the corpus size reached.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
seconds="${1:-60}"
if ! [[ "${seconds}" =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "fuzz.sh: seconds per target must be a positive number, not ${seconds}" >&2
  exit 2
fi
shift || true
all=(header_block timeout subjects metadata server_receive reply_mux
     flatbuffers fbs_front_end)
if (($# > 0)); then
  targets=("$@")
else
  targets=("${all[@]}")
fi
# NATSRPC_FUZZ_BUILD_DIR overrides the build directory (default build-fuzz/).
build="${NATSRPC_FUZZ_BUILD_DIR:-${root}/build-fuzz}"

echo "== checking Debian packages"
scripts/install-deps.sh

options=(-DNATSRPC_BUILD_FUZZERS=ON -DNATSRPC_BUILD_TESTS=ON
         -DNATSRPC_BUILD_EXAMPLES=OFF -DNATSRPC_BUILD_BENCHMARKS=OFF
         -DCMAKE_CXX_COMPILER=clang++)
if command -v ccache >/dev/null; then
  options+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
echo "== configuring ${build} (${options[*]})"
cmake -S . -B "${build}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${options[@]}"
echo "== building the fuzzers"
build_targets=()
for t in "${targets[@]}"; do build_targets+=("${t}_fuzzer"); done
cmake --build "${build}" -j"$(nproc)" --target "${build_targets[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
summary=()
for t in "${targets[@]}"; do
  binary="${build}/tests/fuzz/${t}_fuzzer"
  seeds="${root}/tests/fuzz/corpus/${t}"
  corpus="${build}/corpus/${t}"
  artifacts="${build}/artifacts/${t}/"
  log="${build}/fuzz-${t}.log"
  mkdir -p "${corpus}" "${artifacts}"
  echo "== fuzzing ${t} for ${seconds} s (log: ${log})"
  status=0
  # New inputs go to the first directory; the seeds are read only.
  "${binary}" -max_total_time="${seconds}" -timeout=30 -rss_limit_mb=4096 \
    -max_len=8192 -print_final_stats=1 -artifact_prefix="${artifacts}" \
    "${corpus}" "${seeds}" >"${log}" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "${log}" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "${log}" | tail -1)"
  units="$(find "${corpus}" -type f | wc -l)"
  line="${t}: ${execs:-?} executions (${rate:-?}/s), ${units} new corpus inputs"
  if ((status != 0)); then
    line+=", FAILED (exit ${status})"
    failed+=("${t}")
    echo "---- ${log} (end)"
    tail -n 60 "${log}"
    echo "---- artifacts: $(ls "${artifacts}" 2>/dev/null | tr '\n' ' ')"
  fi
  echo "${line}"
  summary+=("${line}")
done

echo "== fuzz summary (${seconds} s per target)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "fuzz.sh: FAILED: ${failed[*]}; inputs in ${build}/artifacts/ (docs/fuzzing.md)" >&2
  exit 1
fi
echo "== fuzz OK"
