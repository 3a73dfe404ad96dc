#!/usr/bin/env bash
# Schema requests (docs/protocol.md section 12) from Go, issue 12: a Go
# client that was not compiled with example/v1/calculator.proto asks the C++
# calculator_server for its schema, builds the request of Add from the
# returned FileDescriptorSet (protodesc, dynamicpb from Debian's
# golang-google-protobuf-dev) and calls it with plain nats.go.
#
#   tests/conformance/go/schema.sh --calculator-server build/examples/calculator_server \
#       [--build-dir DIR]
#
# Builds in GOPATH mode (GO111MODULE=off, no module downloads), starts a
# private nats-server on 127.0.0.1 and the server (responder bob), runs
# cmd/schemaclient; prints "PASS <name>" / "FAIL <name>: <why>" per check and
# "N passed, M failed"; exit status 1 if a check failed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../../.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${root}/scripts/lib.sh"

server_bin="" build_dir=""
while (($#)); do
  case "$1" in
    --calculator-server) server_bin=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    *) echo "usage: $0 --calculator-server PATH [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
[[ -x "${server_bin}" ]] || { echo "no calculator_server at '${server_bin}'" >&2; exit 2; }

work="$(mktemp -d)"
NATS_PID="" server_pid=""
cleanup() {
  natsrpc_stop "${server_pid}"
  natsrpc_stop "${NATS_PID}"
  rm -rf "${work}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fatal() { echo "FAIL $1: $2"; echo "0 passed, 1 failed"; exit 1; }

for p in golang-go golang-github-nats-io-go-nats-dev golang-google-protobuf-dev nats-server; do
  dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'install ok installed' ||
    fatal toolchain "missing Debian package ${p} (scripts/packages.txt; tests/conformance/go/run.sh installs it)"
done

if [[ -z "${build_dir}" ]]; then build_dir="${work}/build"; fi
mkdir -p "${build_dir}"
build_dir="$(cd "${build_dir}" && pwd)"
gopath="${build_dir}/gopath-schema"
src="${gopath}/src/natsrpcconf"
rm -rf "${src}"
mkdir -p "${src}/cmd" "${build_dir}/bin"
cp -r "${here}/wire" "${src}/"
cp -r "${here}/cmd/schemaclient" "${src}/cmd/"
export GO111MODULE=off GOFLAGS="" GOPROXY=off GOTOOLCHAIN=local
export GOPATH="${gopath}:/usr/share/gocode"
export GOCACHE="${build_dir}/gocache"
go build -o "${build_dir}/bin/schemaclient" natsrpcconf/cmd/schemaclient \
  >"${work}/go-build.log" 2>&1 || fatal build "go build schemaclient failed: $(cat "${work}/go-build.log")"

natsrpc_start_nats_server "${work}/nats.log" || fatal setup "cannot start nats-server"
url="nats://127.0.0.1:${NATS_PORT}"
"${server_bin}" --url "${url}" --responder bob >"${work}/server.log" 2>&1 &
server_pid=$!
natsrpc_wait_for_line "${work}/server.log" 10 "serving" "${server_pid}" ||
  fatal setup "calculator_server did not start: $(cat "${work}/server.log")"

timeout 60 "${build_dir}/bin/schemaclient" --url "${url}" --requester alice \
  --responder bob --app example_v1 --service Calculator --method Add \
  --set a=40 --set b=2 --want "sum: 42"
