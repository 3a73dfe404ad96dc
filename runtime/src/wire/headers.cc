// Copyright 2026 The natsrpc Authors.

#include "wire/headers.h"

#include <algorithm>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace natsrpc::wire {
namespace {

constexpr int64_t kMaxTimeoutValue = 99999999;  // 8 digits, as grpc-timeout

struct TimeoutUnit {
  char symbol;
  int64_t nanos;
};

// Finest first.
constexpr TimeoutUnit kTimeoutUnits[] = {
    {'n', 1},
    {'u', 1000},
    {'m', 1000 * 1000},
    {'S', 1000 * 1000 * 1000},
    {'M', int64_t{60} * 1000 * 1000 * 1000},
    {'H', int64_t{3600} * 1000 * 1000 * 1000},
};

}  // namespace

bool IsReservedHeader(absl::string_view key) {
  return absl::StartsWithIgnoreCase(key, "Nats-") ||
         absl::StartsWithIgnoreCase(key, "Natsrpc-") ||
         absl::EqualsIgnoreCase(key, kContentTypeHeader);
}

absl::Status ValidateMetadata(const Metadata& metadata) {
  for (const auto& [key, value] : metadata) {
    if (key.empty()) {
      return absl::InvalidArgumentError("metadata key is empty");
    }
    for (char c : key) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 32 || u >= 127 || c == ':') {
        return absl::InvalidArgumentError(absl::StrCat(
            "metadata key \"", absl::CEscape(key),
            "\" has a character that is not allowed in a header name"));
      }
    }
    if (IsReservedHeader(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metadata key \"", key,
          "\" is reserved (Nats-*, Natsrpc-* and Content-Type are set by "
          "natsrpc)"));
    }
    for (char c : value) {
      if (c == '\r' || c == '\n') {
        return absl::InvalidArgumentError(
            absl::StrCat("metadata value of \"", key,
                         "\" contains a line break: \"", absl::CEscape(value),
                         "\""));
      }
    }
  }
  return absl::OkStatus();
}

std::string EncodeTimeout(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return "0n";
  // Saturates at about 292 years, which 8 digits of hours still hold.
  const int64_t nanos = absl::ToInt64Nanoseconds(timeout);
  for (const TimeoutUnit& unit : kTimeoutUnits) {
    // Rounded up so the receiver never sees less time than the sender has.
    const int64_t value =
        nanos / unit.nanos + (nanos % unit.nanos != 0 ? 1 : 0);
    if (value <= kMaxTimeoutValue) {
      return absl::StrCat(value, std::string(1, unit.symbol));
    }
  }
  return absl::StrCat(kMaxTimeoutValue, "H");
}

absl::StatusOr<absl::Duration> DecodeTimeout(absl::string_view value) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(kTimeoutHeader, " \"", absl::CEscape(value),
                     "\" is not a timeout (", why, ")"));
  };
  if (value.size() < 2 || value.size() > 9) {
    return bad("expected 1 to 8 digits and a unit");
  }
  const absl::string_view digits = value.substr(0, value.size() - 1);
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return bad("expected 1 to 8 digits and a unit");
    }
  }
  int64_t amount = 0;
  if (!absl::SimpleAtoi(digits, &amount)) return bad("bad number");
  const char symbol = value.back();
  for (const TimeoutUnit& unit : kTimeoutUnits) {
    if (unit.symbol == symbol) return absl::Nanoseconds(unit.nanos) * amount;
  }
  return bad("unit is not one of H M S m u n");
}

absl::Status StatusFromHeaders(std::optional<absl::string_view> code,
                               std::optional<absl::string_view> message) {
  if (!code.has_value()) return absl::OkStatus();
  const std::string text = message.has_value() ? std::string(*message) : "";
  int number = 0;
  if (!absl::SimpleAtoi(*code, &number) || number < 1 || number > 16) {
    return absl::UnknownError(absl::StrCat(
        "reply has ", kErrorCodeHeader, " \"", absl::CEscape(*code),
        "\" that is not a status code 1..16", text.empty() ? "" : ": ", text));
  }
  return absl::Status(static_cast<absl::StatusCode>(number), text);
}

absl::string_view StreamFrameName(StreamFrame frame) {
  switch (frame) {
    case StreamFrame::kOpen:
      return "open";
    case StreamFrame::kAccept:
      return "accept";
    case StreamFrame::kMsg:
      return "msg";
    case StreamFrame::kEnd:
      return "end";
    case StreamFrame::kCancel:
      return "cancel";
    case StreamFrame::kCredit:
      return "credit";
    case StreamFrame::kPing:
      return "ping";
  }
  return "";
}

std::optional<StreamFrame> ParseStreamFrame(absl::string_view value) {
  for (StreamFrame f :
       {StreamFrame::kOpen, StreamFrame::kAccept, StreamFrame::kMsg,
        StreamFrame::kEnd, StreamFrame::kCancel, StreamFrame::kCredit,
        StreamFrame::kPing}) {
    if (StreamFrameName(f) == value) return f;
  }
  return std::nullopt;
}

std::optional<uint64_t> ParseCounter(std::optional<absl::string_view> value) {
  uint64_t n = 0;
  if (!value.has_value() || value->empty() || !absl::SimpleAtoi(*value, &n) ||
      (*value)[0] == '+' || (*value)[0] == '-') {
    return std::nullopt;
  }
  return n;
}

Metadata SendableMetadata(const Metadata& metadata) {
  Metadata out;
  for (const auto& kv : metadata) {
    if (ValidateMetadata({kv}).ok()) out.push_back(kv);
  }
  return out;
}

StatusHeaders::StatusHeaders(const absl::Status& status) : ok_(status.ok()) {
  if (ok_) return;
  code_ = absl::StrCat(static_cast<int>(status.code()));
  message_ = std::string(status.message());
  std::replace(message_.begin(), message_.end(), '\r', ' ');
  std::replace(message_.begin(), message_.end(), '\n', ' ');
}

size_t StatusHeaders::WriteTo(HeaderRef* out) const {
  if (ok_) return 0;
  out[0] = HeaderRef{kErrorCodeHeader, code_};
  out[1] = HeaderRef{kErrorHeader, message_};
  return 2;
}

}  // namespace natsrpc::wire
