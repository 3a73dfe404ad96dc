// The checksum both streaming example programs compute: FNV-1a, 64 bit.

#ifndef NATSRPC_EXAMPLES_STREAMING_CHECKSUM_H_
#define NATSRPC_EXAMPLES_STREAMING_CHECKSUM_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace example_streaming {

class Fnv1a {
 public:
  void Add(absl::string_view bytes) {
    for (unsigned char c : bytes) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
  }
  std::string Hex() const { return absl::StrFormat("%016x", hash_); }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// The server's sample file: `size` deterministic pseudo-random bytes.
inline std::string SampleFile(size_t size) {
  std::string data(size, '\0');
  uint32_t x = 2463534242u;
  for (char& c : data) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return data;
}

}  // namespace example_streaming

#endif  // NATSRPC_EXAMPLES_STREAMING_CHECKSUM_H_
