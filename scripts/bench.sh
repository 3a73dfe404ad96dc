#!/usr/bin/env bash
# Benchmarks natsrpc against raw nats.c and gRPC C++ on this machine and
# writes the report (see docs/benchmarks.md).
#
#   scripts/bench.sh                 # full run, ~8 minutes on 2 vCPUs
#   scripts/bench.sh --reps 5 --seconds 2
#   scripts/bench.sh --quick         # smoke run; does not touch the report
#
# Steps: installs the Debian packages it needs (scripts/packages.txt through
# scripts/install-deps.sh, plus python3-matplotlib for the chart; needs root,
# runs apt-get update first), configures a Release build with
# -DNATSRPC_BUILD_BENCHMARKS=ON in build-bench-release/, builds natsrpc_bench,
# runs it (it starts and stops its own nats-server on a free 127.0.0.1 port),
# and writes
#   bench/results/latest.json   all figures (natsrpc_bench --json)
#   bench/results/latest.txt    the table natsrpc_bench printed
#   docs/benchmarks.png         the chart
#   docs/benchmarks.md          its generated section (targets and tables)
#   bench/results/streams.{json,txt}, bench/results/fanout.{json,txt}
#                               natsrpc_stream_bench's and
#                               natsrpc_fanout_bench's figures
# Arguments are passed to natsrpc_bench (see natsrpc_bench --help).
# Environment: JOBS (build parallelism, default 2), BUILD_DIR.
# Run it on an otherwise idle machine: the figures are only as quiet as it is.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
build_dir="${BUILD_DIR:-${root}/build-bench-release}"
jobs="${JOBS:-2}"

# --- packages -------------------------------------------------------------
if [[ -x scripts/install-deps.sh ]]; then
  scripts/install-deps.sh
else
  packages=(cmake g++ pkg-config nats-server libnats-dev libprotobuf-dev
            libprotoc-dev protobuf-compiler libabsl-dev libbenchmark-dev
            libgrpc++-dev protobuf-compiler-grpc)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${packages[@]}"
fi
# The chart is drawn by Debian's python3 with Debian's matplotlib (PyPI is
# not reachable), whatever other python3 is first on PATH.
python=/usr/bin/python3
if ! { [[ -x "${python}" ]] && "${python}" -c 'import matplotlib' 2>/dev/null; }; then
  echo "bench.sh: installing python3-matplotlib"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends python3 python3-matplotlib
fi

# --- build ----------------------------------------------------------------
cmake -S "${root}" -B "${build_dir}" -DCMAKE_BUILD_TYPE=Release \
  -DNATSRPC_BUILD_BENCHMARKS=ON -DNATSRPC_BUILD_TESTS=OFF \
  -DNATSRPC_BUILD_EXAMPLES=OFF
cmake --build "${build_dir}" -j "${jobs}" --target natsrpc_bench \
  natsrpc_stream_bench natsrpc_fanout_bench

# --- run ------------------------------------------------------------------
quick=0
for arg in "$@"; do
  [[ "${arg}" == "--quick" ]] && quick=1
done
if ((quick)); then
  # A smoke run's figures mean nothing: keep them out of the report.
  json="${build_dir}/bench-quick.json"
  text="${build_dir}/bench-quick.txt"
  png="${build_dir}/bench-quick.png"
  streams_json="${build_dir}/streams-quick.json"
  streams_text="${build_dir}/streams-quick.txt"
  fanout_json="${build_dir}/fanout-quick.json"
  fanout_text="${build_dir}/fanout-quick.txt"
else
  mkdir -p bench/results
  json=bench/results/latest.json
  text=bench/results/latest.txt
  png=docs/benchmarks.png
  streams_json=bench/results/streams.json
  streams_text=bench/results/streams.txt
  fanout_json=bench/results/fanout.json
  fanout_text=bench/results/fanout.txt
fi
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  commit="${commit}+local changes"
fi

rc=0
"${build_dir}/bench/natsrpc_bench" --json "${json}" --note "commit ${commit}" \
  "$@" | tee "${text}" || rc=$?

# --- report ---------------------------------------------------------------
# Streams (natsrpc_stream_bench, about a minute): server, client and bidi
# streams beside gRPC C++ and raw nats.c one-way publish.
stream_args=(--json "${streams_json}" --note "commit ${commit}")
((quick)) && stream_args+=(--quick)
"${build_dir}/bench/natsrpc_stream_bench" "${stream_args[@]}" \
  | tee "${streams_text}" || rc=$?
report_args=()
[[ -s "${streams_json}" ]] && report_args=(--streams "${streams_json}")

# Fan-out (natsrpc_fanout_bench, about two minutes): events and scatter-gather
# to 3 instances beside raw nats.c doing the same.
fanout_args=(--json "${fanout_json}" --note "commit ${commit}")
((quick)) && fanout_args+=(--quick)
"${build_dir}/bench/natsrpc_fanout_bench" "${fanout_args[@]}" \
  | tee "${fanout_text}" || rc=$?
[[ -s "${fanout_json}" ]] && report_args+=(--fanout "${fanout_json}")

if [[ -s "${json}" ]]; then
  if ((quick)); then
    "${python}" bench/report.py "${json}" --png "${png}" "${report_args[@]}"
  else
    "${python}" bench/report.py "${json}" --png "${png}" "${report_args[@]}" \
      --update-doc docs/benchmarks.md
  fi
  echo "bench.sh: wrote ${json}, ${text} and ${png}"
fi
if ((rc != 0)); then
  echo "bench.sh: natsrpc_bench exited with ${rc} (a row failed; see above)" >&2
fi
exit "${rc}"
