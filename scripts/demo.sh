#!/usr/bin/env bash
# The natsrpc demo, end to end on this machine:
#   1. installs missing Debian packages (scripts/packages.txt; needs root),
#   2. builds the calculator example in build/,
#   3. starts nats-server on a free port of 127.0.0.1,
#   4. starts examples/calculator/server.cc as responder "bob",
#   5. runs examples/calculator/client.cc as requester "alice" against it,
#   6. stops the two processes it started.
# Prints the client's results and the server's log; exits non-zero if any
# step or any call fails.
#
#   scripts/demo.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
# NATSRPC_BUILD_DIR overrides the build directory (default: build/).
build="${NATSRPC_BUILD_DIR:-${root}/build}"

say() { echo "== $*"; }

say "checking Debian packages"
scripts/install-deps.sh

say "building the calculator example in ${build}"
cmake -S . -B "${build}" -DCMAKE_BUILD_TYPE=Release \
  -DNATSRPC_BUILD_EXAMPLES=ON -DNATSRPC_BUILD_TESTS=OFF >/dev/null
cmake --build "${build}" -j"$(nproc)" --target calculator_server calculator_client

work="$(mktemp -d)"
nats_pid=""
server_pid=""
# Stops one process started here: SIGTERM, then SIGKILL after 5 seconds.
stop() {
  local pid=$1
  [[ -n "${pid}" ]] || return 0
  kill -TERM "${pid}" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "${pid}" 2>/dev/null || true
  wait "${pid}" 2>/dev/null || true
}
cleanup() {
  local status=$?
  # Exactly the processes started here, newest first.
  stop "${server_pid}"
  stop "${nats_pid}"
  rm -rf "${work}"
  exit "${status}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to $2 seconds for file $1 to contain $3 while process $4 lives.
wait_for_line() {
  local file=$1 seconds=$2 pattern=$3 pid=$4
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    grep -q -- "${pattern}" "${file}" 2>/dev/null && return 0
    kill -0 "${pid}" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# A port nothing listens on: connecting to it is refused.
port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

say "starting nats-server on 127.0.0.1"
port=""
for _ in $(seq 1 20); do
  candidate=$((20000 + RANDOM % 40000))
  port_is_free "${candidate}" || continue
  nats-server -a 127.0.0.1 -p "${candidate}" >"${work}/nats.log" 2>&1 &
  nats_pid=$!
  if wait_for_line "${work}/nats.log" 10 "Server is ready" "${nats_pid}"; then
    port="${candidate}"
    break
  fi
  # Lost a race for the port (or failed otherwise): try another one.
  stop "${nats_pid}"
  nats_pid=""
done
if [[ -z "${port}" ]]; then
  echo "demo: could not start nats-server; its last log:" >&2
  cat "${work}/nats.log" >&2 || true
  exit 1
fi
url="nats://127.0.0.1:${port}"
echo "nats-server (pid ${nats_pid}) listening on ${url}"

say "starting calculator_server --responder bob"
"${build}/examples/calculator_server" --url "${url}" --responder bob \
  >"${work}/server.log" 2>&1 &
server_pid=$!
if ! wait_for_line "${work}/server.log" 10 "serving" "${server_pid}"; then
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
sed -n '2,$p' "${work}/server.log"

if ((client_status != 0)); then
  say "demo FAILED (calculator_client exited ${client_status})"
  exit 1
fi
say "demo OK"
