// Copyright 2026 The natsrpc Authors.
//
// The mockable clients (generate_mock_code=true; natsrpc_generate(...
// GENERATE_MOCKS)) of every tricky IDL shape: tests/compile/CMakeLists.txt
// builds this file together with compile_test.cc (which then runs against
// the code generated with the option) under -Werror. Here: every
// Svc::Client implements Svc::ClientInterface, every Svc::MockClient is a
// concrete gMock class (also as NiceMock and StrictMock), and calls of every
// kind through a ClientInterface& reach the mock, including the streaming
// ones, which return the mock streams of natsrpc/testing/mock_stream.h.

#include <memory>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "example/v1/calculator.natsrpc_mock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/testing/mock_stream.h"
#include "recording_transport.h"
#include "test/compile/collisions.natsrpc_mock.h"
#include "test/compile/comments.natsrpc_mock.h"
#include "test/compile/deep.natsrpc_mock.h"
#include "test/compile/fanout.natsrpc_mock.h"
#include "test/compile/imported.natsrpc_mock.h"
#include "test/compile/importer.natsrpc_mock.h"
#include "test/compile/keywords.natsrpc_mock.h"
#include "test/compile/many_methods.natsrpc_mock.h"
#include "test/compile/no_package.natsrpc_mock.h"
#include "test/compile/no_service.natsrpc_mock.h"
#include "test/compile/proto2.natsrpc_mock.h"
#include "test/compile/proto3_optional.natsrpc_mock.h"
#include "test/compile/same_name_a.natsrpc_mock.h"
#include "test/compile/same_name_b.natsrpc_mock.h"
#include "test/compile/streaming.natsrpc_mock.h"
#include "test/compile/well_known.natsrpc_mock.h"
#include "test/options/options.natsrpc_mock.h"

