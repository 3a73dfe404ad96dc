// Copyright 2026 The natsrpc Authors.
//
// What both sides of durable requests (runtime/src/durable/) share: the
// specs of what they create on first use, and the stored result.

#ifndef NATSRPC_SRC_DURABLE_DURABLE_COMMON_H_
#define NATSRPC_SRC_DURABLE_DURABLE_COMMON_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_DURABLE_DURABLE_COMMON_H_
