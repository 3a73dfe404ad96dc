// Copyright 2026 The natsrpc Authors.
//
// The transport-level core of a stream (docs/protocol.md, section
// "Streams"): one side of one stream, codec-agnostic. It numbers the messages
// it sends, waits for credit before sending, buffers what it receives in seq
// order up to the window it granted, grants new credit as its reader
// consumes, checks the count of the end message, sends heartbeats while idle,
// ends the stream when the peer falls silent, and carries cancellation both
// ways.
//
// Not included here (the owners' job): opening and accepting a stream, the
// routing of incoming messages to the right endpoint (ReplyMux on the client,
// ServerCore on the server), and calling Tick() periodically.

#ifndef NATSRPC_SRC_STREAM_STREAM_ENDPOINT_H_
#define NATSRPC_SRC_STREAM_STREAM_ENDPOINT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "natsrpc/metadata.h"
#include "natsrpc/transport.h"
#include "wire/defaults.h"
#include "wire/headers.h"
#include "wire/status_body.h"
#include "wire/subjects.h"

namespace natsrpc::internal {

// Publishes a cancel message (docs/protocol.md 9.8) with no status to
// `subject`: a call's or stream's cancel subject.
absl::Status PublishCancel(Transport& transport, absl::string_view subject);

struct StreamEndpointOptions {
  // Incremented with StreamEndpointStats::credit_stalls, if set: the
  // per-method counters of the owner (Server::method_stats(),
  // Connection::client_stats()).
  std::shared_ptr<std::atomic<uint64_t>> credit_stalls;
  // Whether this side sends data messages and receives them. A server
  // stream's client only receives; its server only sends.
  bool sends = true;
  bool receives = true;
  // How many unconsumed messages this side accepts: the credit it grants
  // (announced by the owner in open/accept as `Natsrpc-Credit`). >= 1.
  uint64_t window = wire::kDefaultStreamWindow;
  // Revision 5 (docs/protocol.md 9.5.1): how many payload bytes of
  // unconsumed messages this side accepts, beyond which it grants no more
  // (`Natsrpc-Credit-Bytes`); 0: no byte bound (a peer of revision <= 4).
  // A slow reader then holds at most `window` messages and window_bytes plus
  // one message of payload.
  uint64_t window_bytes = 0;
  // Client side: the message window once the accept shows a peer that
  // honours byte credit (SetPeer); 0: keep `window`.
  uint64_t window_with_byte_credit = 0;
  // The credit the peer granted us so far (from open or accept); 0 until
  // then, so Write waits.
  uint64_t initial_send_credit = 0;
  // The byte credit the peer granted (server side, from the open's
  // `Natsrpc-Credit-Bytes`); none: writes are not bounded in bytes.
  std::optional<uint64_t> initial_send_byte_credit;
  // Where this side publishes; empty until known (client before accept).
  std::string peer_subject;
  // A ping is sent when this side has published nothing for this long.
  absl::Duration heartbeat_interval = wire::kDefaultStreamHeartbeat;
  // The stream fails when nothing was heard from the peer for this long.
  absl::Duration liveness_timeout =
      wire::kLivenessHeartbeats * wire::kDefaultStreamHeartbeat;
  // Status of that failure: UNAVAILABLE on the client; the server uses
  // CANCELLED (its handler's context is cancelled).
  absl::StatusCode silence_code = absl::StatusCode::kUnavailable;
  // Client side: the server's end message ends the whole stream, so later
  // writes fail.
  bool peer_end_closes_send = false;
  // Server side: its own end message ends the whole stream (protocol 9.4):
  // afterwards finished() is true, Tick() sends nothing and messages from
  // the peer are ignored, even if the peer's end never came.
  bool own_end_ends_stream = false;
  // Called once, without locks held, when the stream fails (peer cancel,
  // local Cancel, silence, protocol violation, transport error), before any
  // Read, Write or failure() reports that failure. The server cancels the
  // handler's context here. It must not call back into this endpoint.
  std::function<void(const absl::Status&)> on_failure;
  // Called, without locks held, by each Read or ReadAsync that returns the
  // end of the stream (message null: the peer's end or a failure), before it
  // returns. The client runs its interceptors' OnFinish here.
  std::function<void(const absl::Status&)> on_read_end;
  // The stream's deadline: Tick() at or after it fails the stream with
  // DEADLINE_EXCEEDED and tells the peer.
  absl::Time deadline = absl::InfiniteFuture();
  // Client side: how to tell the server about a local Cancel (or failure)
  // before the accept named the stream subject (the cancel subject of
  // protocol 9.8). Called at most once, without locks held.
  std::function<void()> cancel_before_peer;
  // The clock; tests pass a fake one.
  std::function<absl::Time()> clock;
};

struct StreamEndpointStats {
  uint64_t sent = 0;          // data messages published
  uint64_t received = 0;      // data messages accepted into the buffer
  uint64_t consumed = 0;      // data messages returned by Read
  uint64_t duplicates = 0;    // data messages dropped as duplicates
  uint64_t max_buffered = 0;  // most unconsumed messages ever held
  // Most payload bytes of unconsumed messages ever held.
  uint64_t max_buffered_bytes = 0;
  uint64_t granted_bytes = 0;  // cumulative byte credit granted (rev 5)
  uint64_t sent_bytes = 0;     // payload bytes of data messages sent
  uint64_t granted = 0;        // cumulative credit granted to the peer
  uint64_t send_credit = 0;    // cumulative credit the peer granted us
  uint64_t pings_sent = 0;
  // Writes that found no credit and had to wait for the peer's (9.5).
  uint64_t credit_stalls = 0;
};

// The result of Read: a message, or (message null) the end of the stream
// with its final status (OK for a clean end).
struct StreamRead {
  MessagePtr message;
  absl::Status status;
};

class StreamEndpoint {
 public:
  StreamEndpoint(std::shared_ptr<Transport> transport,
                 StreamEndpointOptions options);
  StreamEndpoint(const StreamEndpoint&) = delete;
  StreamEndpoint& operator=(const StreamEndpoint&) = delete;

