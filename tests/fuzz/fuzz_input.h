// Copyright 2026 The natsrpc Authors.
//
// The text form the message-driven fuzzers (server_receive_fuzzer.cc,
// reply_mux_fuzzer.cc) read their input in, so that seeds are readable and
// libFuzzer's mutations stay meaningful. An input is a sequence of messages
// separated by lines holding only `%%`:
//
//   <subject>
//   <reply-to>              (may be empty)
//   <Key>: <value>          (zero or more header lines; the value is what
//   ...                      follows the first ':' minus one leading space)
//                           (an empty line ends the headers)
//   <payload bytes ...>     (everything up to the next "\n%%\n"; any bytes)
//   %%
//   <next message>
//
// A header line without ':' becomes a header with an empty key and the line
// as its value, so that malformed headers reach the code under test too.
// Missing parts are empty. docs/fuzzing.md describes the corpora.

#ifndef NATSRPC_TESTS_FUZZ_FUZZ_INPUT_H_
#define NATSRPC_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "natsrpc/metadata.h"

namespace natsrpc::fuzz {

struct FuzzMessage {
  std::string subject;
  std::string reply;
  Metadata headers;
  std::string payload;
};

// Splits `data` into messages as described above. At most `max_messages`.
inline std::vector<FuzzMessage> ParseFuzzMessages(const uint8_t* data,
                                                  size_t size,
                                                  size_t max_messages = 64) {
  constexpr absl::string_view kSeparator = "\n%%\n";
  absl::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<FuzzMessage> out;
  while (!rest.empty() && out.size() < max_messages) {
    absl::string_view chunk = rest;
    const size_t sep = rest.find(kSeparator);
    if (sep == absl::string_view::npos) {
      rest = absl::string_view();
    } else {
      chunk = rest.substr(0, sep);
      rest.remove_prefix(sep + kSeparator.size());
    }
    // Reads one line of `chunk` (without its '\n'); the rest stays.
    auto next_line = [&chunk](absl::string_view& line) {
      if (chunk.empty()) return false;
      const size_t eol = chunk.find('\n');
      line = chunk.substr(0, eol);
      chunk = eol == absl::string_view::npos ? absl::string_view()
                                             : chunk.substr(eol + 1);
      return true;
    };
    FuzzMessage m;
    absl::string_view line;
    if (next_line(line)) m.subject = std::string(line);
    if (next_line(line)) m.reply = std::string(line);
    while (next_line(line) && !line.empty()) {
      const size_t colon = line.find(':');
      if (colon == absl::string_view::npos) {
        m.headers.emplace_back("", std::string(line));
        continue;
      }
      absl::string_view value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      m.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(value));
    }
    m.payload = std::string(chunk);
    out.push_back(std::move(m));
  }
  return out;
}

// Replaces every `$<name>` placeholder of `s` (e.g. "$CID" with the client
// id the harness learned at run time).
inline std::string Substitute(
    absl::string_view s,
    const std::vector<std::pair<absl::string_view, std::string>>& vars) {
  return absl::StrReplaceAll(s, vars);
}

}  // namespace natsrpc::fuzz

#endif  // NATSRPC_TESTS_FUZZ_FUZZ_INPUT_H_