namespace {

using ::testing::_;
using ::testing::ByMove;
using ::testing::DoAll;
using ::testing::Return;
using ::testing::SetArgPointee;

template <typename Svc>
void ExpectMockable(const natsrpc::Connection& connection) {
  using Interface = typename Svc::ClientInterface;
  static_assert(std::is_base_of_v<Interface, typename Svc::Client>);
  static_assert(std::is_base_of_v<Interface, typename Svc::MockClient>);
  static_assert(std::has_virtual_destructor_v<Interface>);
  static_assert(!std::is_abstract_v<typename Svc::MockClient>);
  ::testing::NiceMock<typename Svc::MockClient> nice;
  ::testing::StrictMock<typename Svc::MockClient> strict;
  std::unique_ptr<Interface> client = std::make_unique<typename Svc::Client>(
      connection,
      natsrpc::ClientOptions{.requester = "alice", .responder = "bob"});
  EXPECT_NE(client, nullptr);
}

TEST(MockCompileTest, EveryServiceIsMockable) {
  natsrpc::Connection connection(
      std::make_shared<natsrpc::testing::RecordingTransport>());
  ExpectMockable<::example::v1::Calculator>(connection);
  namespace col = ::natsrpc_test::collisions;
  ExpectMockable<col::Collide>(connection);
  ExpectMockable<col::Client_>(connection);
  ExpectMockable<col::Service_>(connection);
  ExpectMockable<col::Stub>(connection);
  ExpectMockable<col::Call>(connection);
  ExpectMockable<col::Empty>(connection);
  ExpectMockable<col::ClientInterface_>(connection);
  ExpectMockable<col::MockClient_>(connection);
  ExpectMockable<::natsrpc_test::comments::Commented>(connection);
  ExpectMockable<::natsrpc_test::deep::a::b::c::d::Deep>(connection);
  ExpectMockable<::natsrpc_test::importer::Importer>(connection);
  ExpectMockable<::natsrpc_test::importer::Outer_Inner_>(connection);
  namespace kw = ::natsrpc_test::keywords;
  ExpectMockable<kw::delete_>(connection);
  ExpectMockable<kw::class__>(connection);
  ExpectMockable<kw::namespace_>(connection);
  ExpectMockable<kw::operator_>(connection);
  ExpectMockable<::natsrpc_test::many::Many>(connection);
  ExpectMockable<::NoPackage>(connection);
  ExpectMockable<::absl_>(connection);
  ExpectMockable<::std_>(connection);
  ExpectMockable<::natsrpc_test::p2::Proto2>(connection);
  ExpectMockable<::natsrpc_test::p3opt::Maybe>(connection);
  ExpectMockable<::natsrpc_test::same_a::Echo>(connection);
  ExpectMockable<::natsrpc_test::same_b::Echo>(connection);
  ExpectMockable<::natsrpc_test::streaming::Streamer>(connection);
  ExpectMockable<::natsrpc_test::streaming::class_>(connection);
  ExpectMockable<::natsrpc_test::wkt::WellKnown>(connection);
  ExpectMockable<::natsrpc_test::options::FileDefaults>(connection);
  ExpectMockable<::natsrpc_test::options::Overrides>(connection);
  ExpectMockable<::natsrpc_test::fanout::Names>(connection);
  ExpectMockable<::natsrpc_test::fanout::Bus>(connection);
}

// Events go through the interface to the mock; the scatter-gather calls and
// the Confirmed forms take the next free names (docs/protocol.md 13).
TEST(MockCompileTest, EventsAndGatherNames) {
  namespace fo = ::natsrpc_test::fanout;
  fo::Names::MockClient mock;
  EXPECT_CALL(mock, Ping(::testing::_, ::testing::_))
      .WillOnce(::testing::Return(absl::OkStatus()));
  EXPECT_CALL(mock, PingConfirmed_(::testing::_, ::testing::_))
      .WillOnce(::testing::Return(absl::UnavailableError("down")));
  fo::Names::ClientInterface& calls = mock;
  EXPECT_TRUE(calls.Ping(fo::Num()).ok());
  EXPECT_EQ(calls.PingConfirmed_(fo::Num()).code(),
            absl::StatusCode::kUnavailable);
  using C = fo::Names::Client;
  // Add's gather is AddAll_ (method AddAll owns AddAll); AddAll's is AddAllAll.
  static_assert(std::is_member_function_pointer_v<decltype(&C::AddAll_)>);
  static_assert(std::is_member_function_pointer_v<decltype(&C::AddAll_Async)>);
  static_assert(std::is_member_function_pointer_v<decltype(&C::AddAllAll)>);
  static_assert(
      std::is_member_function_pointer_v<decltype(&C::AddAllAllAsync)>);
  fo::Bus::MockClient bus;
  EXPECT_CALL(bus, delete_(::testing::_, ::testing::_))
      .WillOnce(::testing::Return(absl::OkStatus()));
  EXPECT_TRUE(
      static_cast<fo::Bus::ClientInterface&>(bus).delete_(fo::Num()).ok());
}

namespace st = ::natsrpc_test::streaming;

st::Tick MakeTick(int n) {
  st::Tick tick;
  tick.set_n(n);
  return tick;
}

// Every kind of call, through the interface, reaches the mock.
TEST(MockCompileTest, EveryKindThroughTheInterface) {
  ::testing::StrictMock<st::Streamer::MockClient> mock;
  st::Streamer::ClientInterface& client = mock;

  // Unary, blocking and with a callback.
  EXPECT_CALL(mock, Echo(_, _)).WillOnce(Return(MakeTick(7)));
  absl::StatusOr<st::Tick> echo = client.Echo(MakeTick(1));
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->n(), 7);
  EXPECT_CALL(mock, EchoAsync(_, _, _))
      .WillOnce([](const st::Tick& request, natsrpc::Callback<st::Tick> done,
                   const natsrpc::CallOptions&) {
        done(MakeTick(request.n() + 1));
        return natsrpc::CallHandle();
      });
  int async_reply = 0;
  client.EchoAsync(MakeTick(41), [&](absl::StatusOr<st::Tick> r) {
    async_reply = r.ok() ? r->n() : -1;
  });
  EXPECT_EQ(async_reply, 42);

