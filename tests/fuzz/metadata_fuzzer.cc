// Copyright 2026 The natsrpc Authors.
//
// Fuzzes the rules for application metadata and for the status a reply
// carries (runtime/src/wire/headers.h, status_body.h; docs/protocol.md
// sections 3 and 4): ValidateMetadata(), SendableMetadata(),
// IsReservedHeader(), StatusFromHeaders(), DecodeStatusBody() and
// StatusFromErrorReply().
//
// Input: `Key: value` lines (metadata; a line without ':' is a key with an
// empty value), an empty line, then the bytes of a status body. Checks:
// validation is per entry; what SendableMetadata() keeps validates; valid
// metadata survives the NATS header block writer and reader
// (runtime/src/nats/nats_message.h) with the same keys; a decoded status
// body re-encodes to one that decodes to the same status; the error headers
// of any status give back its code.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "nats/nats_message.h"
#include "natsrpc/metadata.h"
#include "wire/headers.h"
#include "wire/status_body.h"

namespace {

namespace wire = natsrpc::wire;

[[noreturn]] void Fail(const char* what, absl::string_view input) {
  std::fprintf(stderr, "metadata_fuzzer: %s\ninput: \"%s\"\n", what,
               absl::CEscape(input).c_str());
  std::abort();
}

void CheckMetadata(const natsrpc::Metadata& md, absl::string_view input) {
  bool all_valid = true;
  for (const auto& kv : md) {
    const bool valid = wire::ValidateMetadata({kv}).ok();
    all_valid = all_valid && valid;
    if (valid && wire::IsReservedHeader(kv.first)) {
      Fail("a reserved key validated", input);
    }
  }
  const absl::Status whole = wire::ValidateMetadata(md);
  if (whole.ok() != all_valid) Fail("validation is not per entry", input);
  if (!whole.ok() && whole.message().empty()) {
    Fail("error without a message", input);
  }
  const natsrpc::Metadata sendable = wire::SendableMetadata(md);
  if (!wire::ValidateMetadata(sendable).ok()) {
    Fail("SendableMetadata kept an invalid entry", input);
  }
  if (all_valid && sendable != md) Fail("SendableMetadata dropped", input);

  // Sent as a header block and read back (when the fast reader takes it).
  natsrpc::OutgoingMessage m;
  m.metadata = &sendable;
  std::string block;
  natsrpc::internal::AppendHeaderBlock(m, block);
  natsrpc::internal::HeaderEntries entries;
  if (natsrpc::internal::ParseHeaderBlock(block, entries).ok()) {
    if (entries.size() != sendable.size()) {
      Fail("metadata lost entries in a header block", input);
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].first != sendable[i].first) {
        Fail("metadata key changed in a header block", input);
      }
    }
  }
}

void CheckStatus(const natsrpc::Metadata& md, absl::string_view body,
                 absl::string_view input) {
  std::optional<absl::string_view> code, message;
  if (!md.empty()) code = md[0].second;
  if (md.size() > 1) message = md[1].second;
  const absl::Status from_headers = wire::StatusFromHeaders(code, message);
  if (code.has_value() == from_headers.ok()) {
    Fail("a code header gave OK, or no code header an error", input);
  }
  // The error headers of a status give back its code.
  if (!from_headers.ok()) {
    wire::StatusHeaders h(from_headers);
    natsrpc::HeaderRef out[2];
    if (h.WriteTo(out) != 2) Fail("an error wrote no headers", input);
    if (out[1].value.find_first_of("\r\n") != absl::string_view::npos) {
      Fail("error message header has a line break", input);
    }
    const absl::Status again =
        wire::StatusFromHeaders(out[0].value, out[1].value);
    if (again.code() != from_headers.code()) {
      Fail("error headers do not give back the code", input);
    }
  }

  absl::StatusOr<absl::Status> decoded = wire::DecodeStatusBody(body);
  if (decoded.ok()) {
    const std::string encoded = wire::EncodeStatusBody(*decoded);
    absl::StatusOr<absl::Status> again = wire::DecodeStatusBody(encoded);
    if (!again.ok() || *again != *decoded) {
      Fail("a decoded status body does not re-encode to itself", input);
    }
  }
  const absl::Status reply = wire::StatusFromErrorReply(code, message, body);
  if (reply.ok() != from_headers.ok() ||
      (!reply.ok() && reply.code() != from_headers.code())) {
    Fail("StatusFromErrorReply's code is not the headers' code", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find("\n\n");
  const absl::string_view lines = input.substr(0, split);
  const absl::string_view body = split == absl::string_view::npos
                                     ? absl::string_view()
                                     : input.substr(split + 2);
  natsrpc::Metadata md;
  if (!lines.empty()) {
    for (absl::string_view line : absl::StrSplit(lines, '\n')) {
      const size_t colon = line.find(':');
      if (colon == absl::string_view::npos) {
        md.emplace_back(std::string(line), "");
        continue;
      }
      absl::string_view value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      md.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
  }
  CheckMetadata(md, input);
  CheckStatus(md, body, input);
  return 0;
}
