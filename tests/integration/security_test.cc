// Copyright 2026 The natsrpc Authors.
//
// Security suite (issue 11, item 5), against real nats-servers this binary
// starts on loopback:
//  - the per-user grants of docs/protocol.md section 2, with a third user
//    (mallory) who tries to impersonate alice, read her replies, spoof a
//    reply-to into her response space and cancel her calls: each attempt is
//    refused by nats-server's permissions or dropped by natsrpc, and each is
//    checked explicitly;
//  - TLS and mutual TLS with certificates made here with the `openssl`
//    command line;
//  - logins with user/password, token, nkey seed and a .creds file
//    (operator, account and user JWTs made by tests/support/nkeys.h), and a
//    bad credential of each kind, which gets a status naming the option.

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/testing/v1/test_service.natsrpc.h"
#include "nkeys.h"
#include "suite_support.h"
#include "test_connect.h"

namespace natsrpc::suites {
namespace {

using ::natsrpc::testing::NatsServer;
using ::testing::HasSubstr;

// Prints a refusal, so that the run shows what a user would read.
void Show(const absl::Status& s) { std::cout << "  refused: " << s << "\n"; }

NatsServer::Options Conf(std::string config) {
  NatsServer::Options o;
  o.config = std::move(config);
  return o;
}

constexpr absl::string_view kApp = "natsrpc_testing_v1";

// A private temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/natsrpc-security-XXXXXX";
    path_ = mkdtemp(tmpl) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Write(absl::string_view name, absl::string_view text) const {
    const std::string p = absl::StrCat(path_, "/", name);
    std::ofstream(p) << text;
    return p;
  }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------
// Section 2's grants and a third user.

constexpr char kGrants[] = R"(
authorization {
  users: [
    { user: alice, password: alice-secret,
      permissions: { publish: { allow: ["requests.alice.>"] },
                     subscribe: { allow: ["responses.alice.>"] } } }
    { user: bob, password: bob-secret,
      permissions: { publish: { allow: ["responses.*.bob.>"] },
                     subscribe: { allow: ["requests.*.bob.>"] } } }
    { user: mallory, password: mallory-secret,
      permissions: { publish: { allow: ["requests.mallory.>"] },
                     subscribe: { allow: ["responses.mallory.>"] } } }
  ]
}
)";

class GrantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto nats = NatsServer::Start(Conf(kGrants));
    ASSERT_TRUE(nats.ok()) << nats.status();
    nats_ = *std::move(nats);
    for (auto [who, conn] :
         {std::pair{"alice", &alice_}, std::pair{"bob", &bob_},
          std::pair{"mallory", &mallory_}}) {
      absl::StatusOr<Connection> c =
          testing::ConnectForTest({.url = nats_->url(),
                                   .user = who,
                                   .password = absl::StrCat(who, "-secret")});
      ASSERT_TRUE(c.ok()) << who << ": " << c.status();
      *conn = std::make_unique<Connection>(*c);
    }
    server_ =
        std::make_unique<Server>(*bob_, ServerOptions{.responder = "bob"});
    ASSERT_TRUE(server_->AddService(impl_).ok());
    mallory_->transport().AddEventListener([this](const TransportEvent& e) {
      if (e.kind != TransportEvent::Kind::kPermissionDenied) return;
      absl::MutexLock lock(&mu_);
      denied_.push_back(absl::StrCat(e.publish ? "pub " : "sub ", e.subject));
    });
  }
  void TearDown() override {
    impl_.Release();
    server_.reset();
  }

  std::string Subject(absl::string_view requester, absl::string_view method) {
    return absl::StrCat("requests.", requester, ".bob.", kApp, ".TestService.",
                        method);
  }
  std::string ReplyTo(absl::string_view requester, absl::string_view id,
                      int seq) {
    return absl::StrCat("responses.", requester, ".bob.", kApp, ".", id, ".",
                        seq);
  }
  // The subjects nats-server refused to mallory so far.
  bool WaitDenied(const std::string& what) {
    absl::MutexLock lock(&mu_);
    auto has = [&] {
      return std::find(denied_.begin(), denied_.end(), what) != denied_.end();
    };
    return mu_.AwaitWithTimeout(absl::Condition(&has), kWait);
  }
  static std::string Encode(const google::protobuf::Message& m) {
    return m.SerializeAsString();
  }

  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<Connection> alice_, bob_, mallory_;
  SuiteService impl_;
  std::unique_ptr<Server> server_;
  absl::Mutex mu_;
  std::vector<std::string> denied_ ABSL_GUARDED_BY(mu_);
};

