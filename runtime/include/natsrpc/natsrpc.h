// Copyright 2026 The natsrpc Authors.
//
// Everything a natsrpc user or generated file needs.

#ifndef NATSRPC_NATSRPC_H_
#define NATSRPC_NATSRPC_H_

#include "natsrpc/client.h"
#include "natsrpc/codec.h"
#include "natsrpc/connection.h"
#include "natsrpc/metadata.h"
#include "natsrpc/names.h"
#include "natsrpc/server.h"
#include "natsrpc/status_macros.h"
#include "natsrpc/transport.h"
#include "natsrpc/version.h"

#endif  // NATSRPC_NATSRPC_H_
