// Copyright 2026 The natsrpc Authors.

#include "wire/reply_metadata.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "wire/headers.h"
#include "wire/trace_context.h"

namespace natsrpc::wire {

bool IsApplicationHeader(absl::string_view key) {
  return !key.empty() && !IsReservedHeader(key) && !IsTraceHeader(key);
}

void AppendMetadata(const Metadata& metadata, absl::string_view prefix,
                    Metadata& out) {
  for (const auto& kv : metadata) {
    if (IsTraceHeader(kv.first) || !ValidateMetadata({kv}).ok()) continue;
    out.emplace_back(prefix.empty() ? kv.first : absl::StrCat(prefix, kv.first),
                     kv.second);
  }
}

void SplitMetadata(const Metadata& headers, absl::string_view prefix,
                   Metadata& plain, Metadata& prefixed) {
  for (const auto& [key, value] : headers) {
    if (IsApplicationHeader(key)) {
      plain.emplace_back(key, value);
    } else if (!prefix.empty() && absl::StartsWith(key, prefix) &&
               IsApplicationHeader(
                   absl::string_view(key).substr(prefix.size()))) {
      prefixed.emplace_back(key.substr(prefix.size()), value);
    }
  }
}

}  // namespace natsrpc::wire