  // Client side, on accept: where to publish, the credit granted and, if
  // given, the heartbeat interval both sides use (liveness: 3 intervals).
  // `byte_credit`: the accept's `Natsrpc-Credit-Bytes`; present, the server
  // honours byte credit (revision 5) and this side's message window becomes
  // window_with_byte_credit; absent, this side stops bounding bytes.
  void SetPeer(absl::string_view peer_subject, uint64_t credit,
               std::optional<absl::Duration> heartbeat = std::nullopt,
               std::optional<uint64_t> byte_credit = std::nullopt);

  // Server side: where the first data message gets its metadata when Write
  // is given none (the handler's initial metadata, docs/protocol.md 9.1).
  // Called once, on the writing thread, under the write lock; null: none.
  // Clearing it waits for a Write in progress.
  void SetFirstMessageMetadata(std::function<Metadata()> source);

  // Client side: the server's initial metadata (the application headers of
  // accept and of its first msg, then the `Natsrpc-Initial-*` of its end)
  // and trailers (the application headers of its end), as received so far.
  Metadata initial_metadata() const;
  Metadata trailing_metadata() const;
  // Client side, on accept: its application headers.
  void AddInitialMetadata(const Metadata& headers);

  // Sends one data message, waiting (until `deadline`) for credit. Returns
  // OK; DEADLINE_EXCEEDED if no credit came by `deadline` (the stream goes
  // on); FAILED_PRECONDITION after WritesDone or after the peer ended the
  // stream; the stream's failure status; or a publish error (UNAVAILABLE
  // fails the stream, other errors leave it usable and the seq unused).
  absl::Status Write(absl::string_view payload, const Metadata* metadata,
                     absl::Time deadline = absl::InfiniteFuture());

  // Sends the end message with `Natsrpc-Count`, `status` as error headers
  // (clients always send OK) and `trailers` as extra headers. Once only.
  // Before the accept, waits for it until `deadline` (DEADLINE_EXCEEDED).
  // After the peer ended the stream: FAILED_PRECONDITION or its status.
  absl::Status WritesDone(const absl::Status& status,
                          const Metadata* trailers = nullptr,
                          absl::Time deadline = absl::InfiniteFuture());

  // Returns the next message in seq order, waiting until `deadline`
  // (DEADLINE_EXCEEDED then, stream goes on); then the end status; or the
  // failure status. Consuming grants the peer new credit.
  StreamRead Read(absl::Time deadline = absl::InfiniteFuture());

  // Async forms, for callback APIs: at most one ReadAsync and one WriteAsync
  // outstanding (another one completes at once with FAILED_PRECONDITION);
  // do not mix them with Read/Write on the same endpoint. `done` runs once,
  // without locks held: at once if possible, else on the thread that made
  // progress (a transport thread delivering a message or credit, or the one
  // that failed the stream). It may start the next operation.
  void ReadAsync(absl::AnyInvocable<void(StreamRead)> done);
  void WriteAsync(std::string payload, const Metadata* metadata,
                  absl::AnyInvocable<void(absl::Status)> done);
  // The async WritesDone (OK status, no trailers): runs once the accept
  // named the peer (at once if it did) and no WriteAsync is outstanding;
  // counts as the outstanding WriteAsync meanwhile.
  void WritesDoneAsync(absl::AnyInvocable<void(absl::Status)> done);

  // Ends the stream locally with `why` (CANCELLED by default) and tells the
  // peer with a cancel message. Idempotent.
  void Cancel(absl::Status why = absl::CancelledError("cancelled"));