TEST_F(GrantsTest, AliceCallsBobUnderExactlyTheFourGrants) {
  tv1::TestService::Client client(
      *alice_, ClientOptions{.requester = "alice", .responder = "bob"});
  tv1::EchoRequest req;
  req.set_payload("hi");
  absl::StatusOr<tv1::EchoReply> r = client.Echo(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->payload(), "hi");
  EXPECT_EQ(r->requester(), "alice");
}

// mallory names alice as the requester: nats-server refuses the publish, the
// call ends PERMISSION_DENIED at once, and bob's handler never runs.
TEST_F(GrantsTest, ImpersonationIsRefusedByTheServer) {
  tv1::TestService::Client as_alice(
      *mallory_, ClientOptions{.requester = "alice", .responder = "bob"});
  const absl::Time start = absl::Now();
  absl::StatusOr<tv1::EchoReply> r =
      as_alice.Echo(tv1::EchoRequest(), {.timeout = absl::Seconds(10)});
  // Her client cannot even subscribe to alice's response space.
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied)
      << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // A raw publish on alice's request subject is refused by nats-server.
  ASSERT_TRUE(mallory_->transport()
                  .Publish({Subject("alice", "Echo"),
                            ReplyTo("mallory", "m", 1),
                            {},
                            nullptr,
                            ""})
                  .ok());
  EXPECT_TRUE(WaitDenied(absl::StrCat("pub ", Subject("alice", "Echo"))));
  // Her own calls work, and name her.
  tv1::TestService::Client as_mallory(
      *mallory_, ClientOptions{.requester = "mallory", .responder = "bob"});
  r = as_mallory.Echo(tv1::EchoRequest());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->requester(), "mallory");
  EXPECT_EQ(impl_.calls.load(), 1);  // only her own call ran
}

// mallory subscribes to alice's replies, to bob's whole reply space, to
// bob's request space and to everything: each subscription is refused.
TEST_F(GrantsTest, ReadingOthersRepliesIsRefused) {
  for (const char* subject :
       {"responses.alice.>", "responses.alice.bob.natsrpc_testing_v1.*.*",
        "responses.*.bob.>", "requests.*.bob.>", ">", "_INBOX.>"}) {
    Inbox spy(*mallory_, subject);
    EXPECT_EQ(spy.status().code(), absl::StatusCode::kPermissionDenied)
        << subject << ": " << spy.status();
    EXPECT_THAT(std::string(spy.status().message()), HasSubstr(subject));
  }
}

// mallory may publish her own requests but attaches reply-to subjects in
// alice's (or another app's) response space: bob's server drops each
// without an answer (section 5), and alice receives nothing.
TEST_F(GrantsTest, SpoofedReplyToIsDroppedAndAliceGetsNothing) {
  Inbox alice_inbox(*alice_, "responses.alice.>");
  ASSERT_TRUE(alice_inbox.status().ok()) << alice_inbox.status();
  Inbox mallory_inbox(*mallory_, "responses.mallory.>");
  ASSERT_TRUE(mallory_inbox.status().ok());
  tv1::EchoRequest req;
  req.set_payload("spoof");
  const std::vector<std::string> spoofs = {
      ReplyTo("alice", "x", 1),  // alice's response space
      absl::StrCat("responses.mallory.carol.", kApp, ".x.1"),  // responder
      "responses.mallory.bob.other_app.x.1",                   // app
      "responses.mallory.bob.natsrpc_testing_v1.x",            // 5 tokens
      "_INBOX.mallory.1",                                      // not responses
  };
  for (const std::string& reply : spoofs) {
    ASSERT_TRUE(
        mallory_->transport()
            .Publish(
                {Subject("mallory", "Echo"), reply, {}, nullptr, Encode(req)})
            .ok());
  }
  // A valid request after them on the same subscription: once it is
  // answered, the server has processed every spoof.
  ASSERT_TRUE(mallory_->transport()
                  .Publish({Subject("mallory", "Echo"),
                            ReplyTo("mallory", "m", 1),
                            {},
                            nullptr,
                            ""})
                  .ok());
  MessagePtr m = mallory_inbox.Next();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->subject(), ReplyTo("mallory", "m", 1));
  EXPECT_EQ(server_->stats().dropped_bad_reply_to, spoofs.size());
  EXPECT_EQ(impl_.calls.load(), 1);
  // alice's own call after the spoofs: bob's replies to her connection keep
  // their order, so hers is the first thing she receives.
  ASSERT_TRUE(alice_->transport()
                  .Publish({Subject("alice", "Echo"),
                            ReplyTo("alice", "a", 1),
                            {},
                            nullptr,
                            ""})
                  .ok());
  m = alice_inbox.Next();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->subject(), ReplyTo("alice", "a", 1));
  EXPECT_EQ(alice_inbox.size(), 0u);
  EXPECT_EQ(mallory_inbox.size(), 0u);
}

