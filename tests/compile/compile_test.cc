// Copyright 2026 The natsrpc Authors.
//
// Links the code generated for every tricky IDL shape (tests/compile/
// CMakeLists.txt) into one program: each generated Client is constructed and
// called (every streaming kind, blocking and with a reactor), each generated
// Service is subclassed and instantiated. A recording
// transport (no NATS) checks that calls go to the IDL's wire names whatever
// the C++ identifiers became, and that the method indexes line up.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "example/v1/calculator.natsrpc.h"
#include "gtest/gtest.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/stream.h"
#include "recording_transport.h"
#include "test/compile/collisions.natsrpc.h"
#include "test/compile/comments.natsrpc.h"
#include "test/compile/deep.natsrpc.h"
#include "test/compile/imported.natsrpc.h"
#include "test/compile/importer.natsrpc.h"
#include "test/compile/keywords.natsrpc.h"
#include "test/compile/many_methods.natsrpc.h"
#include "test/compile/no_package.natsrpc.h"
#include "test/compile/no_service.natsrpc.h"
#include "test/compile/proto2.natsrpc.h"
#include "test/compile/proto3_optional.natsrpc.h"
#include "test/compile/same_name_a.natsrpc.h"
#include "test/compile/same_name_b.natsrpc.h"
#include "test/compile/streaming.natsrpc.h"
#include "test/compile/well_known.natsrpc.h"
#include "test/options/options.natsrpc.h"

namespace {

using ::natsrpc::testing::RecordingTransport;

class CompileTest : public ::testing::Test {
 protected:
  static natsrpc::ClientOptions Options() {
    natsrpc::ClientOptions options;
    options.requester = "alice";
    options.responder = "bob";
    return options;
  }

  // The subject a call of `method` of `service` in `app` goes to.
  static std::string Subject(absl::string_view app, absl::string_view service,
                             absl::string_view method) {
    return absl::StrCat("requests.alice.bob.", app, ".", service, ".", method);
  }

  std::string LastSubject() { return transport_->TakeLastSubject(); }

  template <typename Service>
  static void ExpectNames(const Service& service, absl::string_view name,
                          absl::string_view app) {
    EXPECT_EQ(service.service_name(), name);
    EXPECT_EQ(service.default_app(), app);
  }

  static natsrpc::ServerContext& Context() {
    static natsrpc::ServerContext* context =
        new natsrpc::ServerContext(nullptr, "alice", "bob", "app", "service",
                                   "method", absl::InfiniteFuture());
    return *context;
  }

