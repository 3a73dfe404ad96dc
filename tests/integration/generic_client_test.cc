// Copyright 2026 The natsrpc Authors.
//
// natsrpc::GenericClient (natsrpc/generic_client.h) and ProtoSchema
// (natsrpc/proto_schema.h) against a real nats-server serving the example
// services in-process (generic_services.h): calls by method name with bytes
// and with dynamic messages built from the service's own schema, the four
// kinds of call, deadlines, metadata, interceptors, status mapping, and
// DiscoverServices.

#include "natsrpc/generic_client.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "example/v1/calculator.pb.h"
#include "example/v1/streaming.pb.h"
#include "generic_services.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/proto_schema.h"
#include "test_connect.h"

namespace natsrpc {
namespace {

namespace pb = ::google::protobuf;

class GenericClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::NatsServer>> s =
        testing::NatsServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    nats_ = s->release();
  }
  static void TearDownTestSuite() {
    delete nats_;
    nats_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(nats_, nullptr);
    absl::StatusOr<Connection> c =
        testing::ConnectForTest(ConnectOptions{.url = nats_->url()});
    ASSERT_TRUE(c.ok()) << c.status();
    conn_ = std::make_unique<Connection>(*c);
    server_ =
        std::make_unique<Server>(*conn_, ServerOptions{.responder = "bob"});
    ASSERT_TRUE(server_->AddService(calculator_).ok());
    ASSERT_TRUE(server_->AddService(files_).ok());
    ASSERT_TRUE(server_->AddService(chat_).ok());
  }
  void TearDown() override {
    calculator_.Release();
    server_.reset();
  }

  GenericClient Client(absl::string_view service, ClientOptions o = {}) {
    o.requester = "alice";
    o.responder = "bob";
    if (o.app.empty()) o.app = "example_v1";
    return GenericClient(*conn_, o, service);
  }

  // The service's schema, fetched with the generic client.
  std::unique_ptr<ProtoSchema> Schema(GenericClient& client) {
    absl::StatusOr<RemoteSchema> remote = client.FetchSchema();
    EXPECT_TRUE(remote.ok()) << remote.status();
    if (!remote.ok()) return nullptr;
    EXPECT_EQ(remote->encoding, SchemaEncoding::kProtobufFileDescriptorSet);
    absl::StatusOr<std::unique_ptr<ProtoSchema>> schema =
        ProtoSchema::FromFileDescriptorSet(remote->bytes);
    EXPECT_TRUE(schema.ok()) << schema.status();
    return schema.ok() ? *std::move(schema) : nullptr;
  }

  static testing::NatsServer* nats_;
  std::unique_ptr<Connection> conn_;
  generic_testing::Calculator calculator_;
  generic_testing::FileStore files_;
  generic_testing::ChatRoom chat_;
  std::unique_ptr<Server> server_;
};

testing::NatsServer* GenericClientTest::nats_ = nullptr;

TEST_F(GenericClientTest, UnaryWithBytes) {
  GenericClient calc = Client("Calculator");
  ASSERT_TRUE(calc.status().ok()) << calc.status();
  example::v1::AddRequest req;
  req.set_a(2);
  req.set_b(3);
  absl::StatusOr<std::string> reply = calc.Call("Add", req.SerializeAsString());
  ASSERT_TRUE(reply.ok()) << reply.status();
  example::v1::AddReply sum;
  ASSERT_TRUE(sum.ParseFromString(*reply));
  EXPECT_EQ(sum.sum(), 5);
}

TEST_F(GenericClientTest, UnaryAsyncWithBytes) {
  GenericClient calc = Client("Calculator");
  example::v1::AddRequest req;
  req.set_a(40);
  req.set_b(2);
  absl::StatusOr<std::string> got;
  absl::Notification done;
  calc.CallAsync("Add", req.SerializeAsString(),
                 [&](absl::StatusOr<std::string> r) {
                   got = std::move(r);
                   done.Notify();
                 });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  ASSERT_TRUE(got.ok()) << got.status();
  example::v1::AddReply sum;
  ASSERT_TRUE(sum.ParseFromString(*got));
  EXPECT_EQ(sum.sum(), 42);
}