// mallory knows alice's client id and seq (the worst case) and sends cancels
// for her running call: on alice's cancel subject (refused by nats-server)
// and on her own (requester mallory: natsrpc matches the requester token, so
// it cancels nothing of alice's). alice's call completes OK.
TEST_F(GrantsTest, CancellingOthersCallsHasNoEffect) {
  Inbox alice_inbox(*alice_, "responses.alice.>");
  Inbox mallory_inbox(*mallory_, "responses.mallory.>");
  ASSERT_TRUE(alice_inbox.status().ok() && mallory_inbox.status().ok());
  tv1::SleepRequest sleep;
  sleep.set_millis(15000);
  const std::string cancel_hdr_key = "Natsrpc-Stream";
  const std::vector<HeaderRef> cancel = {{cancel_hdr_key, "cancel"}};
  // alice's call runs (the handler sleeps until released).
  ASSERT_TRUE(alice_->transport()
                  .Publish({Subject("alice", "Sleep"),
                            ReplyTo("alice", "a", 7),
                            {},
                            nullptr,
                            Encode(sleep)})
                  .ok());
  ASSERT_TRUE(Eventually([&] { return impl_.sleeping.load() == 1; }));
  // mallory's own call, to cancel afterwards as a marker.
  ASSERT_TRUE(mallory_->transport()
                  .Publish({Subject("mallory", "Sleep"),
                            ReplyTo("mallory", "m", 1),
                            {},
                            nullptr,
                            Encode(sleep)})
                  .ok());
  ASSERT_TRUE(Eventually([&] { return impl_.sleeping.load() == 2; }));

  const std::string on_alice =
      absl::StrCat(Subject("alice", "Sleep"), ".cancel.a.7");
  ASSERT_TRUE(
      mallory_->transport().Publish({on_alice, "", cancel, nullptr, ""}).ok());
  EXPECT_TRUE(WaitDenied(absl::StrCat("pub ", on_alice)));
  for (const std::string& forged :
       {absl::StrCat(Subject("mallory", "Sleep"), ".cancel.a.7"),
        absl::StrCat(Subject("mallory", "Echo"), ".cancel.a.7")}) {
    ASSERT_TRUE(
        mallory_->transport().Publish({forged, "", cancel, nullptr, ""}).ok());
  }
  // Her genuine cancel, after the forged ones on the same subscription.
  ASSERT_TRUE(
      mallory_->transport()
          .Publish({absl::StrCat(Subject("mallory", "Sleep"), ".cancel.m.1"),
                    "", cancel, nullptr, ""})
          .ok());
  ASSERT_TRUE(Eventually([&] { return impl_.cancelled().size() == 1; }))
      << "mallory's own cancel was not applied";
  EXPECT_EQ(impl_.cancelled(), std::vector<std::string>{"mallory"});
  EXPECT_EQ(impl_.sleeping.load(), 1);  // alice's call still runs
  impl_.Release();
  MessagePtr m = alice_inbox.Next();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->subject(), ReplyTo("alice", "a", 7));
  EXPECT_FALSE(m->header("Nats-Service-Error-Code").has_value())
      << m->header("Nats-Service-Error").value_or("");
  // A cancelled call gets no reply (section 9.8): mallory's inbox stays
  // empty up to her next call's reply.
  ASSERT_TRUE(mallory_->transport()
                  .Publish({Subject("mallory", "Echo"),
                            ReplyTo("mallory", "m", 2),
                            {},
                            nullptr,
                            ""})
                  .ok());
  m = mallory_inbox.Next();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->subject(), ReplyTo("mallory", "m", 2));
}

