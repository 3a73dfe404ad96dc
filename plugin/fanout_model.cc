// Copyright 2026 The natsrpc Authors.

#include "fanout_model.h"

#include "absl/strings/str_cat.h"

namespace natsrpc::gen {

void AssignFanoutIdentifiers(ServiceDef& service, NameSet& taken) {
  NameSet all = GeneratedMemberNames();
  for (const MethodDef& m : service.methods) {
    all.insert(m.cpp_name);
    all.insert(m.cpp_async_name);
    all.insert(m.cpp_raw_name);
  }
  for (MethodDef& m : service.methods) {
    m.cpp_confirmed_name = Uniquify(absl::StrCat(m.cpp_name, "Confirmed"), all);
    all.insert(m.cpp_confirmed_name);
    std::string gather = absl::StrCat(m.cpp_name, "All");
    while (all.contains(gather) || all.contains(gather + "Async")) {
      gather += '_';
    }
    m.cpp_gather_name = gather;
    m.cpp_gather_async_name = gather + "Async";
    all.insert(m.cpp_gather_name);
    all.insert(m.cpp_gather_async_name);
    taken.insert(m.cpp_confirmed_name);
    taken.insert(m.cpp_gather_name);
    taken.insert(m.cpp_gather_async_name);
  }
}

absl::Status ApplyEventOptions(MethodDef& method, bool event, bool broadcast,
                               absl::string_view where) {
  if (event && method.streaming != StreamingKind::kUnary) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": an event method cannot stream"));
  }
  if (broadcast && !event) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": broadcast applies to event methods only"));
  }
  method.event = event;
  method.event_broadcast = event && broadcast;
  return absl::OkStatus();
}

}  // namespace natsrpc::gen
