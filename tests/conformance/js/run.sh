#!/usr/bin/env bash
# The JavaScript conformance suite (tests/conformance/js): a foreign
# implementation of docs/protocol.md in Node.js (@nats-io/transport-node,
# protobufjs) checks the C++ example servers, and serves the calculator to the
# C++ calculator_client. ctest runs it as conformance_js.
#
#   tests/conformance/js/run.sh <calculator_server> <calculator_client> <streaming_server> [--groups unary,stream,reverse,permissions,known-bugs]
#
# Installs what is missing (Debian nodejs and npm; the locked npm packages
# with `npm ci`), starts a private nats-server on 127.0.0.1 and the two
# example servers (responder bob), and a second nats-server with the
# authorization of docs/protocol.md section 2 with the two servers as user
# bob; runs the checks, prints one line per check and ends with
# "N passed, M failed". Exit status 0 only if none failed.
# CONFORMANCE_GROUPS=known-bugs (or --groups known-bugs) runs one group.
set -euo pipefail

if (($# < 3)); then
  echo "usage: $0 <calculator_server> <calculator_client> <streaming_server> [--groups g1,g2]" >&2
  exit 2
fi
calculator_server=$1
calculator_client=$2
streaming_server=$3
shift 3

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../../.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${root}/scripts/lib.sh"

# Ends the run with the summary line, for failures before the checks ran.
setup_failed() {
  echo "FAIL [setup] $*"
  echo "0 passed, 1 failed"
  exit 1
}

# --- toolchain: Debian's nodejs and npm, then the locked packages.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "== installing nodejs and npm (apt-get)"
  apt-get update -qq >/dev/null || setup_failed "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null ||
    setup_failed "apt-get install nodejs npm failed"
fi
# npm ci when node_modules is missing or older than the lock file.
stamp="${here}/node_modules/.package-lock.json"
if [[ ! -f "${stamp}" || "${here}/package-lock.json" -nt "${stamp}" ]]; then
  echo "== npm ci"
  (cd "${here}" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
    setup_failed "npm ci failed"
fi

command -v nats-server >/dev/null || [[ -x /usr/sbin/nats-server ]] ||
  setup_failed "nats-server is not installed (scripts/packages.txt)"
for bin in "${calculator_server}" "${calculator_client}" "${streaming_server}"; do
  [[ -x "${bin}" ]] || setup_failed "not an executable: ${bin}"
done

# --- processes: all started here, all stopped here.
work="$(mktemp -d)"
NATS_PID=""
plain_nats_pid=""
auth_nats_pid=""
calc_pid=""
stream_pid=""
calc_auth_pid=""
stream_auth_pid=""
cleanup() {
  local status=$?
  natsrpc_stop "${calc_pid}"
  natsrpc_stop "${stream_pid}"
  natsrpc_stop "${calc_auth_pid}"
  natsrpc_stop "${stream_auth_pid}"
  natsrpc_stop "${plain_nats_pid}"
  natsrpc_stop "${auth_nats_pid}"
  natsrpc_stop "${NATS_PID}"  # one being started when the run stopped
  if ((status != 0)) && [[ -n "${CONFORMANCE_KEEP_LOGS:-}" ]]; then
    echo "logs kept in ${work}" >&2
  else
    rm -rf "${work}"
  fi
  exit "${status}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

natsrpc_start_nats_server "${work}/nats.log" || setup_failed "cannot start nats-server"
plain_nats_pid=${NATS_PID}
NATS_PID=""
url="nats://127.0.0.1:${NATS_PORT}"

"${calculator_server}" --url "${url}" --responder bob >"${work}/calculator_server.log" 2>&1 &
calc_pid=$!
"${streaming_server}" --url "${url}" --responder bob >"${work}/streaming_server.log" 2>&1 &
stream_pid=$!
natsrpc_wait_for_line "${work}/calculator_server.log" 10 "serving" "${calc_pid}" ||
  setup_failed "calculator_server did not start: $(cat "${work}/calculator_server.log")"
natsrpc_wait_for_line "${work}/streaming_server.log" 10 "serving" "${stream_pid}" ||
  setup_failed "streaming_server did not start: $(cat "${work}/streaming_server.log")"

# A second nats-server with the authorization block of docs/protocol.md
# section 2 (users alice and bob, four grants; dave has bob's grants for
# responder dave, served by the JS server alone), and the two example servers
# again as bob, for the "permissions" group.
cat >"${work}/auth.conf" <<'CONF'
authorization {
  users: [
    { user: alice, password: alice-secret,
      permissions: { publish: { allow: ["requests.alice.>"] },
                     subscribe: { allow: ["responses.alice.>"] } } }
    { user: bob, password: bob-secret,
      permissions: { publish: { allow: ["responses.*.bob.>"] },
                     subscribe: { allow: ["requests.*.bob.>"] } } }
    { user: dave, password: dave-secret,
      permissions: { publish: { allow: ["responses.*.dave.>"] },
                     subscribe: { allow: ["requests.*.dave.>"] } } }
  ]
}
CONF
cat >"${work}/nats-server-auth" <<WRAPPER
#!/bin/sh
exec "$(command -v nats-server || echo /usr/sbin/nats-server)" -c "${work}/auth.conf" "\$@"
WRAPPER
chmod +x "${work}/nats-server-auth"
NATS_SERVER="${work}/nats-server-auth" natsrpc_start_nats_server "${work}/nats-auth.log" ||
  setup_failed "cannot start the nats-server with authorization"
auth_nats_pid=${NATS_PID}
NATS_PID=""
auth_port=${NATS_PORT}
bob_url="nats://bob:bob-secret@127.0.0.1:${auth_port}"
"${calculator_server}" --url "${bob_url}" --responder bob >"${work}/calculator_server_auth.log" 2>&1 &
calc_auth_pid=$!
"${streaming_server}" --url "${bob_url}" --responder bob >"${work}/streaming_server_auth.log" 2>&1 &
stream_auth_pid=$!
natsrpc_wait_for_line "${work}/calculator_server_auth.log" 10 "serving" "${calc_auth_pid}" ||
  setup_failed "calculator_server (as bob) did not start: $(cat "${work}/calculator_server_auth.log")"
natsrpc_wait_for_line "${work}/streaming_server_auth.log" 10 "serving" "${stream_auth_pid}" ||
  setup_failed "streaming_server (as bob) did not start: $(cat "${work}/streaming_server_auth.log")"

echo "== conformance (JavaScript, node $(node --version)) against ${url}"
set +e
NATS_URL="${url}" PROTO_DIR="${root}/proto" \
  CALC_LOG="${work}/calculator_server.log" STREAM_LOG="${work}/streaming_server.log" \
  CALCULATOR_CLIENT="${calculator_client}" CALC_PID="${calc_pid}" STREAM_PID="${stream_pid}" \
  AUTH_NATS_PORT="${auth_port}" CALC_AUTH_PID="${calc_auth_pid}" STREAM_AUTH_PID="${stream_auth_pid}" \
  node "${here}/conformance.mjs" "$@" 2>&1 | tee "${work}/output"
status=${PIPESTATUS[0]}
set -e
# A crash of the runner itself still ends with a summary line.
if ! tail -n 1 "${work}/output" | grep -Eq '^[0-9]+ passed, [0-9]+ failed$'; then
  echo "FAIL [setup] conformance.mjs ended without its summary (exit status ${status})"
  echo "0 passed, 1 failed"
  status=1
fi
exit "${status}"
