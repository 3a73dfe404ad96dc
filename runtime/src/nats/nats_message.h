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
#include "absl/strings/string_view.h"
#include "natsrpc/transport.h"

namespace natsrpc::internal {

// The first line of every NATS header block.
inline constexpr absl::string_view kHeaderLine = "NATS/1.0";

// Headers read from a header block. Views into the block.
using HeaderEntries =
    absl::InlinedVector<std::pair<absl::string_view, absl::string_view>, 4>;

// Parses a complete header block ("NATS/1.0[ status]\r\n...\r\n\r\n") as
// nats.c would: values trimmed, an inline status ("NATS/1.0 503") as headers
// Status and Description. False for anything it does not handle exactly like
// nats.c (folded lines, empty values, a malformed block): the caller must
// then ask nats.c.
bool ParseHeaderBlock(absl::string_view block, HeaderEntries& out);

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

 private:
  natsMsg* const msg_;
  const bool fast_path_;
  // True if `parsed_` holds the headers; otherwise nats.c's natsMsgHeader_*
  // functions are asked.
  bool parsed_ok_ = false;
  HeaderEntries parsed_;
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_NATS_NATS_MESSAGE_H_