  // The peer cancelled through another path (the cancel subject, before
  // accept): like a cancel message, nothing is sent back.
  void OnPeerCancel(absl::Status why);

  // Every stream message from the peer, routed here by the owner.
  void OnMessage(MessagePtr message);

  // Heartbeat and liveness; the owner calls it at least every
  // heartbeat_interval / 2.
  void Tick();

  // The failure status, OK while the stream has not failed.
  absl::Status failure() const;
  // True once end was sent (or this side never sends) and the peer's end was
  // read (or this side never receives), or the stream failed: the owner may
  // forget the stream.
  bool finished() const;
  // The receive window in messages and in bytes (0: none) now.
  uint64_t window() const;
  uint64_t window_bytes() const;
  absl::Time deadline() const { return options_.deadline; }
  StreamEndpointStats stats() const;

 private:
  struct Outgoing {
    wire::StreamFrame frame = wire::StreamFrame::kMsg;
    std::string subject;
    uint64_t seq = 0;     // kMsg
    uint64_t count = 0;   // kEnd
    uint64_t credit = 0;  // every frame except kMsg
    // With credit, if this side bounds bytes (revision 5).
    std::optional<uint64_t> credit_bytes;
    absl::Status status;  // kEnd, kCancel
    const Metadata* metadata = nullptr;
    absl::string_view payload;
  };

  struct PendingWrite {
    bool is_end = false;  // WritesDoneAsync
    std::string payload;
    Metadata metadata;
    bool has_metadata = false;
    bool stalled = false;  // counted in credit_stalls
    absl::AnyInvocable<void(absl::Status)> done;
  };

  absl::Status Publish(const Outgoing& out);
  // Sets out.credit (and credit_bytes) to what this side granted.
  void FillCreditLocked(Outgoing& out) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the peer's credit lets this side send its next message.
  bool HasSendCreditLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountCreditStall() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // If a read can complete (message, end or failure), fills `result`, and
  // `credit` when the peer is due more credit; else false.
  bool TakeLocked(StreamRead& result, Outgoing& credit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes `credit` if it has a subject.
  void SendCredit(const Outgoing& credit);
  // Completes a pending ReadAsync / WriteAsync that can now proceed.
  void CompleteAsync();
  // Makes `write` the outstanding async write, or fails it with
  // FAILED_PRECONDITION `busy_error` if one is outstanding already.
  void QueueAsyncWrite(PendingWrite write, absl::string_view busy_error);
  // Fails the stream once: optionally tells the peer, runs on_failure, then
  // makes the failure visible to Read/Write/failure().
  void Fail(absl::Status status, bool notify_peer);
  absl::Time Now() const;

  const std::shared_ptr<Transport> transport_;
  const StreamEndpointOptions options_;

  // Serialises data frames (msg, end) so that seqs go out in order.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::function<Metadata()> first_message_metadata_ ABSL_GUARDED_BY(write_mu_);

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::string peer_subject_ ABSL_GUARDED_BY(mu_);
  bool failing_ ABSL_GUARDED_BY(mu_) = false;  // Fail() started
  absl::Status failure_ ABSL_GUARDED_BY(mu_);  // set when Fail() is done
  // Sending.
  uint64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t send_credit_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t sent_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<uint64_t> send_byte_credit_ ABSL_GUARDED_BY(mu_);
  bool end_sent_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status send_closed_ ABSL_GUARDED_BY(mu_);  // non-OK: writes refused
  // Receiving.
  absl::btree_map<uint64_t, MessagePtr> buffer_ ABSL_GUARDED_BY(mu_);
  uint64_t consumed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t granted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t window_ ABSL_GUARDED_BY(mu_) = 0;        // messages
  uint64_t window_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // 0: no byte bound
  uint64_t received_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t consumed_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t granted_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<uint64_t> end_count_ ABSL_GUARDED_BY(mu_);
  absl::Status end_status_ ABSL_GUARDED_BY(mu_);
  // What the peer sent back (client side): initial metadata, trailers.
  Metadata initial_metadata_ ABSL_GUARDED_BY(mu_);
  Metadata trailing_metadata_ ABSL_GUARDED_BY(mu_);
  bool end_read_ ABSL_GUARDED_BY(mu_) = false;
  // Async operations.
  absl::AnyInvocable<void(StreamRead)> read_callback_ ABSL_GUARDED_BY(mu_);
  std::optional<PendingWrite> pending_write_ ABSL_GUARDED_BY(mu_);
  bool async_publishing_ ABSL_GUARDED_BY(mu_) = false;
  // Liveness.
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_);
  absl::Duration liveness_timeout_ ABSL_GUARDED_BY(mu_);
  absl::Time last_heard_ ABSL_GUARDED_BY(mu_);
  absl::Time last_sent_ ABSL_GUARDED_BY(mu_);
  StreamEndpointStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_STREAM_STREAM_ENDPOINT_H_
