// Copyright 2026 The natsrpc Authors.
//
// The asking side of discovery (runtime/src/wire/discovery.h): request
// subjects, the inbox, and INFO responses parsed back from what
// EncodeInfoResponse writes.

#include "gtest/gtest.h"
#include "wire/discovery.h"

namespace natsrpc::wire {
namespace {

TEST(DiscoveryClientWireTest, RequestSubjectsParseBack) {
  EXPECT_EQ(DiscoveryRequestSubject(DiscoveryVerb::kInfo, "", ""), "$SRV.INFO");
  EXPECT_EQ(DiscoveryRequestSubject(DiscoveryVerb::kPing, "a-S", ""),
            "$SRV.PING.a-S");
  EXPECT_EQ(DiscoveryRequestSubject(DiscoveryVerb::kStats, "a-S", "ID"),
            "$SRV.STATS.a-S.ID");
  // An id without a name would be a name: left out.
  EXPECT_EQ(DiscoveryRequestSubject(DiscoveryVerb::kInfo, "", "ID"),
            "$SRV.INFO");
  for (DiscoveryVerb verb :
       {DiscoveryVerb::kPing, DiscoveryVerb::kInfo, DiscoveryVerb::kStats}) {
    const std::string subject = DiscoveryRequestSubject(verb, "a-S", "ID");
    std::optional<DiscoveryRequest> r = ParseDiscoverySubject(subject);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->verb, verb);
    EXPECT_EQ(r->name, "a-S");
    EXPECT_EQ(r->id, "ID");
  }
  EXPECT_EQ(DiscoveryInbox("q7Yk"), "_INBOX.q7Yk");
}

TEST(DiscoveryClientWireTest, InfoResponseParsesBack) {
  MicroIdentity id{
      "a-S", "ID", "1.0.0", {{"natsrpc.app", "a"}, {"k", "v\"\n"}}};
  MicroEndpoint e;
  e.name = "M";
  e.subject = "requests.*.b.a.S.M";
  e.queue_group = "q";
  e.metadata = {{"natsrpc.kind", "server"}, {"natsrpc.request_type", "p.Req"}};
  absl::StatusOr<MicroInfo> info =
      ParseInfoResponse(EncodeInfoResponse(id, "what \"it\" does", {e, e}));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->identity.name, "a-S");
  EXPECT_EQ(info->identity.id, "ID");
  EXPECT_EQ(info->identity.version, "1.0.0");
  // In key order (JSON objects have none).
  EXPECT_EQ(info->identity.metadata,
            (MicroMetadata{{"k", "v\"\n"}, {"natsrpc.app", "a"}}));
  EXPECT_EQ(info->description, "what \"it\" does");
  ASSERT_EQ(info->endpoints.size(), 2u);
  EXPECT_EQ(info->endpoints[0].name, "M");
  EXPECT_EQ(info->endpoints[0].subject, "requests.*.b.a.S.M");
  EXPECT_EQ(info->endpoints[0].queue_group, "q");
  EXPECT_EQ(info->endpoints[0].metadata, e.metadata);
}

TEST(DiscoveryClientWireTest, OtherDocumentsAreRefused) {
  MicroIdentity id{"a-S", "ID", "1.0.0", {}};
  EXPECT_EQ(ParseInfoResponse(EncodePingResponse(id)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseInfoResponse("not json").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseInfoResponse("[1,2]").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseInfoResponse("").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Fields of the wrong JSON type are left empty, not trusted.
  absl::StatusOr<MicroInfo> odd =
      ParseInfoResponse(R"({"type":"io.nats.micro.v1.info_response","name":7,)"
                        R"("metadata":[],"endpoints":[1,{"name":"M"}]})");
  ASSERT_TRUE(odd.ok()) << odd.status();
  EXPECT_EQ(odd->identity.name, "");
  ASSERT_EQ(odd->endpoints.size(), 1u);
  EXPECT_EQ(odd->endpoints[0].name, "M");
}

}  // namespace
}  // namespace natsrpc::wire