// ---------------------------------------------------------------------------
// TLS and mutual TLS.

bool Shell(const std::string& command) {
  const int rc = std::system((command + " >/dev/null 2>&1").c_str());
  return rc == 0;
}

// A CA, a server certificate for 127.0.0.1/localhost and a client
// certificate, made with the openssl command line in `dir`. Also a second,
// unrelated CA.
bool MakeCertificates(const TempDir& dir) {
  const std::string d = dir.path();
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
  dir.Write("server.ext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            "extendedKeyUsage=serverAuth\n");
  dir.Write("client.ext", "extendedKeyUsage=clientAuth\n");
  for (const char* ca : {"ca", "other-ca"}) {
    if (!Shell(absl::StrCat("openssl req -x509 ", key,
                            " -nodes -days 2 -subj /CN=", ca, " -keyout ", d,
                            "/", ca, ".key -out ", d, "/", ca, ".pem"))) {
      return false;
    }
  }
  for (const char* who : {"server", "client"}) {
    if (!Shell(absl::StrCat("openssl req ", key, " -nodes -subj /CN=", who,
                            " -keyout ", d, "/", who, ".key -out ", d, "/", who,
                            ".csr")) ||
        !Shell(absl::StrCat("openssl x509 -req -days 2 -in ", d, "/", who,
                            ".csr -CA ", d, "/ca.pem -CAkey ", d,
                            "/ca.key -CAcreateserial -extfile ", d, "/", who,
                            ".ext -out ", d, "/", who, ".pem"))) {
      return false;
    }
  }
  return true;
}

std::string TlsConfig(const TempDir& dir, bool verify_clients) {
  const std::string d = dir.path();
  return absl::StrCat(
      "tls {\n  cert_file: \"", d, "/server.pem\"\n", "  key_file: \"", d,
      "/server.key\"\n", "  ca_file: \"", d, "/ca.pem\"\n",
      verify_clients ? "  verify: true\n" : "", "  timeout: 2\n}\n");
}

void ExpectEchoWorks(Connection& conn) {
  SuiteService impl;
  Server server(conn, ServerOptions{.responder = "bob"});
  ASSERT_TRUE(server.AddService(impl).ok());
  tv1::TestService::Client client(
      conn, ClientOptions{.requester = "alice", .responder = "bob"});
  tv1::EchoRequest req;
  req.set_payload("over tls");
  absl::StatusOr<tv1::EchoReply> r = client.Echo(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->payload(), "over tls");
}

TEST(TlsTest, TlsWithTheTestsCa) {
  TempDir dir;
  ASSERT_TRUE(MakeCertificates(dir)) << "openssl failed in " << dir.path();
  auto nats = NatsServer::Start(Conf(TlsConfig(dir, false)));
  ASSERT_TRUE(nats.ok()) << nats.status();
  const std::string ca = dir.path() + "/ca.pem";

  absl::StatusOr<Connection> c = testing::ConnectForTest(
      {.url = (*nats)->url(), .tls = true, .tls_ca_file = ca});
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectEchoWorks(*c);

  // A server certificate from another CA is not trusted.
  c = testing::ConnectForTest(
      {.url = (*nats)->url(), .tls_ca_file = dir.path() + "/other-ca.pem"});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("tls_ca_file"));
  // Without a CA file nats.c turns TLS on for a server that requires it and
  // checks the server with the system's CAs: refused, naming the option.
  c = testing::ConnectForTest({.url = (*nats)->url()});
  EXPECT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("tls_ca_file"));
  Show(c.status());
  // A missing CA file names the option before any connection attempt.
  c = testing::ConnectForTest(
      {.url = (*nats)->url(), .tls_ca_file = dir.path() + "/missing.pem"});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("tls_ca_file"));
}

