#!/usr/bin/env bash
# The natsrpc demo, end to end on this machine:
#   1. installs missing Debian packages (scripts/packages.txt; needs root),
#   2. builds the calculator example in build/,
#   3. starts nats-server on a free port of 127.0.0.1,
#   4. starts examples/calculator/server.cc as responder "bob",
#   5. runs examples/calculator/client.cc as requester "alice" against it,
#      then fetches the server's /metrics (Prometheus text) with curl and
#      prints its per-method request counts,
#   6. does the same with the streaming example (examples/streaming: file
#      download and upload, a chat, a cancelled download),
#   7. pokes the running services with the `natsrpc` command-line client
#      (tools/natsrpc, docs/cli.md): ls, describe, call,
#   8. stops the processes it started.
# Prints the client's results and the server's log; exits non-zero if any
# step or any call fails.
#
#   scripts/demo.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
# NATSRPC_BUILD_DIR overrides the build directory (default: build/).
build="${NATSRPC_BUILD_DIR:-${root}/build}"

# shellcheck source=scripts/lib.sh
source "${root}/scripts/lib.sh"

say() { echo "== $*"; }

say "checking Debian packages"
scripts/install-deps.sh

say "building the calculator example in ${build}"
cmake -S . -B "${build}" -DCMAKE_BUILD_TYPE=Release \
  -DNATSRPC_BUILD_EXAMPLES=ON -DNATSRPC_BUILD_TESTS=OFF >/dev/null
cmake --build "${build}" -j"$(nproc)" --target calculator_server \
  calculator_client streaming_server streaming_client natsrpc_cli

work="$(mktemp -d)"
NATS_PID=""
server_pid=""
streaming_pid=""
cleanup() {
  local status=$?
  # Exactly the processes started here, newest first.
  natsrpc_stop "${streaming_pid}"
  natsrpc_stop "${server_pid}"
  natsrpc_stop "${NATS_PID}"
  rm -rf "${work}"
  exit "${status}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting nats-server on 127.0.0.1"
if ! natsrpc_start_nats_server "${work}/nats.log"; then
  echo "demo: could not start nats-server; its last log:" >&2
  cat "${work}/nats.log" >&2 || true
  exit 1
fi
port="${NATS_PORT}"
url="nats://127.0.0.1:${port}"
echo "nats-server (pid ${NATS_PID}) listening on ${url}"

say "starting calculator_server --responder bob --metrics_port 0"
"${build}/examples/calculator_server" --url "${url}" --responder bob \
  --metrics_port 0 >"${work}/server.log" 2>&1 &
server_pid=$!
if ! natsrpc_wait_for_line "${work}/server.log" 10 "serving" "${server_pid}"; then
  echo "demo: calculator_server did not start:" >&2
  cat "${work}/server.log" >&2
  exit 1
fi
cat "${work}/server.log"

say "running calculator_client --requester alice --responder bob"
client_status=0
"${build}/examples/calculator_client" --url "${url}" --requester alice \
  --responder bob || client_status=$?

say "calculator_server log"
# Lines 1 and 2 are the metrics address and "serving".
sed -n '3,$p' "${work}/server.log"

metrics_url="$(sed -n 's/^calculator_server: metrics on \(http[^ ]*\)$/\1/p' \
  "${work}/server.log")"
say "calculator_server metrics: curl -s $(sed 's/:[0-9][0-9]*\//:<port>\//' <<<"${metrics_url}") | grep requests_total"
if ! curl -sf "${metrics_url}" >"${work}/metrics.txt"; then
  say "demo FAILED (cannot fetch ${metrics_url})"
  exit 1
fi
grep '^natsrpc_server_requests_total' "${work}/metrics.txt"

if ((client_status != 0)); then
  say "demo FAILED (calculator_client exited ${client_status})"
  exit 1
fi

say "starting streaming_server --responder bob"
"${build}/examples/streaming_server" --url "${url}" --responder bob \
  >"${work}/streaming.log" 2>&1 &
streaming_pid=$!
if ! natsrpc_wait_for_line "${work}/streaming.log" 10 "serving" \
  "${streaming_pid}"; then
  echo "demo: streaming_server did not start:" >&2
  cat "${work}/streaming.log" >&2
  exit 1
fi
cat "${work}/streaming.log"

say "running streaming_client --requester alice --responder bob"
streaming_status=0
"${build}/examples/streaming_client" --url "${url}" --requester alice \
  --responder bob || streaming_status=$?

say "streaming_server log"
# The cancelled download is the last stream; its handler ends right after.
natsrpc_wait_for_line "${work}/streaming.log" 10 "CANCELLED" \
  "${streaming_pid}" || true
sed -n '2,$p' "${work}/streaming.log"

if ((streaming_status != 0)); then
  say "demo FAILED (streaming_client exited ${streaming_status})"
  exit 1
fi

# The command-line client against the same running services: what
# README.md's "The natsrpc command" shows.
cli=("${build}/tools/natsrpc/natsrpc" --url "${url}" --requester alice)
say "natsrpc ls"
"${cli[@]}" ls
say "natsrpc describe Calculator/Divide"
"${cli[@]}" describe Calculator/Divide
say "natsrpc call Calculator/Add '{\"a\": 2, \"b\": 3}'"
"${cli[@]}" call Calculator/Add '{"a": 2, "b": 3}'
say "natsrpc call Calculator/Divide '{\"dividend\": 1}'; echo \"exit \$?\""
cli_status=0
"${cli[@]}" call Calculator/Divide '{"dividend": 1}' || cli_status=$?
echo "exit ${cli_status}"
if ((cli_status != 64 + 3)); then
  say "demo FAILED (natsrpc call Divide by 0 exited ${cli_status}, not 67)"
  exit 1
fi
say "printf '{\"data\": \"aGVsbG8g\"}\\n{\"offset\": 6, \"data\": \"d29ybGQ=\"}\\n' | natsrpc call FileStore/Upload --metadata x-file-name=hello.txt"
printf '{"data": "aGVsbG8g"}\n{"offset": 6, "data": "d29ybGQ="}\n' |
  "${cli[@]}" call FileStore/Upload --metadata x-file-name=hello.txt
say "natsrpc call FileStore/Download '{\"name\": \"hello.txt\", \"chunk_size\": 6}'"
"${cli[@]}" call FileStore/Download '{"name": "hello.txt", "chunk_size": 6}'
say "printf '{\"from\": \"alice\", \"text\": \"hi there\"}\\n' | natsrpc call ChatRoom/Chat"
printf '{"from": "alice", "text": "hi there"}\n' | "${cli[@]}" call ChatRoom/Chat

say "demo OK"
