// Copyright 2026 The natsrpc Authors.

#include "nats/nats_message.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nats/nats_internals.h"
#include "nats/nats_transport.h"

namespace natsrpc::internal {
namespace {

// docs/protocol.md section 3: receivers trim spaces and tabs around a value.
bool IsHeaderSpace(char c) { return c == ' ' || c == '\t'; }

absl::string_view TrimHeaderSpace(absl::string_view s) {
  while (!s.empty() && IsHeaderSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsHeaderSpace(s.back())) s.remove_suffix(1);
  return s;
}

void AppendHeader(absl::string_view k, absl::string_view v, std::string& out) {
  out.append(k.data(), k.size());
  out.append(": ");
  const size_t at = out.size();
  out.append(v.data(), v.size());
  // A line break would end the header.
  for (size_t i = at; i < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
  }
  out.append("\r\n");
}

}  // namespace

absl::Status ParseHeaderBlock(absl::string_view block, HeaderEntries& out) {
  out.clear();
  auto bad = [&](absl::string_view why) {
    out.clear();
    return absl::InvalidArgumentError(
        absl::StrCat("malformed NATS header block: ", why));
  };
  if (!absl::StartsWith(block, kHeaderLine)) {
    return bad(absl::StrCat("the first line is not \"", kHeaderLine, "\""));
  }
  if (!absl::EndsWith(block, "\r\n\r\n") ||
      block.size() < kHeaderLine.size() + 4) {
    return bad("it does not end with an empty line");
  }
  block.remove_suffix(2);  // the empty line; every line now ends in \r\n
  // This runs for every message received: one pass of memchr per byte
  // class, no lookup tables (absl's find_first_of builds one per call).
  const char* const data = block.data();
  const size_t size = block.size();
  // The first CR at or after `from` (there is one: the block ends in CRLF).
  auto next_cr = [&](size_t from) {
    return static_cast<size_t>(
        static_cast<const char*>(std::memchr(data + from, '\r', size - from)) -
        data);
  };
  auto has_lf = [&](size_t from, size_t to) {
    return std::memchr(data + from, '\n', to - from) != nullptr;
  };
  size_t eol = block.find("\r\n");
  absl::string_view status =
      block.substr(kHeaderLine.size(), eol - kHeaderLine.size());
  if (!status.empty() && status.front() != ' ' && status.front() != '\t') {
    return bad(absl::StrCat("the first line is not \"", kHeaderLine, "\""));
  }
  if (std::memchr(status.data(), '\r', status.size()) != nullptr ||
      has_lf(kHeaderLine.size(), eol)) {
    return bad("the first line has a lone CR or LF");
  }
  status = TrimHeaderSpace(status);
  if (!status.empty()) {
    constexpr size_t kStatusLen = 3;
    out.emplace_back("Status", status.substr(0, kStatusLen));
    if (status.size() > kStatusLen) {
      absl::string_view desc = TrimHeaderSpace(status.substr(kStatusLen));
      if (!desc.empty()) out.emplace_back("Description", desc);
    }
  }
  size_t pos = eol + 2;
  for (int line_number = 2; pos < size; ++line_number) {
    // The line ends at the first CRLF; a CR before it is a lone CR.
    eol = next_cr(pos);
    if (eol == pos && data[eol + 1] == '\n') {
      return bad(absl::StrCat("line ", line_number,
                              " is empty before the end of the block"));
    }
    if (data[eol + 1] != '\n' || has_lf(pos, eol)) {
      return bad(absl::StrCat("line ", line_number, " has a lone CR or LF"));
    }
    const absl::string_view line(data + pos, eol - pos);
    pos = eol + 2;
    const char* const colon_at =
        static_cast<const char*>(std::memchr(line.data(), ':', line.size()));
    if (colon_at == nullptr) {
      return bad(absl::StrCat("line ", line_number, " has no ':'"));
    }
    const size_t colon = static_cast<size_t>(colon_at - line.data());
    const absl::string_view name = line.substr(0, colon);
    if (name.empty()) {
      return bad(absl::StrCat("line ", line_number, " has an empty name"));
    }
    for (char c : name) {
      // Printable ASCII but space: no folded lines, no "Name : value".
      if (c <= ' ' || c > '~') {
        return bad(absl::StrCat("the name on line ", line_number,
                                " has a space or a byte that is not "
                                "printable ASCII"));
      }
    }
    // An empty value is a value (nats.c 3.4.1 would take the next line).
    out.emplace_back(name, TrimHeaderSpace(line.substr(colon + 1)));
  }
  return absl::OkStatus();
}

void AppendHeaderBlock(const OutgoingMessage& m, std::string& out) {
  out.append(kHeaderLine.data(), kHeaderLine.size());
  out.append("\r\n");
  for (const HeaderRef& h : m.headers) AppendHeader(h.key, h.value, out);
  if (m.metadata != nullptr) {
    for (const auto& [k, v] : *m.metadata) AppendHeader(k, v, out);
  }
  out.append("\r\n");
}

NatsMessage::NatsMessage(natsMsg* msg, bool fast_path)
    : msg_(msg), fast_path_(fast_path) {
  if (!fast_path_) return;
  // Reading the block ourselves avoids nats.c's hash table per message, and
  // nats.c 3.4.1's parser, which takes the line after an empty value as
  // that value.
  std::optional<absl::string_view> block = nats_internals::HeaderBlock(msg);
  if (!block.has_value()) return;
  parsed_ok_ = true;
  if (!block->empty()) header_status_ = ParseHeaderBlock(*block, parsed_);
}

NatsMessage::~NatsMessage() {
  if (fast_path_) {
    nats_internals::FreeMessage(msg_);
  } else {
    natsMsg_Destroy(msg_);
  }
}

absl::string_view NatsMessage::subject() const {
  return natsMsg_GetSubject(msg_);
}

absl::string_view NatsMessage::reply() const {
  const char* r = natsMsg_GetReply(msg_);
  return r == nullptr ? absl::string_view() : absl::string_view(r);
}

absl::string_view NatsMessage::data() const {
  const char* d = natsMsg_GetData(msg_);
  return d == nullptr ? absl::string_view()
                      : absl::string_view(d, natsMsg_GetDataLength(msg_));
}

std::optional<absl::string_view> NatsMessage::header(
    absl::string_view key) const {
  if (parsed_ok_) {
    for (const auto& [k, v] : parsed_) {
      if (k == key) return v;
    }
    return std::nullopt;
  }
  // nats.c wants a NUL-terminated key.
  char buf[128];
  std::string long_key;
  const char* k;
  if (key.size() < sizeof(buf)) {
    std::memcpy(buf, key.data(), key.size());
    buf[key.size()] = '\0';
    k = buf;
  } else {
    long_key = std::string(key);
    k = long_key.c_str();
  }
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg_, k, &value) != NATS_OK || value == nullptr) {
    return std::nullopt;
  }
  return absl::string_view(value);
}

