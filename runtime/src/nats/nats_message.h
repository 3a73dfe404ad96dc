// Copyright 2026 The natsrpc Authors.
//
// A message received through nats.c, as the core sees it (IncomingMessage),
// and the NATS header block format both directions use.

#ifndef NATSRPC_SRC_NATS_NATS_MESSAGE_H_
#define NATSRPC_SRC_NATS_NATS_MESSAGE_H_

#include <nats/nats.h>

#include <optional>
#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "natsrpc/transport.h"

namespace natsrpc::internal {

// The first line of every NATS header block.
inline constexpr absl::string_view kHeaderLine = "NATS/1.0";

// Headers read from a header block. Views into the block.
using HeaderEntries =
    absl::InlinedVector<std::pair<absl::string_view, absl::string_view>, 4>;

// Parses a complete header block ("NATS/1.0[ status]\r\n...\r\n\r\n"), the
// grammar of docs/protocol.md section 3: one "Name: value" per line, the
// name printable ASCII without spaces or ':', the value trimmed of spaces
// and tabs and possibly empty; an inline status ("NATS/1.0 503") becomes
// headers Status and Description. Anything else (another first line, a line
// without ':', a folded line, an empty line before the end, a lone CR or
// LF) is INVALID_ARGUMENT naming the fault, and `out` is left empty.
absl::Status ParseHeaderBlock(absl::string_view block, HeaderEntries& out);

// Appends "NATS/1.0\r\n", one "key: value\r\n" per header and the final
// "\r\n" to `out`. Line breaks in values become spaces, as nats.c encodes
// them.
void AppendHeaderBlock(const OutgoingMessage& m, std::string& out);

class NatsMessage final : public IncomingMessage {
 public:
  // Takes ownership of `msg`. `fast_path`: nats_internals::Available() and
  // the connection uses it (TransportTuning::nats_internals).
  NatsMessage(natsMsg* msg, bool fast_path);
  ~NatsMessage() override;
  NatsMessage(const NatsMessage&) = delete;
  NatsMessage& operator=(const NatsMessage&) = delete;

  absl::string_view subject() const override;
  absl::string_view reply() const override;
  absl::string_view data() const override;
  std::optional<absl::string_view> header(absl::string_view key) const override;
  Metadata headers() const override;
  bool is_no_responders() const override;
  absl::Status header_status() const override;

 private:
  natsMsg* const msg_;
  const bool fast_path_;
  // True if natsrpc read the header block: `parsed_` holds the headers,
  // or none if `header_status_` says the block is malformed. Otherwise
  // nats.c's natsMsgHeader_* functions are asked.
  bool parsed_ok_ = false;
  HeaderEntries parsed_;
  absl::Status header_status_;
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_NATS_NATS_MESSAGE_H_
