#!/usr/bin/env bash
# natsrpc's ADR-32 discovery and stats read with NATS's own service client
# (tests/micro/js/micro.mjs, @nats-io/services). ctest runs it as micro_js.
#
#   tests/micro/js/run.sh <calculator_server> <calculator_client> <streaming_server> <streaming_client>
#
# Installs what is missing (Debian nodejs and npm; the locked npm packages
# with `npm ci`), starts a private nats-server on 127.0.0.1 and the two
# example servers (responder bob), runs each example client once (a known
# number of calls and errors), then the checks; ends with "N passed, M failed".
set -euo pipefail

if (($# < 4)); then
  echo "usage: $0 <calculator_server> <calculator_client> <streaming_server> <streaming_client>" >&2
  exit 2
fi
calculator_server=$1
calculator_client=$2
streaming_server=$3
streaming_client=$4

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../../.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${root}/scripts/lib.sh"

setup_failed() {
  echo "FAIL [setup] $*"
  echo "0 passed, 1 failed"
  exit 1
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "== installing nodejs and npm (apt-get)"
  apt-get update -qq >/dev/null || setup_failed "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null ||
    setup_failed "apt-get install nodejs npm failed"
fi
stamp="${here}/node_modules/.package-lock.json"
if [[ ! -f "${stamp}" || "${here}/package-lock.json" -nt "${stamp}" ]]; then
  echo "== npm ci"
  (cd "${here}" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
    setup_failed "npm ci failed"
fi
command -v nats-server >/dev/null || [[ -x /usr/sbin/nats-server ]] ||
  setup_failed "nats-server is not installed (scripts/packages.txt)"
for bin in "${calculator_server}" "${calculator_client}" "${streaming_server}" "${streaming_client}"; do
  [[ -x "${bin}" ]] || setup_failed "not an executable: ${bin}"
done

work="$(mktemp -d)"
NATS_PID=""
nats_pid=""
calc_pid=""
stream_pid=""
cleanup() {
  local status=$?
  natsrpc_stop "${calc_pid}"
  natsrpc_stop "${stream_pid}"
  natsrpc_stop "${nats_pid}"
  natsrpc_stop "${NATS_PID}"
  rm -rf "${work}"
  exit "${status}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

natsrpc_start_nats_server "${work}/nats.log" || setup_failed "cannot start nats-server"
nats_pid=${NATS_PID}
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

"${calculator_client}" --url "${url}" --requester alice --responder bob >"${work}/calculator_client.log" 2>&1 ||
  setup_failed "calculator_client failed: $(cat "${work}/calculator_client.log")"
"${streaming_client}" --url "${url}" --requester alice --responder bob >"${work}/streaming_client.log" 2>&1 ||
  setup_failed "streaming_client failed: $(cat "${work}/streaming_client.log")"

echo "== ADR-32 discovery with @nats-io/services (node $(node --version)) against ${url}"
set +e
NATS_URL="${url}" node "${here}/micro.mjs" 2>&1 | tee "${work}/output"
status=${PIPESTATUS[0]}
set -e
if ! tail -n 1 "${work}/output" | grep -Eq '^[0-9]+ passed, [0-9]+ failed$'; then
  echo "FAIL [setup] micro.mjs ended without its summary (exit status ${status})"
  echo "0 passed, 1 failed"
  status=1
fi
exit "${status}"