  std::shared_ptr<RecordingTransport> transport_ =
      std::make_shared<RecordingTransport>();
  natsrpc::Connection connection_{transport_};
};

// --- example/v1/calculator.proto ---------------------------------------------

class CalculatorImpl final : public example::v1::Calculator::Service {
 public:
  absl::Status Add(natsrpc::ServerContext&, const example::v1::AddRequest& req,
                   example::v1::AddReply& reply) override {
    reply.set_sum(req.a() + req.b());
    return absl::OkStatus();
  }
};

TEST_F(CompileTest, Calculator) {
  example::v1::Calculator::Client client(connection_, Options());
  EXPECT_TRUE(client.status().ok()) << client.status();
  example::v1::AddRequest req;
  EXPECT_EQ(client.Add(req).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(LastSubject(), Subject("example_v1", "Calculator", "Add"));
  absl::Notification done;
  client.EchoAsync(example::v1::EchoMessage(),
                   [&done](absl::StatusOr<example::v1::EchoMessage> r) {
                     EXPECT_FALSE(r.ok());
                     done.Notify();
                   });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(LastSubject(), Subject("example_v1", "Calculator", "Echo"));

  CalculatorImpl impl;
  ExpectNames(impl, "Calculator", "example_v1");
  req.set_a(2);
  req.set_b(3);
  example::v1::AddReply reply;
  ASSERT_TRUE(impl.Add(Context(), req, reply).ok());
  EXPECT_EQ(reply.sum(), 5);
  example::v1::DivideReply quotient;
  EXPECT_EQ(
      impl.Divide(Context(), example::v1::DivideRequest(), quotient).code(),
      absl::StatusCode::kUnimplemented);
}

// --- keywords.proto
// -----------------------------------------------------------

namespace kw = ::natsrpc_test::keywords;

class DeleteImpl final : public kw::delete_::Service {
 public:
  absl::Status new_(natsrpc::ServerContext&, const kw::new_& req,
                    kw::new__int& reply) override {
    reply.set_x(req.y());
    return absl::OkStatus();
  }
  absl::Status co_await_(natsrpc::ServerContext&, const kw::new_&,
                         kw::new_&) override {
    return absl::OkStatus();
  }
  absl::Status assert_(natsrpc::ServerContext&, const kw::new_&,
                       kw::new_&) override {
    return absl::OkStatus();
  }
};
class ClassImpl final : public kw::class__::Service {};
class NamespaceImpl final : public kw::namespace_::Service {};
class OperatorImpl final : public kw::operator_::Service {};

TEST_F(CompileTest, KeywordsKeepWireNames) {
  kw::delete_::Client client(connection_, Options());
  kw::new_ req;
  EXPECT_FALSE(client.new_(req).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_keywords", "delete", "new"));
  EXPECT_FALSE(client.delete_(req).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_keywords", "delete", "delete"));
  EXPECT_FALSE(client.requires_(req).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_keywords", "delete", "requires"));
  EXPECT_FALSE(client.NULL_(req).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_keywords", "delete", "NULL"));
  EXPECT_FALSE(client.errno_(req).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_keywords", "delete", "errno"));
  EXPECT_FALSE(client.override(req).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_keywords", "delete", "override"));
  absl::Notification done;
  client.co_await_Async(req,
                        [&done](absl::StatusOr<kw::new_>) { done.Notify(); });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_keywords", "delete", "co_await"));

  kw::class__::Client class_client(connection_, Options());
  EXPECT_FALSE(class_client.public_(kw::class_()).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_keywords", "class", "public"));
  kw::namespace_::Client ns_client(connection_, Options());
  EXPECT_FALSE(ns_client.using_(kw::class_()).ok());
  kw::operator_::Client op_client(connection_, Options());
  EXPECT_FALSE(op_client.typename_(kw::class_()).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_keywords", "operator", "typename"));

  DeleteImpl impl;
  ExpectNames(impl, "delete", "natsrpc_test_keywords");
  req.set_y(7);
  kw::new__int reply;
  ASSERT_TRUE(impl.new_(Context(), req, reply).ok());
  EXPECT_EQ(reply.x(), 7);
  kw::new_ out;
  EXPECT_EQ(impl.virtual_(Context(), req, out).code(),
            absl::StatusCode::kUnimplemented);
  ClassImpl class_impl;
  ExpectNames(class_impl, "class", "natsrpc_test_keywords");
  NamespaceImpl ns_impl;
  ExpectNames(ns_impl, "namespace", "natsrpc_test_keywords");
  OperatorImpl op_impl;
  ExpectNames(op_impl, "operator", "natsrpc_test_keywords");
}

// --- collisions.proto
// ---------------------------------------------------------

namespace col = ::natsrpc_test::collisions;

class CollideImpl final : public col::Collide::Service {
 public:
  absl::Status Client_(natsrpc::ServerContext&, const col::Req&,
                       col::Resp&) override {
    return absl::OkStatus();
  }
  absl::Status Service_(natsrpc::ServerContext&, const col::Req&,
                        col::Resp&) override {
    return absl::OkStatus();
  }
  absl::Status status_(natsrpc::ServerContext&, const col::Req&,
                       col::Resp&) override {
    return absl::OkStatus();
  }
  absl::Status AddAsync_(natsrpc::ServerContext&, const col::Req&,
                         col::Resp&) override {
    return absl::OkStatus();
  }
};
class ClientServiceImpl final : public col::Client_::Service {};
class ServiceServiceImpl final : public col::Service_::Service {};
class StubImpl final : public col::Stub::Service {};
class CallImpl final : public col::Call::Service {};
class EmptyImpl final : public col::Empty::Service {};

TEST_F(CompileTest, CollisionsKeepWireNames) {
  col::Collide::Client client(connection_, Options());
  EXPECT_TRUE(client.status().ok());
  EXPECT_EQ(client.stats().calls_started, 0u);
  const col::Req req;
  struct Case {
    absl::StatusOr<col::Resp> (col::Collide::Client::*call)(
        const col::Req&, const natsrpc::CallOptions&);
    const char* wire;
  };
  for (const Case& c : {
           Case{&col::Collide::Client::Client_, "Client"},
           Case{&col::Collide::Client::Service_, "Service"},
           Case{&col::Collide::Client::Stub, "Stub"},
           Case{&col::Collide::Client::Call, "Call"},
           Case{&col::Collide::Client::status_, "status"},
           Case{&col::Collide::Client::stats_, "stats"},
           Case{&col::Collide::Client::kServiceName_, "kServiceName"},
           Case{&col::Collide::Client::kDefaultApp_, "kDefaultApp"},
           Case{&col::Collide::Client::channel__, "channel_"},
           Case{&col::Collide::Client::service_name_, "service_name"},
           Case{&col::Collide::Client::default_app_, "default_app"},
           Case{&col::Collide::Client::RegisterMethod_, "RegisterMethod"},
           Case{&col::Collide::Client::Add, "Add"},
           Case{&col::Collide::Client::AddAsync_, "AddAsync"},
           Case{&col::Collide::Client::AddAsync__, "AddAsync_"},
           Case{&col::Collide::Client::Get, "Get"},
           Case{&col::Collide::Client::get, "get"},
           Case{&col::Collide::Client::kCollideMethods, "kCollideMethods"},
           Case{&col::Collide::Client::Collide, "Collide"},
           Case{&col::Collide::Client::Req, "Req"},
           Case{&col::Collide::Client::request, "request"},
           Case{&col::Collide::Client::options, "options"},
           Case{&col::Collide::Client::done, "done"},
           Case{&col::Collide::Client::connection, "connection"},
           Case{&col::Collide::Client::natsrpc, "natsrpc"},
           Case{&col::Collide::Client::absl, "absl"},
           Case{&col::Collide::Client::std, "std"},
           Case{&col::Collide::Client::ClientInterface_, "ClientInterface"},
           Case{&col::Collide::Client::MockClient_, "MockClient"},
           Case{&col::Collide::Client::WatchRaw_, "WatchRaw"},
       }) {
    EXPECT_FALSE((client.*c.call)(req, {}).ok());
    EXPECT_EQ(LastSubject(),
              Subject("natsrpc_test_collisions", "Collide", c.wire));
  }
  absl::Notification done;
  client.AddAsync(req, [&done](absl::StatusOr<col::Resp>) { done.Notify(); });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_collisions", "Collide", "Add"));

  col::Client_::Client c1(connection_, Options());
  EXPECT_FALSE(c1.Client_(req).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_collisions", "Client", "Client"));
  col::Service_::Client c2(connection_, Options());
  EXPECT_FALSE(c2.Service_(req).ok());
  col::Stub::Client c3(connection_, Options());
  EXPECT_FALSE(c3.Call(req).ok());
  col::Call::Client c4(connection_, Options());
  EXPECT_FALSE(c4.Stub(req).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_collisions", "Call", "Stub"));
  col::Empty::Client c5(connection_, Options());
  EXPECT_TRUE(c5.status().ok());
  col::ClientInterface_::Client c6(connection_, Options());
  EXPECT_FALSE(c6.Call(req).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_collisions", "ClientInterface", "Call"));
  col::MockClient_::Client c7(connection_, Options());
  EXPECT_FALSE(c7.Call(req)->Finish().ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_collisions", "MockClient", "Call"));
  EXPECT_FALSE(client.Watch(req)->Finish().ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_collisions", "Collide", "Watch"));

  CollideImpl impl;
  ExpectNames(impl, "Collide", "natsrpc_test_collisions");
  col::Resp resp;
  EXPECT_TRUE(impl.Client_(Context(), req, resp).ok());
  EXPECT_EQ(impl.std(Context(), req, resp).code(),
            absl::StatusCode::kUnimplemented);
  ClientServiceImpl i1;
  ExpectNames(i1, "Client", "natsrpc_test_collisions");
  ServiceServiceImpl i2;
  ExpectNames(i2, "Service", "natsrpc_test_collisions");
  StubImpl i3;
  CallImpl i4;
  EmptyImpl i5;
  ExpectNames(i5, "Empty", "natsrpc_test_collisions");
}

// --- no_package.proto
// ---------------------------------------------------------

class NoPackageImpl final : public ::NoPackage::Service {};
class AbslImpl final : public ::absl_::Service {};
class StdImpl final : public ::std_::Service {};

TEST_F(CompileTest, NoPackage) {
  ::NoPackage::Client client(connection_, Options());
  EXPECT_FALSE(client.Echo(::NoPackageRequest()).ok());
  EXPECT_EQ(LastSubject(), Subject("default", "NoPackage", "Echo"));
  ::absl_::Client absl_client(connection_, Options());
  EXPECT_FALSE(absl_client.std(::NoPackageRequest()).ok());
  EXPECT_EQ(LastSubject(), Subject("default", "absl", "std"));
  ::std_::Client std_client(connection_, Options());
  EXPECT_FALSE(std_client.absl(::NoPackageRequest()).ok());
  NoPackageImpl i1;
  ExpectNames(i1, "NoPackage", "default");
  AbslImpl i2;
  ExpectNames(i2, "absl", "default");
  StdImpl i3;
}

// --- deep.proto, imported.proto + importer.proto
// ------------------------------

class DeepImpl final : public natsrpc_test::deep::a::b::c::d::Deep::Service {};

TEST_F(CompileTest, DeepPackage) {
  natsrpc_test::deep::a::b::c::d::Deep::Client client(connection_, Options());
  EXPECT_FALSE(client.Dive(natsrpc_test::deep::a::b::c::d::DeepRequest()).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_deep_a_b_c_d", "Deep", "Dive"));
  DeepImpl impl;
  ExpectNames(impl, "Deep", "natsrpc_test_deep_a_b_c_d");
}

namespace imp = ::natsrpc_test::importer;

class ImporterImpl final : public imp::Importer::Service {
 public:
  absl::Status Deeper(natsrpc::ServerContext&,
                      const natsrpc_test::imported::Imported_Nested_Deeper& req,
                      imp::Outer_Inner& reply) override {
    reply.set_v(static_cast<int32_t>(req.s().size()));
    return absl::OkStatus();
  }
};
class OuterInnerImpl final : public imp::Outer_Inner_::Service {};

TEST_F(CompileTest, ImportedAndNestedTypes) {
  imp::Importer::Client client(connection_, Options());
  EXPECT_FALSE(client.Imported(natsrpc_test::imported::Imported()).ok());
  EXPECT_FALSE(
      client.Deeper(natsrpc_test::imported::Imported::Nested::Deeper()).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_importer", "Importer", "Deeper"));
  EXPECT_FALSE(client.Global(::NoPackageRequest()).ok());
  imp::Outer_Inner_::Client outer(connection_, Options());
  EXPECT_FALSE(outer.Get(imp::Outer()).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_importer", "Outer_Inner", "Get"));
  ImporterImpl impl;
  natsrpc_test::imported::Imported_Nested_Deeper req;
  req.set_s("abc");
  imp::Outer_Inner reply;
  ASSERT_TRUE(impl.Deeper(Context(), req, reply).ok());
  EXPECT_EQ(reply.v(), 3);
  OuterInnerImpl outer_impl;
  ExpectNames(outer_impl, "Outer_Inner", "natsrpc_test_importer");
}

// --- well_known.proto, proto2.proto, proto3_optional.proto
// --------------------

class WellKnownImpl final : public natsrpc_test::wkt::WellKnown::Service {
 public:
  absl::Status Ping(natsrpc::ServerContext&, const google::protobuf::Empty&,
                    google::protobuf::Empty&) override {
    return absl::OkStatus();
  }
};

TEST_F(CompileTest, WellKnownTypes) {
  natsrpc_test::wkt::WellKnown::Client client(connection_, Options());
  EXPECT_FALSE(client.Ping(google::protobuf::Empty()).ok());
  EXPECT_FALSE(client.Name(google::protobuf::Empty()).ok());
  EXPECT_FALSE(client.Count(google::protobuf::Int64Value()).ok());
  EXPECT_FALSE(client.Now(google::protobuf::BoolValue()).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_wkt", "WellKnown", "Now"));
  WellKnownImpl impl;
  google::protobuf::Empty empty;
  EXPECT_TRUE(impl.Ping(Context(), empty, empty).ok());
}

class Proto2Impl final : public natsrpc_test::p2::Proto2::Service {};
class MaybeImpl final : public natsrpc_test::p3opt::Maybe::Service {};

TEST_F(CompileTest, Proto2AndProto3Optional) {
  natsrpc_test::p2::Proto2::Client client(connection_, Options());
  // A missing required field fails before anything is published.
  EXPECT_EQ(client.Lookup(natsrpc_test::p2::P2Request()).status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(LastSubject(), "");
  natsrpc_test::p2::P2Request req;
  req.set_id(1);
  EXPECT_EQ(client.Lookup(req).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_p2", "Proto2", "Lookup"));
  Proto2Impl p2;

  natsrpc_test::p3opt::Maybe::Client maybe(connection_, Options());
  natsrpc_test::p3opt::MaybeRequest maybe_req;
  maybe_req.set_id(0);
  EXPECT_TRUE(maybe_req.has_id());
  EXPECT_FALSE(maybe.Find(maybe_req).ok());
  MaybeImpl maybe_impl;
  ExpectNames(maybe_impl, "Maybe", "natsrpc_test_p3opt");
}

// --- same_name_a.proto + same_name_b.proto
// ------------------------------------

class EchoA final : public natsrpc_test::same_a::Echo::Service {};
class EchoB final : public natsrpc_test::same_b::Echo::Service {};

TEST_F(CompileTest, SameServiceNameInTwoPackages) {
  natsrpc_test::same_a::Echo::Client a(connection_, Options());
  natsrpc_test::same_b::Echo::Client b(connection_, Options());
  EXPECT_FALSE(a.Echo(natsrpc_test::same_a::Ping()).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_same_a", "Echo", "Echo"));
  EXPECT_FALSE(b.Echo(natsrpc_test::same_b::Ping()).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_same_b", "Echo", "Echo"));
  EchoA ia;
  EchoB ib;
  ExpectNames(ia, "Echo", "natsrpc_test_same_a");
  ExpectNames(ib, "Echo", "natsrpc_test_same_b");
}

// --- many_methods.proto, comments.proto, no_service.proto, options.proto
// ------

class ManyImpl final : public natsrpc_test::many::Many::Service {
 public:
  absl::Status Method149(natsrpc::ServerContext&,
                         const natsrpc_test::many::ManyRequest& req,
                         natsrpc_test::many::ManyReply& reply) override {
    reply.set_n(req.n() + 149);
    return absl::OkStatus();
  }
};

TEST_F(CompileTest, ManyMethods) {
  natsrpc_test::many::Many::Client client(connection_, Options());
  const natsrpc_test::many::ManyRequest req;
  EXPECT_FALSE(client.Method0(req).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_many", "Many", "Method0"));
  EXPECT_FALSE(client.Method77(req).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_many", "Many", "Method77"));
  EXPECT_FALSE(client.Method149(req).ok());
  EXPECT_EQ(LastSubject(), Subject("natsrpc_test_many", "Many", "Method149"));
  ManyImpl impl;
  natsrpc_test::many::ManyReply reply;
  ASSERT_TRUE(impl.Method149(Context(), req, reply).ok());
  EXPECT_EQ(reply.n(), 149);
}

class CommentedImpl final : public natsrpc_test::comments::Commented::Service {
};

TEST_F(CompileTest, CommentsDoNotSwallowCode) {
  // Each method follows a doc comment ending in a backslash: had the comment
  // continued onto the declaration, these would not compile.
  natsrpc_test::comments::Commented::Client client(connection_, Options());
  const natsrpc_test::comments::Msg msg;
  EXPECT_FALSE(client.Dollar(msg).ok());
  EXPECT_FALSE(client.Block(msg).ok());
  EXPECT_FALSE(client.Trailing(msg).ok());
  EXPECT_FALSE(client.Spaces(msg).ok());
  EXPECT_EQ(LastSubject(),
            Subject("natsrpc_test_comments", "Commented", "Spaces"));
  CommentedImpl impl;
  ExpectNames(impl, "Commented", "natsrpc_test_comments");
}

TEST_F(CompileTest, NoServiceStillLinks) {
  natsrpc_test::noservice::Lonely lonely;
  lonely.set_x(1);
  EXPECT_EQ(lonely.x(), 1);
}

class FileDefaultsImpl final
    : public natsrpc_test::options::FileDefaults::Service {};
class OverridesImpl final : public natsrpc_test::options::Overrides::Service {};

TEST_F(CompileTest, OptionsApps) {
  natsrpc_test::options::FileDefaults::Client a(connection_, Options());
  EXPECT_FALSE(a.FromFile(natsrpc_test::options::Msg()).ok());
  EXPECT_EQ(LastSubject(), Subject("file-app", "FileDefaults", "FromFile"));
  natsrpc_test::options::Overrides::Client b(connection_, Options());
  EXPECT_FALSE(b.FromService(natsrpc_test::options::Msg()).ok());
  EXPECT_EQ(LastSubject(), Subject("service_app", "Overrides", "FromService"));
  FileDefaultsImpl ia;
  ExpectNames(ia, "FileDefaults", "file-app");
  OverridesImpl ib;
  ExpectNames(ib, "Overrides", "service_app");
}

// --- streaming.proto ---------------------------------------------------------

namespace st = ::natsrpc_test::streaming;

// The stream objects of the generated signatures.
using TickReader = natsrpc::ClientReader<st::Tick, natsrpc::ProtobufCodec>;
using SumWriter =
    natsrpc::ClientWriter<st::Tick, st::Total, natsrpc::ProtobufCodec>;
using ChatStream =
    natsrpc::ClientReaderWriter<st::Tick, st::Total, natsrpc::ProtobufCodec>;
using TickStream =
    natsrpc::ClientReaderWriter<st::Tick, st::Tick, natsrpc::ProtobufCodec>;
using ServerTickWriter =
    natsrpc::ServerWriter<st::Tick, natsrpc::ProtobufCodec>;
using ServerTickReader =
    natsrpc::ServerReader<st::Tick, natsrpc::ProtobufCodec>;
using ServerChat =
    natsrpc::ServerReaderWriter<st::Tick, st::Total, natsrpc::ProtobufCodec>;
using ServerTicks =
    natsrpc::ServerReaderWriter<st::Tick, st::Tick, natsrpc::ProtobufCodec>;

// An endpoint for server stream objects handed to handlers directly: a
// stream that is already over, so reads and writes fail.
std::shared_ptr<natsrpc::internal::StreamEndpoint> OverStream() {
  return natsrpc::internal::FailedStream(absl::CancelledError("test"));
}

// Reactors that record the final status.
class ReadReactor final : public natsrpc::ClientReadReactor<st::Tick> {
 public:
  void OnDone(const absl::Status& status) override {
    status_ = status;
    done_.Notify();
  }
  absl::Status Wait() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return status_;
  }
  st::Tick tick;

 private:
  absl::Notification done_;
  absl::Status status_;
};

class WriteReactor final
    : public natsrpc::ClientWriteReactor<st::Tick, st::Total> {
 public:
  void OnDone(absl::StatusOr<st::Total> result) override {
    status_ = result.status();
    done_.Notify();
  }
  absl::Status Wait() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return status_;
  }

 private:
  absl::Notification done_;
  absl::Status status_;
};

template <typename Resp>
class BidiReactor final : public natsrpc::ClientBidiReactor<st::Tick, Resp> {
 public:
  void OnDone(const absl::Status& status) override {
    status_ = status;
    done_.Notify();
  }
  absl::Status Wait() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return status_;
  }
  Resp reply;

 private:
  absl::Notification done_;
  absl::Status status_;
};

// Handlers of every kind; Chat keeps the default (UNIMPLEMENTED).
class StreamerImpl final : public st::Streamer::Service {
 public:
  absl::Status Echo(natsrpc::ServerContext&, const st::Tick& req,
                    st::Tick& reply) override {
    reply.set_n(req.n());
    return absl::OkStatus();
  }
  absl::Status Watch(natsrpc::ServerContext&, const st::Tick& req,
                     ServerTickWriter& writer) override {
    if (req.n() < 0) return absl::InvalidArgumentError("negative");
    return writer.Write(req) ? absl::OkStatus()
                             : absl::CancelledError("stream over");
  }
  absl::Status Sum(natsrpc::ServerContext&, ServerTickReader& reader,
                   st::Total& total) override {
    st::Tick tick;
    int64_t sum = 0;
    while (reader.Read(&tick)) sum += tick.n();
    total.set_sum(sum + 42);
    return absl::OkStatus();
  }
};

// Overrides of escaped and moved names, of each kind.
class ClassImpl2 final : public st::class_::Service {
 public:
  absl::Status delete_(natsrpc::ServerContext&, ServerTicks&) override {
    return absl::OkStatus();
  }
  absl::Status co_yield_(natsrpc::ServerContext&, const st::Tick&,
                         ServerTickWriter&) override {
    return absl::OkStatus();
  }
  absl::Status FooAsync_(natsrpc::ServerContext&, ServerTickReader&,
                         st::Total&) override {
    return absl::OkStatus();
  }
  absl::Status Bar_(natsrpc::ServerContext&, const st::Tick&,
                    st::Tick&) override {
    return absl::OkStatus();
  }
  absl::Status stream(natsrpc::ServerContext&, ServerTicks&) override {
    return absl::OkStatus();
  }
  absl::Status reader(natsrpc::ServerContext&, ServerTickReader&,
                      st::Total&) override {
    return absl::OkStatus();
  }
};

TEST_F(CompileTest, StreamingBlockingCalls) {
  st::Streamer::Client client(connection_, Options());
  const std::string app = "natsrpc_test_streaming";
  st::Tick tick;
  tick.set_n(1);

  std::unique_ptr<TickReader> watch = client.Watch(tick);
  ASSERT_NE(watch, nullptr);
  st::Tick got;
  EXPECT_FALSE(watch->Read(&got));
  EXPECT_FALSE(watch->Finish().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Watch"));

  std::unique_ptr<SumWriter> sum = client.Sum();
  ASSERT_NE(sum, nullptr);
  EXPECT_FALSE(sum->Write(tick));
  EXPECT_FALSE(sum->Finish().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Sum"));

  natsrpc::CallOptions options;
  options.timeout = absl::Seconds(5);
  std::unique_ptr<ChatStream> chat = client.Chat(options);
  ASSERT_NE(chat, nullptr);
  EXPECT_FALSE(chat->Write(tick));
  st::Total total;
  EXPECT_FALSE(chat->Read(&total));
  EXPECT_FALSE(chat->Finish().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Chat"));

  EXPECT_FALSE(client.Echo(tick).ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Echo"));
}

TEST_F(CompileTest, StreamingReactors) {
  st::Streamer::Client client(connection_, Options());
  const std::string app = "natsrpc_test_streaming";
  st::Tick tick;

  ReadReactor watch;
  client.WatchAsync(tick, &watch);
  watch.StartRead(&watch.tick);
  EXPECT_FALSE(watch.Wait().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Watch"));

  WriteReactor sum;
  client.SumAsync(&sum);
  sum.StartWritesDone();
  EXPECT_FALSE(sum.Wait().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Sum"));

  BidiReactor<st::Total> chat;
  client.ChatAsync(&chat, natsrpc::CallOptions());
  chat.StartRead(&chat.reply);
  EXPECT_FALSE(chat.Wait().ok());
  EXPECT_EQ(LastSubject(), Subject(app, "Streamer", "Chat"));
}

TEST_F(CompileTest, StreamingHandlers) {
  StreamerImpl impl;
  ExpectNames(impl, "Streamer", "natsrpc_test_streaming");
  st::Tick tick;
  ServerTickWriter writer(OverStream(), absl::InfiniteFuture());
  EXPECT_EQ(impl.Watch(Context(), tick, writer).code(),
            absl::StatusCode::kCancelled);
  tick.set_n(-1);
  EXPECT_EQ(impl.Watch(Context(), tick, writer).code(),
            absl::StatusCode::kInvalidArgument);
  ServerTickReader reader(OverStream(), absl::InfiniteFuture());
  st::Total total;
  ASSERT_TRUE(impl.Sum(Context(), reader, total).ok());
  EXPECT_EQ(total.sum(), 42);
  // Not overridden: UNIMPLEMENTED.
  ServerChat chat(OverStream(), absl::InfiniteFuture());
  EXPECT_EQ(impl.Chat(Context(), chat).code(),
            absl::StatusCode::kUnimplemented);

  ClassImpl2 class_impl;
  ExpectNames(class_impl, "class", "natsrpc_test_streaming");
  ServerTicks ticks(OverStream(), absl::InfiniteFuture());
  EXPECT_TRUE(class_impl.delete_(Context(), ticks).ok());
  EXPECT_EQ(class_impl.context(Context(), ticks).code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(class_impl.assert_(Context(), reader, total).code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(class_impl.reactor(Context(), tick, writer).code(),
            absl::StatusCode::kUnimplemented);
}

// Escaped and moved C++ names still call the IDL's wire names.
TEST_F(CompileTest, StreamingNamesKeepWireNames) {
  st::class_::Client client(connection_, Options());
  const st::Tick tick;
  auto expect = [this](absl::string_view wire) {
    EXPECT_EQ(LastSubject(), Subject("natsrpc_test_streaming", "class", wire));
  };
  using ServerStreamCall = std::unique_ptr<TickReader> (st::class_::Client::*)(
      const st::Tick&, const natsrpc::CallOptions&);
  for (const auto& [call, wire] :
       std::vector<std::pair<ServerStreamCall, const char*>>{
           {&st::class_::Client::co_yield_, "co_yield"},
           {&st::class_::Client::Foo, "Foo"},
           {&st::class_::Client::Client_, "Client"},
           {&st::class_::Client::reactor, "reactor"},
           {&st::class_::Client::writer, "writer"},
           {&st::class_::Client::request, "request"}}) {
    EXPECT_FALSE((client.*call)(tick, {})->Finish().ok());
    expect(wire);
  }
  using ClientStreamCall = std::unique_ptr<SumWriter> (st::class_::Client::*)(
      const natsrpc::CallOptions&);
  for (const auto& [call, wire] :
       std::vector<std::pair<ClientStreamCall, const char*>>{
           {&st::class_::Client::assert_, "assert"},
           {&st::class_::Client::FooAsync_, "FooAsync"},
           {&st::class_::Client::Service_, "Service"},
           {&st::class_::Client::reader, "reader"},
           {&st::class_::Client::response, "response"}}) {
    EXPECT_FALSE((client.*call)({})->Finish().ok());
    expect(wire);
  }
  using BidiCall = std::unique_ptr<TickStream> (st::class_::Client::*)(
      const natsrpc::CallOptions&);
  for (const auto& [call, wire] : std::vector<std::pair<BidiCall, const char*>>{
           {&st::class_::Client::delete_, "delete"},
           {&st::class_::Client::BarAsync, "BarAsync"},
           {&st::class_::Client::channel__, "channel_"},
           {&st::class_::Client::stream, "stream"},
           {&st::class_::Client::context, "context"},
           {&st::class_::Client::options, "options"}}) {
    EXPECT_FALSE((client.*call)({})->Finish().ok());
    expect(wire);
  }
  // A unary method after a streaming one with its async name.
  EXPECT_FALSE(client.Bar_(tick).ok());
  expect("Bar");
  absl::Notification done;
  client.Bar_Async(tick, [&done](absl::StatusOr<st::Tick>) { done.Notify(); });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  expect("Bar");
  // Asynchronous forms of moved names.
  ReadReactor foo;
  client.FooAsync(tick, &foo);
  foo.StartRead(&foo.tick);
  EXPECT_FALSE(foo.Wait().ok());
  expect("Foo");
  WriteReactor foo_async;
  client.FooAsync_Async(&foo_async);
  foo_async.StartWritesDone();
  EXPECT_FALSE(foo_async.Wait().ok());
  expect("FooAsync");
  BidiReactor<st::Tick> del;
  client.delete_Async(&del);
  del.StartRead(&del.reply);
  EXPECT_FALSE(del.Wait().ok());
  expect("delete");
}

}  // namespace
