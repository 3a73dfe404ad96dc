// Copyright 2026 The natsrpc Authors.

#include "wire/status_body.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "wire/headers.h"

namespace natsrpc::wire {
namespace {

// Protobuf wire types.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLengthDelimited = 2;
constexpr uint32_t kStartGroup = 3;
constexpr uint32_t kEndGroup = 4;
constexpr uint32_t kFixed32 = 5;

// Field numbers of google.rpc.Status and google.protobuf.Any.
constexpr uint32_t kStatusCode = 1;
constexpr uint32_t kStatusMessage = 2;
constexpr uint32_t kStatusDetails = 3;
constexpr uint32_t kAnyTypeUrl = 1;
constexpr uint32_t kAnyValue = 2;

constexpr int kMaxGroupDepth = 64;

void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void PutTag(std::string& out, uint32_t field, uint32_t wire_type) {
  PutVarint(out, (uint64_t{field} << 3) | wire_type);
}

void PutBytes(std::string& out, uint32_t field, absl::string_view bytes) {
  PutTag(out, field, kLengthDelimited);
  PutVarint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

// A cursor over protobuf wire bytes. Every read checks the remaining size;
// on a malformed input it records the reason and returns false.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : rest_(bytes) {}

  bool done() const { return rest_.empty(); }
  const std::string& error() const { return error_; }

  bool Varint(uint64_t& value) {
    value = 0;
    for (int i = 0; i < 10; ++i) {
      if (rest_.empty()) return Fail("truncated varint");
      const auto byte = static_cast<uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      // The 10th byte holds bit 63 only; higher bits are dropped, as
      // protobuf does.
      value |= uint64_t{byte & 0x7fu} << (7 * i);
      if ((byte & 0x80) == 0) return true;
    }
    return Fail("varint longer than 10 bytes");
  }

  bool Tag(uint32_t& field, uint32_t& wire_type) {
    uint64_t tag = 0;
    if (!Varint(tag)) return false;
    if (tag > 0xffffffffu) return Fail("tag does not fit 32 bits");
    field = static_cast<uint32_t>(tag >> 3);
    wire_type = static_cast<uint32_t>(tag & 7);
    if (field == 0) return Fail("field number 0");
    return true;
  }

  bool LengthDelimited(absl::string_view& bytes) {
    uint64_t size = 0;
    if (!Varint(size)) return false;
    if (size > rest_.size()) return Fail("truncated length-delimited field");
    bytes = rest_.substr(0, static_cast<size_t>(size));
    rest_.remove_prefix(static_cast<size_t>(size));
    return true;
  }

  bool Skip(size_t n) {
    if (n > rest_.size()) return Fail("truncated fixed-size field");
    rest_.remove_prefix(n);
    return true;
  }

  // Skips the value of a field whose tag was just read.
  bool SkipField(uint32_t field, uint32_t wire_type, int depth = 0) {
    uint64_t ignored = 0;
    absl::string_view bytes;
    switch (wire_type) {
      case kVarint:
        return Varint(ignored);
      case kFixed64:
        return Skip(8);
      case kLengthDelimited:
        return LengthDelimited(bytes);
      case kFixed32:
        return Skip(4);
      case kStartGroup: {
        if (depth >= kMaxGroupDepth) return Fail("groups nested too deep");
        while (true) {
          uint32_t inner_field = 0;
          uint32_t inner_type = 0;
          if (!Tag(inner_field, inner_type)) return false;
          if (inner_type == kEndGroup) {
            if (inner_field != field) return Fail("mismatched end group");
            return true;
          }
          if (!SkipField(inner_field, inner_type, depth + 1)) return false;
        }
      }
      case kEndGroup:
        return Fail("end group without start group");
      default:
        return Fail(absl::StrCat("invalid wire type ", wire_type));
    }
  }

 private:
  bool Fail(absl::string_view why) {
    if (error_.empty()) error_ = std::string(why);
    return false;
  }

  absl::string_view rest_;
  std::string error_;
};

absl::Status Malformed(absl::string_view what, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("status body: ", what, " is malformed (", why, ")"));
}

// absl::StatusOr<absl::Status> takes an absl::Status as its *value*, so an
// error is made through a StatusOr of a type that converts to absl::Status
// but is never constructed.
struct NeverAValue {
  operator absl::Status() const { return absl::OkStatus(); }  // NOLINT
};
absl::StatusOr<absl::Status> DecodeError(absl::Status error) {
  return absl::StatusOr<NeverAValue>(std::move(error));
}

struct Detail {
  std::string type_url;
  std::string value;
};

absl::StatusOr<Detail> DecodeAny(absl::string_view bytes) {
  Detail detail;
  Reader in(bytes);
  while (!in.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!in.Tag(field, wire_type)) return Malformed("detail", in.error());
    if ((field == kAnyTypeUrl || field == kAnyValue) &&
        wire_type == kLengthDelimited) {
      absl::string_view value;
      if (!in.LengthDelimited(value)) return Malformed("detail", in.error());
      (field == kAnyTypeUrl ? detail.type_url : detail.value) =
          std::string(value);
    } else if (!in.SkipField(field, wire_type)) {
      return Malformed("detail", in.error());
    }
  }
  return detail;
}

}  // namespace

