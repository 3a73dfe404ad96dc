// Copyright 2026 The natsrpc Authors.
//
// Fuzzes the client's reply path (runtime/src/client/reply_mux.cc and the
// client side of runtime/src/stream): a client with three unary calls
// (seqs 1-3), a server stream (seq 4) and a bidi stream (seq 5) in flight
// over the in-memory transport (tests/support/in_memory_transport.h)
// receives the input's messages (fuzz_input.h) on its reply subscription.
// In a subject or reply-to, `$CID` stands for the client's id, so that
// `responses.alice.bob.app.$CID.2` reaches call 2.
//
// Besides "no crash, no undefined behaviour, no leak", it checks that every
// call's callback runs exactly once (a reply, an error or, at the end, the
// cancellation) and that the streams end.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fuzz_input.h"
#include "in_memory_transport.h"
#include "natsrpc/impl/client_channel.h"
#include "natsrpc/impl/stream_endpoint.h"

namespace natsrpc::fuzz {
namespace {

using ::natsrpc::testing::InMemoryTransport;

constexpr internal::MethodSpec kMethods[] = {
    {"Unary", absl::ZeroDuration(), CallKind::kUnary},
    {"Count", absl::ZeroDuration(), CallKind::kServerStreaming},
    {"Chat", absl::ZeroDuration(), CallKind::kBidiStreaming},
};

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "reply_mux_fuzzer: %s\n", what);
  std::abort();
}

// Reads what the stream holds without waiting, then cancels it.
void DrainAndCancel(internal::StreamEndpoint& e) {
  for (int i = 0; i < 64; ++i) {
    MessagePtr m;
    const absl::Status s = internal::StreamReadMessage(e, absl::Now(), m);
    if (!s.ok() || m == nullptr) break;
  }
  internal::StreamCancel(e, absl::CancelledError("fuzzer done"));
  MessagePtr m;
  if (internal::StreamReadMessage(e, absl::Now() + absl::Seconds(10), m).ok() &&
      m != nullptr) {
    // A message may still be buffered; the stream must end after it.
    for (int i = 0; i < 64 && m != nullptr; ++i) {
      if (!internal::StreamReadMessage(e, absl::Now(), m).ok()) break;
    }
  }
}

}  // namespace
}  // namespace natsrpc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace natsrpc;
  using namespace natsrpc::fuzz;
  std::vector<FuzzMessage> messages = ParseFuzzMessages(data, size);

  auto transport = std::make_shared<InMemoryTransport>();
  Connection connection(transport);
  std::atomic<int> completions[3] = {0, 0, 0};
  // The server side: someone listens on the requests (else the transport
  // answers each with no-responders, as NATS does, and every call ends at
  // once).
  auto server = transport->Subscribe("requests.>", "", [](MessagePtr) {});
  if (!server.ok()) Fail("cannot subscribe");
  {
    internal::ClientChannel channel(
        connection,
        ClientOptions{.requester = "alice",
                      .responder = "bob",
                      .stream_window = 4,
                      .stream_heartbeat = absl::Seconds(30)},
        "Svc", "app", kMethods);
    if (!channel.status().ok()) Fail("the channel did not start");
    CallOptions options;
    options.timeout = absl::Seconds(30);
    CallHandle calls[3];
    for (int i = 0; i < 3; ++i) {
      calls[i] = channel.StartCall(0, Payload(std::string("req")),
                                   "application/protobuf", options,
                                   [&completions, i](absl::Status, MessagePtr) {
                                     completions[i].fetch_add(1);
                                   });
    }
    const Payload request(std::string("count"));
    std::shared_ptr<internal::StreamEndpoint> server_stream =
        channel.OpenStream(1, /*client_sends=*/false, &request,
                           "application/protobuf", options);
    std::shared_ptr<internal::StreamEndpoint> bidi = channel.OpenStream(
        2, /*client_sends=*/true, nullptr, "application/protobuf", options);

    // The client id: token 4 of the first call's reply-to.
    const std::vector<InMemoryTransport::Sent> sent = transport->sent();
    if (sent.empty()) Fail("no request was sent");
    const std::vector<std::string> tokens = absl::StrSplit(sent[0].reply, '.');
    if (tokens.size() != 6) Fail("unexpected reply-to shape");
    const std::string cid = tokens[4];

    for (FuzzMessage& m : messages) {
      transport->Inject({Substitute(m.subject, {{"$CID", cid}}),
                         Substitute(m.reply, {{"$CID", cid}}),
                         std::move(m.headers), std::move(m.payload)});
    }

    DrainAndCancel(*server_stream);
    DrainAndCancel(*bidi);
    for (CallHandle& c : calls) c.Cancel();
  }
  for (const std::atomic<int>& c : completions) {
    if (c.load() != 1) Fail("a call's callback did not run exactly once");
  }
  return 0;
}
