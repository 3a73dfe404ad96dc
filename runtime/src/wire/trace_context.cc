// Copyright 2026 The natsrpc Authors.

#include "wire/trace_context.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace natsrpc::wire {
namespace {

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

constexpr size_t kTraceparentV00Size = 55;  // 2+1+32+1+16+1+2
constexpr size_t kMaxTracestateSize = 512;

}  // namespace

bool IsTraceHeader(absl::string_view key) {
  return absl::EqualsIgnoreCase(key, kTraceparentHeader) ||
         absl::EqualsIgnoreCase(key, kTracestateHeader);
}

bool IsTraceId(absl::string_view hex, size_t digits) {
  if (hex.size() != digits) return false;
  bool nonzero = false;
  for (char c : hex) {
    if (!IsLowerHex(c)) return false;
    nonzero |= c != '0';
  }
  return nonzero;
}

std::optional<TraceContext> ParseTraceparent(absl::string_view value) {
  if (value.size() < kTraceparentV00Size) return std::nullopt;
  const absl::string_view version = value.substr(0, 2);
  if (!IsLowerHex(version[0]) || !IsLowerHex(version[1]) || version == "ff") {
    return std::nullopt;
  }
  if (version == "00" && value.size() != kTraceparentV00Size) {
    return std::nullopt;
  }
  // A later version: the first four fields as version 00, then '-' and
  // fields of its own, which are ignored.
  if (value.size() > kTraceparentV00Size && value[kTraceparentV00Size] != '-') {
    return std::nullopt;
  }
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') {
    return std::nullopt;
  }
  const absl::string_view trace_id = value.substr(3, 32);
  const absl::string_view span_id = value.substr(36, 16);
  const absl::string_view flags = value.substr(53, 2);
  if (!IsTraceId(trace_id, 32) || !IsTraceId(span_id, 16) ||
      !IsLowerHex(flags[0]) || !IsLowerHex(flags[1])) {
    return std::nullopt;
  }
  TraceContext out;
  out.trace_id = std::string(trace_id);
  out.span_id = std::string(span_id);
  out.flags =
      static_cast<uint8_t>(HexValue(flags[0]) * 16 + HexValue(flags[1]));
  return out;
}

std::string FormatTraceparent(const TraceContext& context) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char flags[2] = {kHex[context.flags >> 4], kHex[context.flags & 0xf]};
  return absl::StrCat("00-", context.trace_id, "-", context.span_id, "-",
                      absl::string_view(flags, 2));
}

TraceContext TraceContextFromHeaders(const Metadata& headers) {
  const std::string* traceparent = nullptr;
  std::string state;
  bool state_ok = true;
  for (const auto& [key, value] : headers) {
    if (key == kTraceparentHeader) {
      if (traceparent == nullptr) traceparent = &value;
    } else if (key == kTracestateHeader) {
      if (!state.empty() && !value.empty()) state.push_back(',');
      state.append(value);
    }
  }
  if (traceparent == nullptr) return TraceContext();
  std::optional<TraceContext> parsed = ParseTraceparent(*traceparent);
  if (!parsed.has_value()) return TraceContext();
  if (state.size() > kMaxTracestateSize) state_ok = false;
  for (char c : state) {
    if (c < 0x20 || c > 0x7e) state_ok = false;
  }
  if (state_ok) parsed->trace_state = std::move(state);
  return *std::move(parsed);
}

TraceContext TraceContextFromMessage(const IncomingMessage& message) {
  if (!message.header(kTraceparentHeader).has_value()) return TraceContext();
  return TraceContextFromHeaders(message.headers());
}

void AppendTraceHeaders(const TraceContext& context, Metadata& headers) {
  if (!context.valid()) return;
  headers.emplace_back(std::string(kTraceparentHeader),
                       FormatTraceparent(context));
  if (!context.trace_state.empty()) {
    headers.emplace_back(std::string(kTracestateHeader), context.trace_state);
  }
}

}  // namespace natsrpc::wire
