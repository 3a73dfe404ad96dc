// Copyright 2026 The natsrpc Authors.
//
// Connecting to NATS. A `Connection` is a cheap, copyable handle to one NATS
// connection; clients and servers built on it share it. The connection closes
// when the last handle (and the last client or server using it) is gone, or
// when Close() is called.
//
//   absl::StatusOr<natsrpc::Connection> conn =
//       natsrpc::Connect(natsrpc::ConnectOptions{.url =
//       "nats://127.0.0.1:4222"});
//   if (!conn.ok()) return conn.status();

#ifndef NATSRPC_CONNECTION_H_
#define NATSRPC_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "natsrpc/export.h"
#include "natsrpc/metrics.h"
#include "natsrpc/transport.h"

namespace natsrpc {

namespace internal {
class ConnectionAccess;
class ConnectionState;
}  // namespace internal

// Switches of the NATS transport's write path (runtime/src/nats/), for A/B
// measurements (docs/benchmarks.md, "Runtime changes and their effect") and
// for tests of the fallbacks. The defaults are what natsrpc is built and
// measured with; turning one off changes speed only, never behaviour.
struct TransportTuning {
  // An epoll event-loop thread writes what is published, many messages per
  // send() (docs/platform.md, "The 1 ms trap"). false: plain SendAsap, one
  // send() per publish, and `write_now` and `bursts` have no effect.
  bool event_loop = true;
  // Honour FlushPolicy::kNow (natsrpc/transport.h): write such a message on
  // the publishing thread. false: the loop thread writes it.
  bool write_now = true;
  // A delivery thread writes what its handlers publish at the end of its
  // burst (natsrpc/transport.h). false: the loop thread writes everything.
  bool bursts = true;
  // Use the fast path through nats.c internals where it is compiled in and
  // its start-up self-test passed (docs/platform.md, "nats.c internals").
  // false: nats.c's public message API only.
  bool nats_internals = true;
};

// How to reach NATS. Every field has a sensible default; the member order is
// part of the API (designated initializers).
struct ConnectOptions {
  // One server URL, or several separated by commas
  // ("nats://a:4222,nats://b:4222").
  std::string url = "nats://127.0.0.1:4222";
  // More server URLs, tried in addition to `url`.
  std::vector<std::string> servers{};
  // Connection name shown by the server's monitoring.
  std::string name{};

  // Authentication: user/password, token, a `.creds` file (user JWT + nkey
  // seed, as `nsc` writes it), or an nkey seed file. A file that cannot be
  // read or holds no credential is INVALID_ARGUMENT naming the field, before
  // any connection attempt; credentials the server refuses are
  // UNAUTHENTICATED naming the field that supplied them.
  std::string user{};
  std::string password{};
  std::string token{};
  std::string creds_file{};
  // A file holding a user nkey seed ("SU...", e.g. from `nk -gen user`),
  // for a nats-server user configured as `{ nkey: U... }`. Connect() reads
  // it once to derive the public key (and wipes its copy); nats.c reads the
  // file again to sign the server's nonce on every (re)connect and clears
  // the seed after signing. Not together with `creds_file`.
  std::string nkey_seed_file{};

  // TLS: set `tls` (implied by any of the files or a tls:// URL). The CA
  // file verifies the server; cert + key authenticate the client.
  bool tls = false;
  std::string tls_ca_file{};
  std::string tls_cert_file{};
  std::string tls_key_file{};
  std::string tls_hostname{};  // expected server name, if not the URL's host
  bool tls_skip_verify = false;

  // Reconnection, as nats.c users know it. The defaults are chosen from the
  // figures of tests/integration/fault_test.cc (docs/operations.md): a
  // restarted nats-server is back in use within reconnect_wait +
  // reconnect_jitter, and a client or server never gives up on its own
  // (a server that stopped reconnecting would stop serving for good).
  bool allow_reconnect = true;
  int max_reconnect_attempts = -1;  // -1: forever
  // Between two attempts on the same server URL (other URLs of a cluster
  // are tried at once).
  absl::Duration reconnect_wait = absl::Milliseconds(250);
  // A random extra wait of up to this much before each reconnect round
  // (TLS or not), so that the clients of a restarted server do not all
  // return at once.
  absl::Duration reconnect_jitter = absl::Milliseconds(100);
  int reconnect_buffer_bytes = 8 * 1024 * 1024;
  // Keep trying the initial connect in the background instead of failing.
  bool retry_on_failed_connect = false;

  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration ping_interval = absl::Minutes(2);
  int max_pings_out = 2;

  // Messages a subscription may hold before NATS drops them as a slow
  // consumer. Below 2,097,152 (2^21): from there on nats.c overflows an int
  // byte limit and later subscribes fail (docs/platform.md).
  int max_pending_messages = 1 << 20;

  // A/B switches of the transport's write path; keep the defaults.
  TransportTuning tuning{};
};

// A handle to a NATS connection.
class NATSRPC_EXPORT Connection {
 public:
  // Wraps any transport; used by tests and custom transports. Connect() is the
  // usual way to get a Connection.
  explicit Connection(std::shared_ptr<Transport> transport);

  Connection(const Connection&) = default;
  Connection& operator=(const Connection&) = default;
  Connection(Connection&&) = default;
  Connection& operator=(Connection&&) = default;
  ~Connection();

  // The largest message (payload and headers) the server accepts.
  int64_t max_payload() const;
  // True while connected (false while reconnecting and after Close()).
  bool connected() const;
  // Closes the connection for every handle. Pending calls end UNAVAILABLE.
  // Idempotent.
  void Close();

  // The transport underneath, for messages outside natsrpc's calls (the
  // ones natsrpc sends follow docs/protocol.md).
  Transport& transport() const;

  // Per-method counters of the clients made on this connection (all
  // requesters), and the replies that found no call; PrometheusText()
  // formats them (natsrpc/metrics.h).
  ClientMetrics client_stats() const;

 private:
  friend class internal::ConnectionAccess;

  std::shared_ptr<internal::ConnectionState> state_;
};

// Connects to NATS. Errors: INVALID_ARGUMENT for bad options (naming the
// field), UNAVAILABLE when no server could be reached, UNAUTHENTICATED when
// the server refused the credentials.
NATSRPC_EXPORT absl::StatusOr<Connection> Connect(
    const ConnectOptions& options);

}  // namespace natsrpc

#endif  // NATSRPC_CONNECTION_H_