absl::Status NatsMessage::header_status() const {
  if (parsed_ok_) return header_status_;
  // nats.c parses the block when it is first asked; NATS_NOT_FOUND: none.
  const char** keys = nullptr;
  int count = 0;
  const natsStatus s = natsMsgHeader_Keys(msg_, &keys, &count);
  free(keys);
  if (s == NATS_OK || s == NATS_NOT_FOUND) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("malformed NATS header block: ", NatsText(s)));
}

Metadata NatsMessage::headers() const {
  Metadata out;
  if (parsed_ok_) {
    for (const auto& [k, v] : parsed_) out.emplace_back(k, v);
    return out;
  }
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg_, &keys, &count) != NATS_OK) return out;
  for (int i = 0; i < count; ++i) {
    const char** values = nullptr;
    int n = 0;
    if (natsMsgHeader_Values(msg_, keys[i], &values, &n) == NATS_OK) {
      for (int j = 0; j < n; ++j) out.emplace_back(keys[i], values[j]);
      free(values);
    }
  }
  free(keys);
  return out;
}

bool NatsMessage::is_no_responders() const {
  if (parsed_ok_) {
    if (natsMsg_GetDataLength(msg_) != 0) return false;
    std::optional<absl::string_view> status = header("Status");
    return status.has_value() && absl::StartsWith(*status, "503");
  }
  return natsMsg_IsNoResponders(msg_);
}

}  // namespace natsrpc::internal
