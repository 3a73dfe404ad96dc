# Shell helpers shared by scripts/demo.sh and scripts/protocol_check.sh.
# Source it; it defines functions only.

# Stops one process this script started: SIGTERM, then SIGKILL after 5 s.
natsrpc_stop() {
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

# Waits up to $2 seconds for file $1 to contain $3 while process $4 lives.
natsrpc_wait_for_line() {
  local file=$1 seconds=$2 pattern=$3 pid=$4
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    grep -q -- "${pattern}" "${file}" 2>/dev/null && return 0
    kill -0 "${pid}" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# True if nothing listens on 127.0.0.1:$1 (connecting is refused).
natsrpc_port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Starts nats-server on a free port of 127.0.0.1, logging to $1, and waits
# until it is ready. Sets NATS_PID and NATS_PORT; returns 1 on failure.
natsrpc_start_nats_server() {
  local log=$1 candidate
  NATS_PID=""
  NATS_PORT=""
  for _ in $(seq 1 20); do
    candidate=$((20000 + RANDOM % 40000))
    natsrpc_port_is_free "${candidate}" || continue
    "${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}" \
      -a 127.0.0.1 -p "${candidate}" >"${log}" 2>&1 &
    NATS_PID=$!
    if natsrpc_wait_for_line "${log}" 10 "Server is ready" "${NATS_PID}"; then
      NATS_PORT="${candidate}"
      return 0
    fi
    # Lost a race for the port (or failed otherwise): try another one.
    natsrpc_stop "${NATS_PID}"
    NATS_PID=""
  done
  return 1
}
