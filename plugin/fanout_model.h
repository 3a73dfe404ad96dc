// Copyright 2026 The natsrpc Authors.
//
// The events and scatter-gather part of the model (model.h, docs/protocol.md
// section 13), shared by both front ends: the extra C++ names of each method
// and the checks of the event options.

#ifndef NATSRPC_PLUGIN_FANOUT_MODEL_H_
#define NATSRPC_PLUGIN_FANOUT_MODEL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "model.h"
#include "names.h"

namespace natsrpc::gen {

// Fills cpp_confirmed_name, cpp_gather_name and cpp_gather_async_name of
// every method of `service`, whose cpp_name, cpp_async_name and
// cpp_raw_name are already set: `<call>Confirmed`, `<call>All` and
// `<call>AllAsync`, with `_` appended until none is taken by another
// generated name of the service (rule 2 of names.h). Also adds them to
// `taken`.
//
//   methods "Add", "AddAll" -> Add: "AddConfirmed", "AddAll_",
//   "AddAll_Async"; AddAll: "AddAllConfirmed", "AddAllAll", "AddAllAllAsync"
void AssignFanoutIdentifiers(ServiceDef& service, NameSet& taken);

// Sets `method.event` and `method.event_broadcast` from the IDL's options;
// INVALID_ARGUMENT (starting with `where`) if an event method streams, or
// `broadcast` is asked of a method that is not an event.
absl::Status ApplyEventOptions(MethodDef& method, bool event, bool broadcast,
                               absl::string_view where);

}  // namespace natsrpc::gen

#endif  // NATSRPC_PLUGIN_FANOUT_MODEL_H_