  // Server stream: the mock returns a MockClientReader.
  auto reader = std::make_unique<
      ::testing::StrictMock<natsrpc::testing::MockClientReader<st::Tick>>>();
  EXPECT_CALL(*reader, Read(_))
      .WillOnce(DoAll(SetArgPointee<0>(MakeTick(1)), Return(true)))
      .WillOnce(DoAll(SetArgPointee<0>(MakeTick(2)), Return(true)))
      .WillOnce(Return(false));
  EXPECT_CALL(*reader, Finish()).WillOnce(Return(absl::OkStatus()));
  EXPECT_CALL(mock, WatchRaw(_, _)).WillOnce(Return(ByMove(std::move(reader))));
  auto watch = client.Watch(MakeTick(0));
  st::Tick tick;
  int sum = 0;
  while (watch->Read(&tick)) sum += tick.n();
  EXPECT_EQ(sum, 3);
  EXPECT_TRUE(watch->Finish().ok());

  // Client stream: a MockClientWriter.
  auto writer = std::make_unique<::testing::StrictMock<
      natsrpc::testing::MockClientWriter<st::Tick, st::Total>>>();
  EXPECT_CALL(*writer, Write(_)).Times(2).WillRepeatedly(Return(true));
  EXPECT_CALL(*writer, WritesDone()).WillOnce(Return(true));
  st::Total total;
  total.set_sum(3);
  EXPECT_CALL(*writer, Finish()).WillOnce(Return(total));
  EXPECT_CALL(mock, SumRaw(_)).WillOnce(Return(ByMove(std::move(writer))));
  auto sum_call = client.Sum();
  EXPECT_TRUE(sum_call->Write(MakeTick(1)));
  EXPECT_TRUE(sum_call->Write(MakeTick(2)));
  EXPECT_TRUE(sum_call->WritesDone());
  absl::StatusOr<st::Total> got = sum_call->Finish();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->sum(), 3);

  // Bidi: a MockClientReaderWriter that fails.
  auto chat = std::make_unique<::testing::NiceMock<
      natsrpc::testing::MockClientReaderWriter<st::Tick, st::Total>>>();
  EXPECT_CALL(*chat, Finish())
      .WillOnce(Return(absl::UnavailableError("no server")));
  EXPECT_CALL(mock, ChatRaw(_)).WillOnce(Return(ByMove(std::move(chat))));
  auto chat_call = client.Chat();
  EXPECT_FALSE(chat_call->Write(MakeTick(1)));  // NiceMock: false
  EXPECT_EQ(chat_call->Finish().code(), absl::StatusCode::kUnavailable);

  // Reactor form: the mock drives the reactor's callbacks.
  struct Reactor : natsrpc::ClientReadReactor<st::Tick> {
    void OnDone(const absl::Status& s) override { status = s; }
    absl::Status status = absl::UnknownError("not done");
  } reactor;
  EXPECT_CALL(mock, WatchAsync(_, &reactor, _))
      .WillOnce([](const st::Tick&, natsrpc::ClientReadReactor<st::Tick>* r,
                   const natsrpc::CallOptions&) {
        r->OnDone(absl::DeadlineExceededError("late"));
      });
  client.WatchAsync(MakeTick(0), &reactor);
  EXPECT_EQ(reactor.status.code(), absl::StatusCode::kDeadlineExceeded);
}

// The escaped and moved names of streaming methods are mocked under the
// same identifiers the Client uses; `<name>Raw` moves with them.
TEST(MockCompileTest, EscapedStreamingNames) {
  ::testing::StrictMock<st::class_::MockClient> mock;
  st::class_::ClientInterface& client = mock;
  auto reader = std::make_unique<
      ::testing::NiceMock<natsrpc::testing::MockClientReader<st::Tick>>>();
  EXPECT_CALL(*reader, Finish()).WillOnce(Return(absl::OkStatus()));
  EXPECT_CALL(mock, co_yield_Raw(_, _))
      .WillOnce(Return(ByMove(std::move(reader))));
  EXPECT_TRUE(client.co_yield_(MakeTick(0))->Finish().ok());
}

}  // namespace
