// Copyright 2026 The natsrpc Authors.
//
// What both sides of durable requests (runtime/src/durable/) share: the
// specs of what they create on first use, the stored result, and the
// permission errors behind a JetStream timeout.

#ifndef NATSRPC_SRC_DURABLE_DURABLE_COMMON_H_
#define NATSRPC_SRC_DURABLE_DURABLE_COMMON_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "natsrpc/connection.h"
#include "natsrpc/durable.h"
#include "natsrpc/jetstream.h"

namespace natsrpc::internal {

inline constexpr size_t kMaxRequestIdLength = 64;

// INVALID_ARGUMENT unless `id` is a subject token of at most 64 characters.
absl::Status ValidateRequestId(absl::string_view id);

StreamSpec RequestStreamSpec(absl::string_view responder,
                             const DurableOptions& options);
StreamSpec DeadLetterStreamSpec(absl::string_view responder,
                                const DurableOptions& options);
KeyValueSpec ResultBucketSpec(absl::string_view responder,
                              const DurableOptions& options);

// A value read from the result bucket (nullopt: none yet) as a result.
absl::StatusOr<DurableRawResult> ToRawResult(
    absl::StatusOr<std::optional<std::string>> value);

// The permission violations nats-server reports on a connection
// (TransportEvent::kPermissionDenied). nats.c does not fail a JetStream API
// request whose publish, or whose reply subscription, the server refused:
// the request times out. Explain() turns such a timeout into
// PERMISSION_DENIED naming the refused subject and the grants of
// docs/protocol.md 14.4.
class PermissionErrors {
 public:
  explicit PermissionErrors(const Connection& connection);
  ~PermissionErrors();
  PermissionErrors(const PermissionErrors&) = delete;
  PermissionErrors& operator=(const PermissionErrors&) = delete;

  // The violations reported so far: pass it to Explain() for an operation
  // that starts now.
  uint64_t Mark() const;

  // `status`, unless it is DEADLINE_EXCEEDED and a violation of a subject
  // durable requests use (JetStream's $JS. and $KV., nats.c's _INBOX., a
  // durable request's) was reported since `mark`: then PERMISSION_DENIED
  // naming the latest one.
  absl::Status Explain(const absl::Status& status, uint64_t mark) const;

 private:
  struct State {
    mutable absl::Mutex mu;
    uint64_t count ABSL_GUARDED_BY(mu) = 0;
    std::string subject ABSL_GUARDED_BY(mu);
    bool publish ABSL_GUARDED_BY(mu) = true;
  };

  Connection connection_;
  // Shared with the listener, which may run once more after removal.
  std::shared_ptr<State> state_;
  uint64_t listener_ = 0;
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_DURABLE_DURABLE_COMMON_H_
