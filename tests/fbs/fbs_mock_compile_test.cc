// Copyright 2026 The natsrpc Authors.
//
// The mockable clients of every tricky schema (natsrpc-fbs
// --generate-mock-code; natsrpc_generate(... GENERATE_MOCKS)):
// tests/fbs/CMakeLists.txt builds this file together with
// fbs_compile_test.cc (which then runs against the code generated with the
// option) under -Werror. The emitter is the one of .proto files; this shows
// FlatMessage types go through the same MockClient and mock streams.

#include <memory>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "calculator.natsrpc_mock.h"
#include "comments.natsrpc_mock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "included.natsrpc_mock.h"
#include "includer.natsrpc_mock.h"
#include "keywords.natsrpc_mock.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/testing/mock_stream.h"
#include "nested.natsrpc_mock.h"
#include "recording_transport.h"
#include "streaming.natsrpc_mock.h"

namespace {

using ::testing::_;
using ::testing::ByMove;
using ::testing::Return;

template <typename Svc>
void ExpectMockable(const natsrpc::Connection& connection) {
  using Interface = typename Svc::ClientInterface;
  static_assert(std::is_base_of_v<Interface, typename Svc::Client>);
  static_assert(std::is_base_of_v<Interface, typename Svc::MockClient>);
  static_assert(!std::is_abstract_v<typename Svc::MockClient>);
  ::testing::NiceMock<typename Svc::MockClient> nice;
  ::testing::StrictMock<typename Svc::MockClient> strict;
  std::unique_ptr<Interface> client = std::make_unique<typename Svc::Client>(
      connection,
      natsrpc::ClientOptions{.requester = "alice", .responder = "bob"});
  EXPECT_NE(client, nullptr);
}

TEST(FbsMockCompileTest, EveryServiceIsMockable) {
  natsrpc::Connection connection(
      std::make_shared<natsrpc::testing::RecordingTransport>());
  ExpectMockable<::example::v1::Calculator>(connection);
  ExpectMockable<::natsrpc_test::fbs::comments::Commented>(connection);
  ExpectMockable<::natsrpc_test::fbs::main::Uses>(connection);
  ExpectMockable<::natsrpc_test::fbs::keywords::class_>(connection);
  ExpectMockable<::natsrpc_test::fbs::keywords::Service_>(connection);
  ExpectMockable<::natsrpc_test::fbs::deep::a::b::c::Deep>(connection);
  ExpectMockable<::natsrpc_test::streaming::Streamer>(connection);
  ExpectMockable<::natsrpc_test::streaming::class_>(connection);
}

TEST(FbsMockCompileTest, StreamOfFlatMessages) {
  namespace st = ::natsrpc_test::streaming;
  using Tick = natsrpc::FlatMessage<st::Tick>;
  ::testing::StrictMock<st::Streamer::MockClient> mock;
  st::Streamer::ClientInterface& client = mock;
  auto reader = std::make_unique<
      ::testing::StrictMock<natsrpc::testing::MockClientReader<Tick>>>();
  EXPECT_CALL(*reader, Read(_)).WillOnce(Return(false));
  EXPECT_CALL(*reader, Finish())
      .WillOnce(Return(absl::NotFoundError("no ticks")));
  EXPECT_CALL(mock, WatchRaw(_, _)).WillOnce(Return(ByMove(std::move(reader))));
  Tick request;
  auto watch = client.Watch(request);
  Tick tick;
  EXPECT_FALSE(watch->Read(&tick));
  EXPECT_EQ(watch->Finish().code(), absl::StatusCode::kNotFound);
}

}  // namespace