std::string EncodeStatusBody(const absl::Status& status) {
  std::string out;
  if (status.ok()) return out;
  const int32_t code = static_cast<int32_t>(status.code());
  PutTag(out, kStatusCode, kVarint);
  // int32: a negative value is sign-extended to 10 bytes, as protobuf does.
  PutVarint(out, static_cast<uint64_t>(static_cast<int64_t>(code)));
  if (!status.message().empty()) {
    PutBytes(out, kStatusMessage, status.message());
  }
  std::vector<std::pair<std::string, std::string>> details;
  status.ForEachPayload(
      [&](absl::string_view type_url, const absl::Cord& value) {
        details.emplace_back(std::string(type_url), std::string(value));
      });
  std::sort(details.begin(), details.end());
  for (const auto& [type_url, value] : details) {
    std::string any;
    if (!type_url.empty()) PutBytes(any, kAnyTypeUrl, type_url);
    if (!value.empty()) PutBytes(any, kAnyValue, value);
    PutBytes(out, kStatusDetails, any);
  }
  return out;
}

absl::StatusOr<absl::Status> DecodeStatusBody(absl::string_view body) {
  int64_t code = 0;
  std::string message;
  std::vector<Detail> details;
  Reader in(body);
  while (!in.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!in.Tag(field, wire_type)) {
      return DecodeError(Malformed("body", in.error()));
    }
    if (field == kStatusCode && wire_type == kVarint) {
      uint64_t value = 0;
      if (!in.Varint(value)) return DecodeError(Malformed("code", in.error()));
      // int32 semantics: the low 32 bits, as protobuf parses an int32.
      code = static_cast<int32_t>(static_cast<uint32_t>(value));
    } else if (field == kStatusMessage && wire_type == kLengthDelimited) {
      absl::string_view value;
      if (!in.LengthDelimited(value)) {
        return DecodeError(Malformed("message", in.error()));
      }
      message = std::string(value);
    } else if (field == kStatusDetails && wire_type == kLengthDelimited) {
      absl::string_view value;
      if (!in.LengthDelimited(value)) {
        return DecodeError(Malformed("details", in.error()));
      }
      absl::StatusOr<Detail> detail = DecodeAny(value);
      if (!detail.ok()) return DecodeError(detail.status());
      details.push_back(*std::move(detail));
    } else if (!in.SkipField(field, wire_type)) {
      return DecodeError(Malformed("body", in.error()));
    }
  }
  if (code < 0 || code > 16) {
    return DecodeError(absl::InvalidArgumentError(absl::StrCat(
        "status body: code ", code, " is not a status code 0..16")));
  }
  if (code == 0) return absl::OkStatus();
  absl::Status status(static_cast<absl::StatusCode>(code), message);
  for (Detail& detail : details) {
    if (detail.type_url.empty()) continue;
    status.SetPayload(detail.type_url, absl::Cord(std::move(detail.value)));
  }
  return status;
}

absl::Status StatusFromErrorReply(std::optional<absl::string_view> code,
                                  std::optional<absl::string_view> message,
                                  absl::string_view body) {
  if (!code.has_value()) return absl::OkStatus();
  absl::Status from_headers = StatusFromHeaders(code, message);
  if (body.empty()) return from_headers;
  int number = 0;
  if (!absl::SimpleAtoi(*code, &number) || number < 1 || number > 16) {
    return from_headers;
  }
  absl::StatusOr<absl::Status> from_body = DecodeStatusBody(body);
  if (!from_body.ok() || static_cast<int>(from_body->code()) != number) {
    return from_headers;
  }
  return *std::move(from_body);
}

}  // namespace natsrpc::wire
