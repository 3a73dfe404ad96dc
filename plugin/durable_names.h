// Copyright 2026 The natsrpc Authors.
//
// The identifiers of a service's generated DurableClient (durable requests,
// docs/protocol.md section 14), shared by both front ends.

#ifndef NATSRPC_PLUGIN_DURABLE_NAMES_H_
#define NATSRPC_PLUGIN_DURABLE_NAMES_H_

#include "absl/status/status.h"
#include "model.h"

namespace natsrpc::gen {

// For every method with `durable` set: checks it is unary (else
// INVALID_ARGUMENT naming `where` and the method) and fills
// cpp_durable_submit_name ("Submit" + cpp_name) and cpp_durable_fetch_name
// ("Fetch" + cpp_name), each followed by '_' as often as needed to differ
// from every other member of the DurableClient.
absl::Status AssignDurableNames(ServiceDef& service, absl::string_view where);

}  // namespace natsrpc::gen

#endif  // NATSRPC_PLUGIN_DURABLE_NAMES_H_