TEST_F(GenericClientTest, ErrorStatusOfTheServer) {
  GenericClient calc = Client("Calculator");
  example::v1::DivideRequest req;
  req.set_dividend(1);
  absl::StatusOr<std::string> reply =
      calc.Call("Divide", req.SerializeAsString());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reply.status().message(), "division by zero");
}

TEST_F(GenericClientTest, UnknownMethodIsUnimplemented) {
  GenericClient calc = Client("Calculator");
  absl::StatusOr<std::string> reply = calc.Call("Subtract", "");
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnimplemented)
      << reply.status();
}

TEST_F(GenericClientTest, BadArgumentsNameTheCause) {
  GenericClient no_app(*conn_, {.requester = "alice", .responder = "bob"},
                       "Calculator");
  EXPECT_EQ(no_app.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_app.status().message().find("ClientOptions.app"),
            absl::string_view::npos)
      << no_app.status();
  EXPECT_EQ(no_app.Call("Add", "").status().code(),
            absl::StatusCode::kInvalidArgument);

  GenericClient calc = Client("Calculator");
  absl::StatusOr<std::string> r = calc.Call("Add.x", "");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("method"), absl::string_view::npos)
      << r.status();

  GenericClient bad_service = Client("Calcu lator");
  EXPECT_EQ(bad_service.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(GenericClientTest, DeadlineExceeded) {
  GenericClient calc = Client("Calculator");
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> reply =
      calc.Call("Echo", "", {.timeout = absl::Milliseconds(200)});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded)
      << reply.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(GenericClientTest, UnaryWithDynamicMessages) {
  GenericClient calc = Client("Calculator");
  std::unique_ptr<ProtoSchema> schema = Schema(calc);
  ASSERT_NE(schema, nullptr);
  absl::StatusOr<const pb::MethodDescriptor*> add =
      schema->FindMethod("Calculator", "Add");
  ASSERT_TRUE(add.ok()) << add.status();
  EXPECT_EQ(ProtoSchema::KindOf(**add), CallKind::kUnary);
  std::unique_ptr<pb::Message> req = schema->NewMessage(*(*add)->input_type());
  // No generated type: the dynamic message's own reflection.
  EXPECT_EQ(dynamic_cast<example::v1::AddRequest*>(req.get()), nullptr);
  const pb::Reflection* r = req->GetReflection();
  r->SetInt64(req.get(), req->GetDescriptor()->FindFieldByName("a"), 20);
  r->SetInt64(req.get(), req->GetDescriptor()->FindFieldByName("b"), 22);
  std::unique_ptr<pb::Message> reply =
      schema->NewMessage(*(*add)->output_type());
  ASSERT_TRUE(calc.Call("Add", *req, reply.get()).ok());
  EXPECT_EQ(reply->GetReflection()->GetInt64(
                *reply, reply->GetDescriptor()->FindFieldByName("sum")),
            42);
}

TEST_F(GenericClientTest, SchemaLookupsNameWhatThereIs) {
  GenericClient calc = Client("Calculator");
  std::unique_ptr<ProtoSchema> schema = Schema(calc);
  ASSERT_NE(schema, nullptr);
  EXPECT_TRUE(schema->FindService("example.v1.Calculator").ok());
  absl::StatusOr<const pb::ServiceDescriptor*> none =
      schema->FindService("Nope");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("example.v1.Calculator"),
            absl::string_view::npos)
      << none.status();
  absl::StatusOr<const pb::MethodDescriptor*> sub =
      schema->FindMethod("Calculator", "Sub");
  EXPECT_EQ(sub.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(sub.status().message().find("Add, Divide, Echo"),
            absl::string_view::npos)
      << sub.status();
}

TEST_F(GenericClientTest, ServerStreamWithBytes) {
  GenericClient files = Client("FileStore");
  example::v1::DownloadRequest req;
  req.set_name("abc.txt");
  req.set_chunk_size(4);
  std::unique_ptr<GenericStream> s =
      files.OpenServerStream("Download", req.SerializeAsString());
  std::string bytes;
  std::vector<std::string> data;
  while (s->Read(&bytes)) {
    example::v1::Chunk chunk;
    ASSERT_TRUE(chunk.ParseFromString(bytes));
    data.push_back(chunk.data());
  }
  ASSERT_TRUE(s->Finish().ok()) << s->Finish();
  EXPECT_EQ(data, (std::vector<std::string>{"abcd", "efgh", "ij"}));
}

TEST_F(GenericClientTest, ServerStreamErrorStatus) {
  GenericClient files = Client("FileStore");
  example::v1::DownloadRequest req;
  req.set_name("missing");
  std::unique_ptr<GenericStream> s = files.OpenServerStream("Download", req);
  std::string bytes;
  EXPECT_FALSE(s->Read(&bytes));
  absl::Status status = s->Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_EQ(status.message(), "no file named \"missing\"");
}

TEST_F(GenericClientTest, ClientStreamWithDynamicMessagesAndMetadata) {
  GenericClient files =
      Client("FileStore", {.metadata = {{"x-file-name", "up.txt"}}});
  std::unique_ptr<ProtoSchema> schema = Schema(files);
  ASSERT_NE(schema, nullptr);
  absl::StatusOr<const pb::MethodDescriptor*> upload =
      schema->FindMethod("example.v1.FileStore", "Upload");
  ASSERT_TRUE(upload.ok()) << upload.status();
  ASSERT_EQ(ProtoSchema::KindOf(**upload), CallKind::kClientStreaming);
  std::unique_ptr<GenericStream> s =
      files.OpenStream("Upload", CallKind::kClientStreaming);
  for (const char* part : {"hello ", "generic ", "world"}) {
    std::unique_ptr<pb::Message> chunk =
        schema->NewMessage(*(*upload)->input_type());
    chunk->GetReflection()->SetString(
        chunk.get(), chunk->GetDescriptor()->FindFieldByName("data"), part);
    ASSERT_TRUE(s->Write(*chunk));
  }
  ASSERT_TRUE(s->WritesDone());
  std::unique_ptr<pb::Message> reply =
      schema->NewMessage(*(*upload)->output_type());
  ASSERT_TRUE(s->Read(reply.get())) << s->Finish();
  EXPECT_EQ(reply->GetReflection()->GetInt64(
                *reply, reply->GetDescriptor()->FindFieldByName("size")),
            19);
  EXPECT_TRUE(s->Finish().ok());
  EXPECT_EQ(files_.File("up.txt"), "hello generic world");
}

TEST_F(GenericClientTest, BidiWithGeneratedMessages) {
  GenericClient chat = Client("ChatRoom");
  std::unique_ptr<GenericStream> s =
      chat.OpenStream("Chat", CallKind::kBidiStreaming);
  example::v1::ChatMessage in;
  in.set_from("alice");
  in.set_text("one two three");
  ASSERT_TRUE(s->Write(in));
  example::v1::ChatMessage out;
  ASSERT_TRUE(s->Read(&out)) << s->Finish();
  EXPECT_EQ(out.text(), "heard alice say 3 words");
  in.set_text("four");
  ASSERT_TRUE(s->Write(in));
  ASSERT_TRUE(s->Read(&out));
  EXPECT_EQ(out.text(), "heard alice say 1 words");
  ASSERT_TRUE(s->WritesDone());
  EXPECT_FALSE(s->Read(&out));
  EXPECT_TRUE(s->Finish().ok());
}

TEST_F(GenericClientTest, OpenStreamRefusesOtherKinds) {
  GenericClient chat = Client("ChatRoom");
  std::unique_ptr<GenericStream> s = chat.OpenStream("Chat", CallKind::kUnary);
  EXPECT_FALSE(s->Write(std::string("x")));
  EXPECT_EQ(s->Finish().code(), absl::StatusCode::kInvalidArgument);
}

// Interceptors see generic calls as they see generated ones.
class Recorder final : public ClientInterceptor {
 public:
  std::unique_ptr<ClientCallInterceptor> Intercept(
      const CallInfo& call) override {
    absl::MutexLock lock(&mu_);
    calls_.push_back(absl::StrCat(call.service, "/", call.method, " ",
                                  static_cast<int>(call.kind)));
    return nullptr;
  }
  std::vector<std::string> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> calls_;
};

TEST_F(GenericClientTest, InterceptorsSeeTheCalls) {
  auto recorder = std::make_shared<Recorder>();
  GenericClient calc = Client("Calculator", {.interceptors = {recorder}});
  ASSERT_TRUE(calc.Call("Add", "").ok());
  GenericClient files = Client("FileStore", {.interceptors = {recorder}});
  example::v1::DownloadRequest req;
  req.set_name("abc.txt");
  std::unique_ptr<GenericStream> s = files.OpenServerStream("Download", req);
  EXPECT_TRUE(s->Finish().ok());
  EXPECT_EQ(recorder->calls(),
            (std::vector<std::string>{
                "Calculator/Add 0",
                absl::StrCat("FileStore/Download ",
                             static_cast<int>(CallKind::kServerStreaming))}));
}

TEST_F(GenericClientTest, DiscoverServicesListsTheInstances) {
  absl::StatusOr<std::vector<DiscoveredService>> found = DiscoverServices(
      *conn_, {.timeout = absl::Seconds(10), .gap = absl::Milliseconds(500)});
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 3u);
  const DiscoveredService& calc = (*found)[0];
  EXPECT_EQ(calc.service, "example.v1.Calculator");
  EXPECT_EQ(calc.name, "example_v1-Calculator");
  EXPECT_EQ(calc.app, "example_v1");
  EXPECT_EQ(calc.responder, "bob");
  EXPECT_EQ(calc.id, server_->instance_id());
  ASSERT_EQ(calc.endpoints.size(), 3u);
  EXPECT_EQ(calc.endpoints[0].name, "Add");
  EXPECT_EQ(calc.endpoints[0].request_type, "example.v1.AddRequest");
  EXPECT_EQ(calc.endpoints[0].kind, CallKind::kUnary);
  EXPECT_EQ((*found)[1].service, "example.v1.ChatRoom");
  EXPECT_EQ((*found)[1].endpoints[0].kind, CallKind::kBidiStreaming);
  EXPECT_EQ((*found)[2].service, "example.v1.FileStore");
  EXPECT_EQ((*found)[2].endpoints[0].kind, CallKind::kServerStreaming);
  EXPECT_EQ((*found)[2].endpoints[1].kind, CallKind::kClientStreaming);

  absl::StatusOr<std::vector<DiscoveredService>> one = DiscoverServices(
      *conn_, {.name = "example_v1-ChatRoom", .timeout = absl::Seconds(10)});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].service, "example.v1.ChatRoom");
}

