// Copyright 2026 The natsrpc Authors.
//
// Schema requests (docs/protocol.md section 12) against a real nats-server:
// the generated Calculator service answers `natsrpc-schema` with a
// FileDescriptorSet from which protobuf's DescriptorPool finds the service,
// and a message built from that pool alone (DynamicMessage, no generated
// code) calls Add. A service without an embedded schema answers NOT_FOUND;
// a stream open on the schema method is refused.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "example/v1/calculator.natsrpc.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "test_connect.h"

namespace natsrpc {
namespace {

namespace pb = ::google::protobuf;

constexpr absl::Duration kWait = absl::Seconds(20);
constexpr char kBase[] = "requests.alice.bob.example_v1.Calculator.";
constexpr char kReply[] = "responses.alice.bob.example_v1.schematest.1";

class CalculatorImpl final : public example::v1::Calculator::Service {
 public:
  absl::Status Add(ServerContext&, const example::v1::AddRequest& req,
                   example::v1::AddReply& reply) override {
    reply.set_sum(req.a() + req.b());
    return absl::OkStatus();
  }
};

// A hand-written service: no schema.
class BareService final : public Service {
 public:
  BareService() : Service("Bare", "example_v1") {}
};

class SchemaTest : public ::testing::Test {
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
  }

  // Publishes as a foreign NATS client would; the reply, or null.
  MessagePtr Request(const std::string& subject, std::vector<HeaderRef> headers,
                     absl::string_view data) {
    MessagePtr got;
    absl::Notification done;
    auto sub = conn_->transport().Subscribe(kReply, "", [&](MessagePtr m) {
      if (!done.HasBeenNotified()) {
        got = std::move(m);
        done.Notify();
      }
    });
    EXPECT_TRUE(sub.ok());
    EXPECT_TRUE(
        conn_->transport()
            .Publish(OutgoingMessage{subject, kReply, headers, nullptr, data})
            .ok());
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(kWait))
        << "no reply to " << subject << " within " << kWait;
    return got;
  }

  static testing::NatsServer* nats_;
  std::unique_ptr<Connection> conn_;
  CalculatorImpl calculator_;
  std::unique_ptr<Server> server_;
};

testing::NatsServer* SchemaTest::nats_ = nullptr;

TEST_F(SchemaTest, DescriptorSetBuildsAMessageThatCallsAdd) {
  MessagePtr m = Request(std::string(kBase) + "natsrpc-schema", {}, "");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->header("Nats-Service-Error-Code"), std::nullopt)
      << m->header("Nats-Service-Error").value_or("");
  EXPECT_EQ(m->header("Natsrpc-Schema-Encoding"),
            "protobuf-file-descriptor-set");
  EXPECT_EQ(m->header("Natsrpc-Schema-Service"), "example.v1.Calculator");

  pb::FileDescriptorSet set;
  ASSERT_TRUE(set.ParseFromString(std::string(m->data())));
  // Each file after its imports: BuildFile() fails on a missing import.
  pb::DescriptorPool pool;
  std::vector<std::string> names;
  for (const pb::FileDescriptorProto& file : set.file()) {
    names.push_back(file.name());
    ASSERT_NE(pool.BuildFile(file), nullptr) << file.name();
  }
  EXPECT_EQ(names.back(), "example/v1/calculator.proto");
  EXPECT_NE(std::find(names.begin(), names.end(), "natsrpc/options.proto"),
            names.end());
  const pb::ServiceDescriptor* service =
      pool.FindServiceByName("example.v1.Calculator");
  ASSERT_NE(service, nullptr);
  const pb::MethodDescriptor* add = service->FindMethodByName("Add");
  ASSERT_NE(add, nullptr);
  EXPECT_NE(service->FindMethodByName("Divide"), nullptr);

  // A client that knows nothing but the descriptors: Add(40, 2).
  pb::DynamicMessageFactory factory(&pool);
  std::unique_ptr<pb::Message> request(
      factory.GetPrototype(add->input_type())->New());
  const pb::Reflection& in = *request->GetReflection();
  in.SetInt64(request.get(), add->input_type()->FindFieldByName("a"), 40);
  in.SetInt64(request.get(), add->input_type()->FindFieldByName("b"), 2);
  m = Request(std::string(kBase) + std::string(add->name()),
              {{"Content-Type", "application/protobuf"}},
              request->SerializeAsString());
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->header("Nats-Service-Error-Code"), std::nullopt)
      << m->header("Nats-Service-Error").value_or("");
  std::unique_ptr<pb::Message> reply(
      factory.GetPrototype(add->output_type())->New());
  ASSERT_TRUE(reply->ParseFromString(std::string(m->data())));
  EXPECT_EQ(reply->GetReflection()->GetInt64(
                *reply, add->output_type()->FindFieldByName("sum")),
            42);
  EXPECT_EQ(server_->stats().schema_requests, 1u);
}

TEST_F(SchemaTest, ServiceWithoutSchemaAnswersNotFound) {
  BareService bare;
  ASSERT_TRUE(server_->AddService(bare).ok());
  MessagePtr m =
      Request("requests.alice.bob.example_v1.Bare.natsrpc-schema", {}, "");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->header("Nats-Service-Error-Code"), "5");  // NOT_FOUND
  EXPECT_EQ(m->header("Natsrpc-Schema-Encoding"), std::nullopt);
  server_->Shutdown();
}

TEST_F(SchemaTest, StreamOpenOnTheSchemaMethodIsRefused) {
  MessagePtr m = Request(std::string(kBase) + "natsrpc-schema",
                         {{"Natsrpc-Stream", "open"},
                          {"Natsrpc-Revision", "3"},
                          {"Natsrpc-Credit", "16"}},
                         "");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->header("Natsrpc-Stream"), "end");
  EXPECT_EQ(m->header("Nats-Service-Error-Code"), "12");  // UNIMPLEMENTED
}

}  // namespace
}  // namespace natsrpc

int main(int argc, char** argv) {
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