TEST(TlsTest, MutualTls) {
  TempDir dir;
  ASSERT_TRUE(MakeCertificates(dir)) << "openssl failed in " << dir.path();
  auto nats = NatsServer::Start(Conf(TlsConfig(dir, true)));
  ASSERT_TRUE(nats.ok()) << nats.status();
  const std::string d = dir.path();

  absl::StatusOr<Connection> c =
      testing::ConnectForTest({.url = (*nats)->url(),
                               .tls_ca_file = d + "/ca.pem",
                               .tls_cert_file = d + "/client.pem",
                               .tls_key_file = d + "/client.key"});
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectEchoWorks(*c);

  // No client certificate: refused.
  c = testing::ConnectForTest(
      {.url = (*nats)->url(), .tls_ca_file = d + "/ca.pem"});
  EXPECT_FALSE(c.ok());
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("tls_cert_file"));
  // A client certificate the server's CA did not sign: refused.
  ASSERT_TRUE(Shell(absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -days 2 -subj /CN=self -keyout ",
      d, "/self.key -out ", d, "/self.pem")));
  c = testing::ConnectForTest({.url = (*nats)->url(),
                               .tls_ca_file = d + "/ca.pem",
                               .tls_cert_file = d + "/self.pem",
                               .tls_key_file = d + "/self.key"});
  EXPECT_FALSE(c.ok());
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("tls_cert_file"));
  // A key that does not match the certificate, and a missing certificate
  // file: INVALID_ARGUMENT naming the option.
  c = testing::ConnectForTest({.url = (*nats)->url(),
                               .tls_ca_file = d + "/ca.pem",
                               .tls_cert_file = d + "/client.pem",
                               .tls_key_file = d + "/self.key"});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument)
      << c.status();
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("tls_cert_file"));
  c = testing::ConnectForTest({.url = (*nats)->url(),
                               .tls_ca_file = d + "/ca.pem",
                               .tls_cert_file = d + "/missing.pem",
                               .tls_key_file = d + "/client.key"});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("tls_cert_file"));
}

// ---------------------------------------------------------------------------
// Logins.

TEST(LoginTest, UserPassword) {
  auto nats = NatsServer::Start(Conf(kGrants));
  ASSERT_TRUE(nats.ok()) << nats.status();
  absl::StatusOr<Connection> c = testing::ConnectForTest(
      {.url = (*nats)->url(), .user = "alice", .password = "alice-secret"});
  ASSERT_TRUE(c.ok()) << c.status();
  c = testing::ConnectForTest(
      {.url = (*nats)->url(), .user = "alice", .password = "wrong"});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated);
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("ConnectOptions.user"));
  c = testing::ConnectForTest({.url = (*nats)->url()});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated);
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("no credentials"));
}

TEST(LoginTest, Token) {
  auto nats =
      NatsServer::Start(Conf("authorization { token: \"s3cr3t-token\" }\n"));
  ASSERT_TRUE(nats.ok()) << nats.status();
  absl::StatusOr<Connection> c =
      testing::ConnectForTest({.url = (*nats)->url(), .token = "s3cr3t-token"});
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectEchoWorks(*c);
  c = testing::ConnectForTest({.url = (*nats)->url(), .token = "guess"});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated);
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("ConnectOptions.token"));
}

// Issue 11, defect 7: there was no login with an nkey seed.
TEST(LoginTest, NKeySeedFile) {
  TempDir dir;
  auto user = testing::NewNKey(testing::NKeyType::kUser);
  auto stranger = testing::NewNKey(testing::NKeyType::kUser);
  ASSERT_TRUE(user.ok() && stranger.ok());
  auto nats = NatsServer::Start(Conf(absl::StrCat(
      "authorization { users: [ { nkey: ", user->public_key, " } ] }\n")));
  ASSERT_TRUE(nats.ok()) << nats.status();
  const std::string seed_file = dir.Write("user.nk", user->seed + "\n");
  absl::StatusOr<Connection> c = testing::ConnectForTest(
      {.url = (*nats)->url(), .nkey_seed_file = seed_file});
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectEchoWorks(*c);

  // A seed the server does not know.
  c = testing::ConnectForTest(
      {.url = (*nats)->url(),
       .nkey_seed_file = dir.Write("stranger.nk", stranger->seed)});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated);
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("ConnectOptions.nkey_seed_file"));
  // A missing file and a file without a seed: named before connecting.
  c = testing::ConnectForTest(
      {.url = (*nats)->url(), .nkey_seed_file = dir.path() + "/missing.nk"});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("ConnectOptions.nkey_seed_file"));
  // The seed with one data character changed: its checksum no longer
  // matches (the last character also carries padding bits, so not that one).
  std::string corrupt = user->seed;
  corrupt[10] = corrupt[10] == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {std::string("not a seed"), user->public_key, corrupt}) {
    c = testing::ConnectForTest(
        {.url = (*nats)->url(), .nkey_seed_file = dir.Write("bad.nk", bad)});
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    Show(c.status());
    EXPECT_THAT(std::string(c.status().message()),
                HasSubstr("ConnectOptions.nkey_seed_file"));
  }
}

