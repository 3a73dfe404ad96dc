#!/usr/bin/env bash
# The Go conformance suite (issue 10): Go programs written from
# docs/protocol.md alone, with plain nats.go, against the C++ streaming example.
#
#   tests/conformance/go/run.sh --streaming-server build/examples/streaming_server \
#       --streaming-client build/examples/streaming_client [--build-dir DIR]
#
# 1. Installs what is missing (Debian's golang-go, nats.go, protobuf for Go,
#    protoc-gen-go, nats-server, protoc) with apt-get, then builds the Go
#    programs in GOPATH mode (GO111MODULE=off, no module downloads) with the
#    protobuf code generated at build time.
# 2. Starts a private nats-server on 127.0.0.1 and streaming_server (responder
#    bob), and runs cmd/conformance: the three stream kinds, credit,
#    heartbeats and liveness, cancel, refusals, malformed frames, and the
#    known server bugs of issue 10 (checks named BUG_*).
# 3. The reverse direction: streaming_client (alice -> bob) against the C++
#    server for reference, then against cmd/goserver, the Go server of
#    FileStore and ChatRoom; the client's output and the servers' logs must
#    match.
#
# Prints one line per check ("PASS <name>" or "FAIL <name>: <why>") and ends
# with "N passed, M failed"; the exit status is 1 if any check failed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../../.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${root}/scripts/lib.sh"

usage() {
  echo "usage: $0 --streaming-server PATH --streaming-client PATH [--build-dir DIR]" >&2
  exit 2
}
server_bin="" client_bin="" build_dir=""
while (($#)); do
  case "$1" in
    --streaming-server) server_bin=$2; shift 2 ;;
    --streaming-client) client_bin=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    *) usage ;;
  esac
done
[[ -x "${server_bin}" && -x "${client_bin}" ]] || usage

