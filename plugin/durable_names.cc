// Copyright 2026 The natsrpc Authors.

#include "durable_names.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"

namespace natsrpc::gen {

absl::Status AssignDurableNames(ServiceDef& service, absl::string_view where) {
  // The DurableClient's own members, and the blocking calls.
  std::set<std::string> taken = {"DurableClient", "status", "raw", "client_"};
  for (const MethodDef& m : service.methods) {
    if (!m.durable) continue;
    if (m.streaming != StreamingKind::kUnary) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": service ", service.full_name, ", method ",
                       m.name, ": only unary methods can be durable"));
    }
    taken.insert(m.cpp_name);
  }
  auto unique = [&taken](std::string name) {
    while (taken.count(name) != 0) name += '_';
    taken.insert(name);
    return name;
  };
  for (MethodDef& m : service.methods) {
    if (!m.durable) continue;
    m.cpp_durable_submit_name = unique(absl::StrCat("Submit", m.cpp_name));
    m.cpp_durable_fetch_name = unique(absl::StrCat("Fetch", m.cpp_name));
  }
  return absl::OkStatus();
}

}  // namespace natsrpc::gen