// A nats-server in operator mode (operator, account and user JWTs made by
// tests/support/nkeys.h) and a .creds login.
TEST(LoginTest, CredsFile) {
  TempDir dir;
  auto op = testing::NewNKey(testing::NKeyType::kOperator);
  auto account = testing::NewNKey(testing::NKeyType::kAccount);
  auto other_account = testing::NewNKey(testing::NKeyType::kAccount);
  auto user = testing::NewNKey(testing::NKeyType::kUser);
  ASSERT_TRUE(op.ok() && account.ok() && other_account.ok() && user.ok());
  auto op_jwt = testing::SignJwt(*op, op->public_key, "op",
                                 R"({"type":"operator","version":2})");
  constexpr char kAccountClaims[] =
      R"({"limits":{"subs":-1,"data":-1,"payload":-1,"imports":-1,)"
      R"("exports":-1,"wildcards":true,"conn":-1,"leaf":-1},)"
      R"("default_permissions":{"pub":{},"sub":{}},"type":"account","version":2})";
  auto account_jwt =
      testing::SignJwt(*op, account->public_key, "acct", kAccountClaims);
  constexpr char kUserClaims[] =
      R"({"pub":{},"sub":{},"subs":-1,"data":-1,"payload":-1,)"
      R"("type":"user","version":2})";
  auto user_jwt =
      testing::SignJwt(*account, user->public_key, "alice", kUserClaims);
  // The same user signed by an account the server does not know.
  auto foreign_jwt =
      testing::SignJwt(*other_account, user->public_key, "alice", kUserClaims);
  ASSERT_TRUE(op_jwt.ok() && account_jwt.ok() && user_jwt.ok() &&
              foreign_jwt.ok());
  auto nats = NatsServer::Start(Conf(absl::StrCat(
      "operator: \"", *op_jwt, "\"\nresolver: MEMORY\nresolver_preload: {\n  ",
      account->public_key, ": \"", *account_jwt, "\"\n}\n")));
  ASSERT_TRUE(nats.ok()) << nats.status();

  const std::string creds =
      dir.Write("alice.creds", testing::CredsFile(*user_jwt, user->seed));
  absl::StatusOr<Connection> c =
      testing::ConnectForTest({.url = (*nats)->url(), .creds_file = creds});
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectEchoWorks(*c);

  c = testing::ConnectForTest(
      {.url = (*nats)->url(),
       .creds_file = dir.Write("foreign.creds",
                               testing::CredsFile(*foreign_jwt, user->seed))});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated)
      << c.status();
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("ConnectOptions.creds_file"));
  // A file with a seed but no JWT, and one with a JWT but no seed.
  for (const std::string& text :
       {user->seed, absl::StrCat("-----BEGIN NATS USER JWT-----\n", *user_jwt,
                                 "\n------END NATS USER JWT------\n")}) {
    c = testing::ConnectForTest(
        {.url = (*nats)->url(), .creds_file = dir.Write("half.creds", text)});
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    Show(c.status());
    EXPECT_THAT(std::string(c.status().message()),
                HasSubstr("ConnectOptions.creds_file"));
  }
  // The right JWT with another user's seed: the signature does not match.
  auto stranger = testing::NewNKey(testing::NKeyType::kUser);
  ASSERT_TRUE(stranger.ok());
  c = testing::ConnectForTest(
      {.url = (*nats)->url(),
       .creds_file = dir.Write("wrong-seed.creds",
                               testing::CredsFile(*user_jwt, stranger->seed))});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated)
      << c.status();
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("ConnectOptions.creds_file"));
}

// Issue 11, defect 7: a missing creds file gave UNAVAILABLE.
TEST(LoginTest, MissingCredsFileNamesTheOption) {
  auto nats = NatsServer::Start();
  ASSERT_TRUE(nats.ok()) << nats.status();
  absl::StatusOr<Connection> c = testing::ConnectForTest(
      {.url = (*nats)->url(), .creds_file = "/nonexistent/alice.creds"});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument)
      << c.status();
  Show(c.status());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("ConnectOptions.creds_file"));
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("/nonexistent/alice.creds"));
}

}  // namespace
}  // namespace natsrpc::suites

int main(int argc, char** argv) {
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
