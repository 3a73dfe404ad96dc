// Copyright 2026 The natsrpc Authors.

#include "nats/nats_message.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "nats/nats_internals.h"

namespace natsrpc::internal {
namespace {

bool IsHeaderSpace(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' ||
         c == '\n';
}

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

bool ParseHeaderBlock(absl::string_view block, HeaderEntries& out) {
  out.clear();
  if (block.size() < kHeaderLine.size() + 4 ||
      !absl::StartsWith(block, kHeaderLine) ||
      !absl::EndsWith(block, "\r\n\r\n")) {
    return false;
  }
  block.remove_suffix(2);  // the empty line; every line now ends in \r\n
  size_t eol = block.find("\r\n");
  absl::string_view status = TrimHeaderSpace(
      block.substr(kHeaderLine.size(), eol - kHeaderLine.size()));
  if (!status.empty()) {
    constexpr size_t kStatusLen = 3;
    out.emplace_back("Status", status.substr(0, kStatusLen));
    if (status.size() > kStatusLen) {
      absl::string_view desc = TrimHeaderSpace(status.substr(kStatusLen));
      if (!desc.empty()) out.emplace_back("Description", desc);
    }
  }
  size_t pos = eol + 2;
  while (pos < block.size()) {
    eol = block.find("\r\n", pos);
    const absl::string_view line = block.substr(pos, eol - pos);
    pos = eol + 2;
    // A folded line continues the previous value: leave it to nats.c.
    if (line.empty() || IsHeaderSpace(line.front())) return false;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) return false;
    const absl::string_view value = TrimHeaderSpace(line.substr(colon + 1));
    if (value.empty()) return false;  // nats.c rejects the whole block
    out.emplace_back(line.substr(0, colon), value);
  }
  return true;
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
  // Reading the block ourselves avoids nats.c's hash table per message.
  std::optional<absl::string_view> block = nats_internals::HeaderBlock(msg);
  if (!block.has_value()) return;
  parsed_ok_ = block->empty() || ParseHeaderBlock(*block, parsed_);
  if (!parsed_ok_) parsed_.clear();
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
