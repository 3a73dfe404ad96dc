// Copyright 2026 The natsrpc Authors.
//
// The runtime's way into a ServerContext (natsrpc/server.h): what users must
// not touch.

#ifndef NATSRPC_SRC_SERVER_SERVER_CONTEXT_ACCESS_H_
#define NATSRPC_SRC_SERVER_SERVER_CONTEXT_ACCESS_H_

#include <atomic>

#include "natsrpc/server.h"

namespace natsrpc::internal {

class ServerContextAccess {
 public:
  // The flag behind IsCancelled(); it must outlive the context.
  static void SetCancelFlag(ServerContext& context,
                            const std::atomic<bool>* flag) {
    context.cancelled_ = flag;
  }
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_SERVER_SERVER_CONTEXT_ACCESS_H_
