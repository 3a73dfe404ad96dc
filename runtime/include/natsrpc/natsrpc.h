// Copyright 2026 The natsrpc Authors.
//
// What a natsrpc user writes against: connecting, clients, servers, streams,
// interceptors, codecs and statuses. Generated files include
// natsrpc/impl/codegen.h, which adds what only they use.

#ifndef NATSRPC_NATSRPC_H_
#define NATSRPC_NATSRPC_H_

#include "natsrpc/async.h"
#include "natsrpc/client.h"
#include "natsrpc/coro.h"
#include "natsrpc/codec.h"
#include "natsrpc/connection.h"
#include "natsrpc/fanout.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/metadata.h"
#include "natsrpc/metrics.h"
#include "natsrpc/names.h"
#include "natsrpc/server.h"
#include "natsrpc/status_macros.h"
#include "natsrpc/stream.h"
#include "natsrpc/trace.h"
#include "natsrpc/version.h"

#endif  // NATSRPC_NATSRPC_H_
