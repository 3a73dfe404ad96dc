#!/usr/bin/env bash
# Checks docs/protocol.md against the implementation with no NATS library at
# all: speaks the NATS text protocol through bash's /dev/tcp to a private
# nats-server on 127.0.0.1, as requester "alice", and calls calculator_server
# (responder "bob") with the exact bytes of the document's worked example,
# plus the error cases of its sections 4 and 5. ctest runs it as
# protocol_doc_example.
#
#   scripts/protocol_check.sh build/examples/calculator_server
#
# Prints one line per check and "protocol check OK"; exits 1 at the first
# mismatch.
set -euo pipefail
export LC_ALL=C  # bash string offsets count bytes

if (($# != 1)); then
  echo "usage: $0 <path to calculator_server>" >&2
  exit 2
fi
server_bin=$1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${root}/scripts/lib.sh"

work="$(mktemp -d)"
NATS_PID=""
server_pid=""
reader_pid=""
cleanup() {
  local status=$?
  natsrpc_stop "${reader_pid}"
  natsrpc_stop "${server_pid}"
  natsrpc_stop "${NATS_PID}"
  rm -rf "${work}"
  exit "${status}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "protocol check FAILED: $*" >&2
  exit 1
}

natsrpc_start_nats_server "${work}/nats.log" || fail "cannot start nats-server"
"${server_bin}" --url "nats://127.0.0.1:${NATS_PORT}" --responder bob \
  >"${work}/server.log" 2>&1 &
server_pid=$!
natsrpc_wait_for_line "${work}/server.log" 10 "serving" "${server_pid}" ||
  fail "calculator_server did not start: $(cat "${work}/server.log")"

# One raw NATS connection; everything the server sends goes to a file.
exec 3<>"/dev/tcp/127.0.0.1/${NATS_PORT}"
cat <&3 >"${work}/wire" &
reader_pid=$!

id=4rDb0m2KxQe7Vq1ZsT9yHc
requests=requests.alice.bob.example_v1.Calculator
responses=responses.alice.bob.example_v1.${id}

# hpub SUBJECT REPLY PAYLOAD(printf escapes) HEADER...: publishes with
# headers; prints the HPUB line it sent.
hpub() {
  local subject=$1 reply=$2 payload=$3 header hdr="NATS/1.0\r\n" hlen plen line
  shift 3
  for header in "$@"; do hdr+="${header}\r\n"; done
  hdr+="\r\n"
  hlen=$(printf "${hdr}" | wc -c)
  plen=$(printf "${payload}" | wc -c)
  line="HPUB ${subject} ${reply} ${hlen} $((hlen + plen))"
  {
    printf '%s\r\n' "${line}"
    printf "${hdr}"
    printf "${payload}"
    printf '\r\n'
  } >&3
  echo "${line}"
}

printf 'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\n' >&3
printf 'SUB responses.alice.*.*.%s.* 1\r\n' "${id}" >&3
printf 'SUB responses.carol.> 2\r\n' >&3
printf 'PING\r\n' >&3
natsrpc_wait_for_line "${work}/wire" 5 PONG "${reader_pid}" || fail "no PONG from nats-server"

timeout=(Natsrpc-Timeout:\ 5000000u Content-Type:\ application/protobuf)
# Section 5: a reply-to outside alice's response space is dropped, unanswered.
hpub "${requests}.Add" responses.carol.bob.example_v1.X.1 '\x08\x02\x10\x03' "${timeout[@]}" >/dev/null
# Section 7: the worked example, byte for byte.
add_line=$(hpub "${requests}.Add" "${responses}.1" '\x08\x02\x10\x03' "${timeout[@]}")
hpub "${requests}.Divide" "${responses}.2" '\x08\x01\x10\x00' "${timeout[@]}" >/dev/null
# Section 4.
hpub "${requests}.Add" "${responses}.3" '\x08\x02\x10\x03' "Natsrpc-Timeout: 0n" >/dev/null
hpub "${requests}.Nope" "${responses}.4" '' "${timeout[@]}" >/dev/null
hpub requests.alice.eve.example_v1.Calculator.Add \
  "responses.alice.eve.example_v1.${id}.5" '\x08\x02' "${timeout[@]}" >/dev/null
hpub "${requests}.Add" "${responses}.6" '\xff\xff' "${timeout[@]}" >/dev/null
hpub "${requests}.Add" "${responses}.7" '\x08\x02\x10\x03' "Natsrpc-Timeout: 5x" >/dev/null

subjects=("${responses}".{1,2,3,4,6,7} "responses.alice.eve.example_v1.${id}.5")
deadline=$((SECONDS + 10))
while :; do
  data=$(cat "${work}/wire")
  missing=0
  for s in "${subjects[@]}"; do
    [[ "${data}" == *"HMSG ${s} "* ]] || missing=1
  done
  ((missing == 0)) && break
  ((SECONDS < deadline)) || fail "no reply on some of ${subjects[*]}; got: ${data}"
  sleep 0.1
done
# Give a wrongly answered spoofed request time to arrive too.
sleep 0.5
printf 'PING\r\n' >&3
sleep 0.2
data=$(cat "${work}/wire")

# message_on SUBJECT: sets HEADERS and PAYLOAD of the message on SUBJECT.
message_on() {
  local rest line fields
  rest=${data#*"HMSG $1 "}
  line=${rest%%$'\r\n'*}
  rest=${rest#*$'\r\n'}
  read -r -a fields <<<"${line}"
  local hlen=${fields[-2]} tlen=${fields[-1]}
  HEADERS=${rest:0:hlen}
  PAYLOAD=${rest:hlen:tlen-hlen}
}
check() {
  local what=$1
  shift
  "$@" || fail "${what}"
  echo "ok: ${what}"
}
has() { [[ "${HEADERS}" == *"$1"$'\r\n'* ]]; }
ok_reply() {  # PAYLOAD
  has "Content-Type: application/protobuf" && [[ "${PAYLOAD}" == "$1" ]] &&
    [[ "${HEADERS}" != *Nats-Service-Error* ]]
}
no_responders() { [[ "${HEADERS}" == "NATS/1.0 503"* ]]; }
not_answered() { [[ "${data}" != *"HMSG $1"* ]]; }
# An error reply's payload is empty (protocol revision 2) or the exact status
# of docs/protocol.md 4.1 (revision 3): 08 <code> (12 <length> <message>)...
error_reply() {  # CODE MESSAGE-PREFIX
  local hex code_byte
  printf -v hex '%02x' "$1"
  printf -v code_byte "\\x${hex}"
  has "Nats-Service-Error-Code: $1" && [[ "${HEADERS}" == *"Nats-Service-Error: $2"* ]] &&
    [[ -z "${PAYLOAD}" || "${PAYLOAD}" == $'\x08'"${code_byte}"* ]]
}
# The revision-3 body of Divide(1, 0), as docs/protocol.md section 7 gives it.
divide_body() {
  [[ -z "${PAYLOAD}" || "${PAYLOAD}" == $'\x08\x03\x12\x10division by zero' ]]
}

check "docs/protocol.md has the HPUB line sent here (${add_line})" \
  grep -qF -- "${add_line}" "${root}/docs/protocol.md"

message_on "${responses}.1"
check "Add(2, 3): Content-Type: application/protobuf, payload 08 05" ok_reply $'\x08\x05'
message_on "${responses}.2"
check "Divide(1, 0): Nats-Service-Error-Code 3, Nats-Service-Error division by zero, empty payload" \
  error_reply 3 "division by zero"
check "Divide(1, 0): payload empty (revision 2) or 08 03 12 10 'division by zero' (revision 3)" \
  divide_body
message_on "${responses}.3"
check "Natsrpc-Timeout 0n: DEADLINE_EXCEEDED (4)" error_reply 4 ""
message_on "${responses}.4"
check "unknown method Nope: UNIMPLEMENTED (12)" error_reply 12 ""
message_on "${responses}.6"
check "undecodable payload: INVALID_ARGUMENT (3)" error_reply 3 ""
message_on "${responses}.7"
check "malformed Natsrpc-Timeout 5x: INVALID_ARGUMENT (3)" error_reply 3 ""
message_on "responses.alice.eve.example_v1.${id}.5"
check "no responder eve: NATS status 503" no_responders
check "spoofed reply-to in carol's space: dropped, not answered" not_answered responses.carol.
echo "protocol check OK"