TEST(ProtoSchemaTest, FromProtoFiles) {
  absl::StatusOr<std::unique_ptr<ProtoSchema>> schema =
      ProtoSchema::FromProtoFiles({"example/v1/streaming.proto"},
                                  {NATSRPC_TEST_PROTO_DIR});
  ASSERT_TRUE(schema.ok()) << schema.status();
  absl::StatusOr<const pb::MethodDescriptor*> chat =
      (*schema)->FindMethod("ChatRoom", "Chat");
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_EQ(ProtoSchema::KindOf(**chat), CallKind::kBidiStreaming);
  EXPECT_EQ((*schema)->services().size(), 2u);

  absl::StatusOr<std::unique_ptr<ProtoSchema>> missing =
      ProtoSchema::FromProtoFiles({"example/v1/nope.proto"},
                                  {NATSRPC_TEST_PROTO_DIR});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("nope.proto"),
            absl::string_view::npos)
      << missing.status();
}

TEST(ProtoSchemaTest, BadFileDescriptorSet) {
  absl::StatusOr<std::unique_ptr<ProtoSchema>> schema =
      ProtoSchema::FromFileDescriptorSet("\xff\xff garbage");
  EXPECT_EQ(schema.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace natsrpc

int main(int argc, char** argv) {
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
