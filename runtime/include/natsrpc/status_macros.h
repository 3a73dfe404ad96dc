// Copyright 2026 The natsrpc Authors.
//
// Small helpers for absl::Status plumbing. abseil 20220623 (Debian 12) has no
// public ABSL_RETURN_IF_ERROR, so natsrpc carries its own.

#ifndef NATSRPC_STATUS_MACROS_H_
#define NATSRPC_STATUS_MACROS_H_

#include "absl/status/status.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function
// when it is not OK.
//
//   NATSRPC_RETURN_IF_ERROR(ValidateToken("requester", requester));
#define NATSRPC_RETURN_IF_ERROR(expr)                      \
  do {                                                     \
    if (::absl::Status natsrpc_status_ = (expr);           \
        !natsrpc_status_.ok()) {                           \
      return natsrpc_status_;                              \
    }                                                      \
  } while (false)

#endif  // NATSRPC_STATUS_MACROS_H_
