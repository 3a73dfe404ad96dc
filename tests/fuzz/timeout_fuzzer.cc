// Copyright 2026 The natsrpc Authors.
//
// Fuzzes the `Natsrpc-Timeout` decoder (runtime/src/wire/headers.h,
// docs/protocol.md section 3): DecodeTimeout() on any value. A value it
// accepts must be a finite, non-negative duration that EncodeTimeout()
// writes back as a value that decodes to no less (the encoder rounds up and
// never gives the receiver less time than the sender has), in at most 8
// digits and one unit. The counter and stream-kind parsers of the same
// headers run on the same bytes.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "wire/headers.h"

namespace {

[[noreturn]] void Fail(const char* what, absl::string_view value) {
  std::fprintf(stderr, "timeout_fuzzer: %s: \"%s\"\n", what,
               absl::CEscape(value).c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace wire = natsrpc::wire;
  const absl::string_view value(reinterpret_cast<const char*>(data), size);

  (void)wire::ParseCounter(value);
  (void)wire::ParseStreamFrame(value);

  absl::StatusOr<absl::Duration> d = wire::DecodeTimeout(value);
  if (!d.ok()) {
    if (d.status().message().empty()) Fail("error without a message", value);
    return 0;
  }
  if (*d < absl::ZeroDuration() || *d == absl::InfiniteDuration()) {
    Fail("decoded to a negative or infinite duration", value);
  }
  const std::string encoded = wire::EncodeTimeout(*d);
  if (encoded.size() < 2 || encoded.size() > 9) {
    Fail("re-encoded outside 1..8 digits and a unit", value);
  }
  absl::StatusOr<absl::Duration> again = wire::DecodeTimeout(encoded);
  if (!again.ok()) Fail("re-encoded value does not decode", value);
  // The encoder rounds up, and saturates at the largest int64 of
  // nanoseconds (about 292 years): below that, never less time.
  const absl::Duration cap =
      absl::Nanoseconds(std::numeric_limits<int64_t>::max());
  if (*again < std::min(*d, cap)) {
    Fail("re-encoded value gives less time", value);
  }
  return 0;
}