work="$(mktemp -d)"
NATS_PID="" cpp_pid="" go_pid=""
cleanup() {
  natsrpc_stop "${go_pid}"
  natsrpc_stop "${cpp_pid}"
  natsrpc_stop "${NATS_PID}"
  rm -rf "${work}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0 failed=0
result() { # result NAME OK|reason
  if [[ "$2" == OK ]]; then
    echo "PASS $1"
    passed=$((passed + 1))
  else
    echo "FAIL $1: $2"
    failed=$((failed + 1))
  fi
}
finish() {
  echo "${passed} passed, ${failed} failed"
  ((failed == 0))
  exit $?
}
fatal() { # a setup step failed: one failing check, then the summary
  result "$1" "$2"
  finish
}

# ---- 1. toolchain ----
packages=(golang-go golang-github-nats-io-go-nats-dev golang-google-protobuf-dev
  golang-goprotobuf-dev nats-server protobuf-compiler)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("${p}")
done
if ((${#missing[@]})); then
  echo "== installing ${missing[*]}"
  if ((EUID != 0)); then
    fatal toolchain "missing Debian packages ${missing[*]} and not root to install them"
  fi
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; } \
    >"${work}/apt.log" 2>&1 ||
    fatal toolchain "apt-get install ${missing[*]} failed: $(tail -5 "${work}/apt.log")"
fi

if [[ -z "${build_dir}" ]]; then
  build_dir="${work}/build"
fi
mkdir -p "${build_dir}"
build_dir="$(cd "${build_dir}" && pwd)"
gopath="${build_dir}/gopath"
src="${gopath}/src/natsrpcconf"
rm -rf "${src}"
mkdir -p "${src}/examplepb" "${build_dir}/bin"
cp -r "${here}/wire" "${here}/cmd" "${src}/"
protoc -I "${root}/proto" --plugin=protoc-gen-go=/usr/bin/protoc-gen-go \
  --go_out="paths=source_relative:${work}" example/v1/streaming.proto \
  >"${work}/protoc.log" 2>&1 ||
  fatal build "protoc --go_out failed: $(cat "${work}/protoc.log")"
mv "${work}/example/v1/streaming.pb.go" "${src}/examplepb/"

export GO111MODULE=off GOFLAGS="" GOPROXY=off GOTOOLCHAIN=local
export GOPATH="${gopath}:/usr/share/gocode"
export GOCACHE="${build_dir}/gocache"
for prog in conformance goserver; do
  go build -o "${build_dir}/bin/${prog}" "natsrpcconf/cmd/${prog}" >"${work}/go-build.log" 2>&1 ||
    fatal build "go build ${prog} failed: $(cat "${work}/go-build.log")"
done

# ---- 2. the checks against the C++ server ----
natsrpc_start_nats_server "${work}/nats.log" || fatal setup "cannot start nats-server"
url="nats://127.0.0.1:${NATS_PORT}"
"${server_bin}" --url "${url}" --responder bob >"${work}/cpp-server.log" 2>&1 &
cpp_pid=$!
natsrpc_wait_for_line "${work}/cpp-server.log" 10 "serving" "${cpp_pid}" ||
  fatal setup "streaming_server did not start: $(cat "${work}/cpp-server.log")"

timeout 240 "${build_dir}/bin/conformance" --url "${url}" --responder bob \
  --server-log "${work}/cpp-server.log" >"${work}/checks.out" 2>&1
status=$?
cat "${work}/checks.out"
p=$(grep -c '^PASS ' "${work}/checks.out")
f=$(grep -c '^FAIL ' "${work}/checks.out")
passed=$((passed + p)) failed=$((failed + f))
if ((status != 0 && f == 0)); then
  result conformance_program "exited with status ${status} without a failing check"
fi
kill -0 "${cpp_pid}" 2>/dev/null ||
  result cpp_server_survived_the_checks "streaming_server exited: $(tail -3 "${work}/cpp-server.log")"

# ---- 3. the reverse direction: the C++ client, C++ server then Go server ----
# Reference: what streaming_client prints against the C++ server.
timeout 60 "${client_bin}" --url "${url}" --requester alice --responder bob \
  >"${work}/client-cpp.out" 2>&1
status=$?
if ((status == 0)); then
  result reference_cpp_client_vs_cpp_server OK
else
  result reference_cpp_client_vs_cpp_server "exit ${status}: $(tr '\n' '|' <"${work}/client-cpp.out")"
fi
natsrpc_stop "${cpp_pid}"
cpp_pid=""

"${build_dir}/bin/goserver" --url "${url}" --responder bob >"${work}/go-server.log" 2>&1 &
go_pid=$!
natsrpc_wait_for_line "${work}/go-server.log" 10 "serving" "${go_pid}" ||
  fatal go_server_starts "goserver did not start: $(cat "${work}/go-server.log")"
timeout 60 "${client_bin}" --url "${url}" --requester alice --responder bob \
  >"${work}/client-go.out" 2>&1
status=$?
if ((status == 0)); then
  result go_server_cpp_client_exits_0 OK
else
  result go_server_cpp_client_exits_0 "exit ${status}: $(tr '\n' '|' <"${work}/client-go.out")"
fi
if diff "${work}/client-cpp.out" "${work}/client-go.out" >"${work}/client.diff"; then
  result go_server_cpp_client_output_matches OK
else
  result go_server_cpp_client_output_matches "differs from the run against the C++ server: $(tr '\n' '|' <"${work}/client.diff")"
fi
# Both servers log one line per stream they end; alice's lines must agree
# (the Go server wrote its handlers from server.cc's description). Compared
# once both have stopped: a server that shuts down ends its open streams, so
# the line of the cancelled download is there even if the client's cancel
# did not arrive (streaming_client may exit before its cancel is sent).
# The same checks against the Go server: it is written from the spec, so
# all of them, the BUG_* ones included, must pass there.
timeout 240 "${build_dir}/bin/conformance" --url "${url}" --responder bob \
  --server-log "${work}/go-server.log" --name-prefix go_server/ >"${work}/checks-go.out" 2>&1
status=$?
cat "${work}/checks-go.out"
p=$(grep -c '^PASS ' "${work}/checks-go.out")
f=$(grep -c '^FAIL ' "${work}/checks-go.out")
passed=$((passed + p)) failed=$((failed + f))
if ((status != 0 && f == 0)); then
  result go_server/conformance_program "exited with status ${status} without a failing check"
fi
natsrpc_stop "${go_pid}"
go_pid=""
grep '^alice: ' "${work}/cpp-server.log" >"${work}/cpp-alice.log"
grep '^alice: ' "${work}/go-server.log" >"${work}/go-alice.log"
if [[ -s "${work}/cpp-alice.log" ]] && diff "${work}/cpp-alice.log" "${work}/go-alice.log" >"${work}/log.diff"; then
  result go_server_log_matches_cpp_server_log OK
else
  result go_server_log_matches_cpp_server_log "server logs differ: $(tr '\n' '|' <"${work}/log.diff")"
fi
finish
