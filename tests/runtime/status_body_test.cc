// Copyright 2026 The natsrpc Authors.

#include "wire/status_body.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"

namespace natsrpc {
namespace {

using ::testing::HasSubstr;

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }
std::string Unhex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

// gRPC interop test `special_status_message`.
constexpr absl::string_view kSpecialMessage =
    "\t\ntest with whitespace\r\nand Unicode BMP \xE2\x98\xBA and non-BMP "
    "\xF0\x9F\x98\x88\t\n";

std::vector<std::pair<std::string, std::string>> Payloads(
    const absl::Status& status) {
  std::vector<std::pair<std::string, std::string>> out;
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& value) {
    out.emplace_back(std::string(url), std::string(value));
  });
  std::sort(out.begin(), out.end());
  return out;
}

// Decodes and expects a status equal to `want`, payloads included.
void ExpectRoundTrip(const absl::Status& want) {
  const std::string body = wire::EncodeStatusBody(want);
  absl::StatusOr<absl::Status> got = wire::DecodeStatusBody(body);
  ASSERT_TRUE(got.ok()) << got.status() << " body " << Hex(body);
  EXPECT_EQ(got->code(), want.code());
  EXPECT_EQ(got->message(), want.message());
  EXPECT_EQ(Payloads(*got), Payloads(want));
  EXPECT_EQ(*got, want);  // absl compares payloads too
}

TEST(StatusBodyTest, SpecExampleBytes) {
  // docs/protocol.md 4.1.
  absl::Status status = absl::InvalidArgumentError("bad\nthing");
  EXPECT_EQ(Hex(wire::EncodeStatusBody(status)),
            "0803"                    // code 3
            "1209" "6261640a7468696e67");  // message "bad\nthing"
  status.SetPayload("type.googleapis.com/google.rpc.BadRequest",
                    absl::Cord(Unhex("0a03120178")));
  EXPECT_EQ(Hex(wire::EncodeStatusBody(status)),
            "0803"
            "1209" "6261640a7468696e67"
            "1a32"                     // detail, 50 bytes
            "0a29"                     // type_url, 41 bytes
            "747970652e676f6f676c65617069732e636f6d2f676f6f676c652e7270632e"
            "42616452657175657374"
            "1205" "0a03120178");      // value, 5 bytes
  ExpectRoundTrip(status);
}

TEST(StatusBodyTest, HeaderExampleBytes) {
  absl::Status status = absl::InvalidArgumentError("bad\nthing");
  status.SetPayload("t", absl::Cord("v"));
  EXPECT_EQ(Hex(wire::EncodeStatusBody(status)),
            "08031209" "6261640a7468696e67" "1a060a0174120176");
}

TEST(StatusBodyTest, SpecialStatusMessageRoundTrips) {
  const absl::Status status(absl::StatusCode::kUnknown, kSpecialMessage);
  ExpectRoundTrip(status);
  absl::StatusOr<absl::Status> got =
      wire::DecodeStatusBody(wire::EncodeStatusBody(status));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->message(), kSpecialMessage);  // CR, LF, tabs, all kept
}

TEST(StatusBodyTest, TwoPayloadsRoundTrip) {
  absl::Status status = absl::FailedPreconditionError("two details");
  status.SetPayload("type.googleapis.com/google.rpc.ErrorInfo",
                    absl::Cord(std::string("\x0a\x03why\x00\xff", 7)));
  status.SetPayload("example.com/z", absl::Cord(""));  // empty value
  ExpectRoundTrip(status);
  // Sorted by type_url: deterministic whatever order absl visits them in.
  const std::string body = wire::EncodeStatusBody(status);
  EXPECT_LT(body.find("example.com/z"), body.find("type.googleapis.com"));
}

TEST(StatusBodyTest, EmptyMessage) {
  const absl::Status status(absl::StatusCode::kNotFound, "");
  EXPECT_EQ(Hex(wire::EncodeStatusBody(status)), "0805");
  ExpectRoundTrip(status);
}

TEST(StatusBodyTest, EveryCodeRoundTrips) {
  for (int code = 1; code <= 16; ++code) {
    SCOPED_TRACE(code);
    ExpectRoundTrip(absl::Status(static_cast<absl::StatusCode>(code),
                                 "message"));
    EXPECT_EQ(static_cast<uint8_t>(
                  wire::EncodeStatusBody(absl::Status(
                      static_cast<absl::StatusCode>(code), ""))[1]),
              code);
  }
}

TEST(StatusBodyTest, OkIsEmptyAndEmptyIsOk) {
  EXPECT_EQ(wire::EncodeStatusBody(absl::OkStatus()), "");
  absl::StatusOr<absl::Status> got = wire::DecodeStatusBody("");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->ok());
  // Code 0 with a message: OK (absl's OK carries no message).
  got = wire::DecodeStatusBody(Unhex("0800120178"));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->ok());
}

TEST(StatusBodyTest, CodesOutsideTheTableAreRejected) {
  // 17, and -1 as protobuf writes a negative int32 (10 bytes).
  for (absl::string_view hex : {"0811", "08ffffffffffffffffff01"}) {
    absl::StatusOr<absl::Status> got = wire::DecodeStatusBody(Unhex(hex));
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << hex;
    EXPECT_THAT(got.status().message(), HasSubstr("not a status code"));
  }
}

TEST(StatusBodyTest, UnknownFieldsAreSkipped) {
  // field 4 varint, field 5 fixed64, field 6 bytes, field 7 fixed32, a group
  // (field 8) holding a varint and a nested group, then code 5 / message "m".
  const std::string body = Unhex(
      "2001"
      "290102030405060708"
      "32026869"
      "3d01020304"
      "43" "0801" "4b" "4c" "44"
      "0805" "12016d");
  absl::StatusOr<absl::Status> got = wire::DecodeStatusBody(body);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, absl::NotFoundError("m"));
  // Unknown fields inside a detail too.
  got = wire::DecodeStatusBody(Unhex("0805" "1a08" "18010a0178120179"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Payloads(*got), (std::vector<std::pair<std::string, std::string>>{
                                {"x", "y"}}));
}

TEST(StatusBodyTest, KnownFieldWithOtherWireTypeIsSkippedAndLastWins) {
  // code as fixed32 (skipped), then code 3, then code 5: last wins.
  absl::StatusOr<absl::Status> got =
      wire::DecodeStatusBody(Unhex("0d07000000" "0803" "0805" "12016d"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, absl::NotFoundError("m"));
}

TEST(StatusBodyTest, DetailWithoutTypeUrlIsDropped) {
  absl::StatusOr<absl::Status> got =
      wire::DecodeStatusBody(Unhex("0805" "1a03120176"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(Payloads(*got).empty());
}

TEST(StatusBodyTest, TruncatedBodiesAreRejected) {
  absl::Status status(absl::StatusCode::kUnknown, kSpecialMessage);
  status.SetPayload("a", absl::Cord("1"));
  status.SetPayload("b", absl::Cord("22"));
  const std::string body = wire::EncodeStatusBody(status);
  // Every proper prefix that cuts a field is rejected; prefixes that end on
  // a field boundary are well-formed (shorter) messages.
  int rejected = 0;
  for (size_t n = 1; n < body.size(); ++n) {
    absl::StatusOr<absl::Status> got =
        wire::DecodeStatusBody(absl::string_view(body).substr(0, n));
    if (!got.ok()) {
      ++rejected;
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(got.status().message(), HasSubstr("status body"));
    }
  }
  EXPECT_GE(rejected, static_cast<int>(body.size()) - 4);
}

TEST(StatusBodyTest, GarbageIsRejected) {
  for (absl::string_view hex :
       {"ff",                      // truncated varint tag
        "08",                      // tag without value
        "0880",                    // truncated varint value
        "08ffffffffffffffffffff01",  // 11-byte varint
        "12",                      // no length
        "1205616263",              // length beyond the end
        "12ffffffffffffffff7f",    // huge length
        "0f",                      // wire type 7
        "0e",                      // wire type 6
        "0c",                      // end group without start
        "0b0805",                  // group never ended
        "0b14",                    // group ended with another field number
        "00",                      // field number 0
        "1a02ff",                  // detail truncated
        "1a020a05",                // detail's type_url beyond the detail
        "8080808010"}) {           // tag beyond 32 bits
    absl::StatusOr<absl::Status> got = wire::DecodeStatusBody(Unhex(hex));
    EXPECT_FALSE(got.ok()) << hex;
  }
  // Deep groups are bounded, not recursed into without limit.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "\x43";  // start group field 8
  EXPECT_FALSE(wire::DecodeStatusBody(deep).ok());
}

TEST(StatusBodyTest, AnyBytesNeverCrash) {
  // A cheap fuzz: every 1- and 2-byte input, and pseudo-random longer ones.
  for (int a = 0; a < 256; ++a) {
    std::string one(1, static_cast<char>(a));
    (void)wire::DecodeStatusBody(one);
    for (int b = 0; b < 256; ++b) {
      (void)wire::DecodeStatusBody(one + static_cast<char>(b));
    }
  }
  uint64_t x = 88172645463325252u;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int n = static_cast<int>(x % 40);
    for (int j = 0; j < n; ++j) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      s.push_back(static_cast<char>(x));
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (void)wire::DecodeStatusBody(s);
  }
}

TEST(StatusFromErrorReplyTest, BodyPreferredWhenCodesAgree) {
  absl::Status exact = absl::InvalidArgumentError("bad\nthing");
  exact.SetPayload("t", absl::Cord("v"));
  const std::string body = wire::EncodeStatusBody(exact);
  EXPECT_EQ(wire::StatusFromErrorReply("3", "bad thing", body), exact);
  // Codes disagree: the headers win, the body is ignored.
  EXPECT_EQ(wire::StatusFromErrorReply("5", "bad thing", body),
            absl::NotFoundError("bad thing"));
  // Undecodable or empty body: the headers.
  EXPECT_EQ(wire::StatusFromErrorReply("3", "bad thing", "\xff"),
            absl::InvalidArgumentError("bad thing"));
  EXPECT_EQ(wire::StatusFromErrorReply("3", "bad thing", ""),
            absl::InvalidArgumentError("bad thing"));
  // A code header that is no status code: UNKNOWN from the headers.
  EXPECT_EQ(wire::StatusFromErrorReply("99", "x", body).code(),
            absl::StatusCode::kUnknown);
  // No code header: OK, the body is the reply payload.
  EXPECT_TRUE(wire::StatusFromErrorReply(std::nullopt, std::nullopt, body).ok());
}

// ---- Cross-check with libprotobuf: a google.rpc.Status-shaped message ----

class ProtobufCrossCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    google::protobuf::FileDescriptorProto any_file;
    google::protobuf::Any::descriptor()->file()->CopyTo(&any_file);
    ASSERT_NE(pool_.BuildFile(any_file), nullptr);
    google::protobuf::FileDescriptorProto file;
    file.set_name("test/status.proto");
    file.set_package("test.rpc");
    file.set_syntax("proto3");
    file.add_dependency(any_file.name());
    google::protobuf::DescriptorProto* message = file.add_message_type();
    message->set_name("Status");
    auto add = [&](const char* name, int number,
                   google::protobuf::FieldDescriptorProto::Type type,
                   bool repeated) {
      google::protobuf::FieldDescriptorProto* f = message->add_field();
      f->set_name(name);
      f->set_number(number);
      f->set_type(type);
      f->set_label(repeated
                       ? google::protobuf::FieldDescriptorProto::LABEL_REPEATED
                       : google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
      return f;
    };
    add("code", 1, google::protobuf::FieldDescriptorProto::TYPE_INT32, false);
    add("message", 2, google::protobuf::FieldDescriptorProto::TYPE_STRING,
        false);
    add("details", 3, google::protobuf::FieldDescriptorProto::TYPE_MESSAGE,
        true)
        ->set_type_name(".google.protobuf.Any");
    ASSERT_NE(pool_.BuildFile(file), nullptr);
    status_type_ = pool_.FindMessageTypeByName("test.rpc.Status");
    ASSERT_NE(status_type_, nullptr);
  }

  std::unique_ptr<google::protobuf::Message> New() {
    return std::unique_ptr<google::protobuf::Message>(
        factory_.GetPrototype(status_type_)->New());
  }

  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_{&pool_};
  const google::protobuf::Descriptor* status_type_ = nullptr;
};

TEST_F(ProtobufCrossCheck, ProtobufParsesOurBytesTheSameWay) {
  absl::Status status(absl::StatusCode::kUnknown, kSpecialMessage);
  status.SetPayload("type.googleapis.com/google.rpc.ErrorInfo",
                    absl::Cord(std::string("\x0a\x02hi\x00", 5)));
  status.SetPayload("example.com/second", absl::Cord("2"));
  const std::string body = wire::EncodeStatusBody(status);

  std::unique_ptr<google::protobuf::Message> m = New();
  ASSERT_TRUE(m->ParseFromString(body));
  const google::protobuf::Reflection* r = m->GetReflection();
  const google::protobuf::Descriptor* d = m->GetDescriptor();
  EXPECT_EQ(r->GetInt32(*m, d->FindFieldByNumber(1)), 2);
  EXPECT_EQ(r->GetString(*m, d->FindFieldByNumber(2)), kSpecialMessage);
  const google::protobuf::FieldDescriptor* details = d->FindFieldByNumber(3);
  ASSERT_EQ(r->FieldSize(*m, details), 2);
  std::vector<std::pair<std::string, std::string>> parsed;
  for (int i = 0; i < 2; ++i) {
    const google::protobuf::Message& any =
        r->GetRepeatedMessage(*m, details, i);
    // Also through the generated google::protobuf::Any.
    google::protobuf::Any generated;
    ASSERT_TRUE(generated.ParseFromString(any.SerializeAsString()));
    parsed.emplace_back(generated.type_url(), generated.value());
  }
  EXPECT_EQ(parsed, Payloads(status));
  EXPECT_TRUE(m->GetReflection()->GetUnknownFields(*m).empty());
  // Protobuf's own serialization of the same message is byte-identical.
  EXPECT_EQ(Hex(m->SerializeAsString()), Hex(body));
}

TEST_F(ProtobufCrossCheck, WeParseProtobufsBytesTheSameWay) {
  std::unique_ptr<google::protobuf::Message> m = New();
  const google::protobuf::Reflection* r = m->GetReflection();
  const google::protobuf::Descriptor* d = m->GetDescriptor();
  r->SetInt32(m.get(), d->FindFieldByNumber(1), 16);
  r->SetString(m.get(), d->FindFieldByNumber(2), std::string(kSpecialMessage));
  for (const auto& [url, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"a.example/one", std::string("\x00\x01", 2)},
           {"b.example/two", std::string(300, 'x')}}) {  // 2-byte length
    google::protobuf::Any any;
    any.set_type_url(url);
    any.set_value(value);
    google::protobuf::Message* detail =
        r->AddMessage(m.get(), d->FindFieldByNumber(3));
    ASSERT_TRUE(detail->ParseFromString(any.SerializeAsString()));
  }
  absl::StatusOr<absl::Status> got =
      wire::DecodeStatusBody(m->SerializeAsString());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(got->message(), kSpecialMessage);
  EXPECT_EQ(Payloads(*got),
            (std::vector<std::pair<std::string, std::string>>{
                {"a.example/one", std::string("\x00\x01", 2)},
                {"b.example/two", std::string(300, 'x')}}));
}

TEST_F(ProtobufCrossCheck, RejectsWhatProtobufRejects) {
  absl::Status status(absl::StatusCode::kUnknown, kSpecialMessage);
  status.SetPayload("a", absl::Cord("1"));
  status.SetPayload("b", absl::Cord(std::string(200, 'b')));
  const std::string body = wire::EncodeStatusBody(status);
  std::vector<std::string> inputs;
  for (size_t n = 0; n <= body.size(); ++n) inputs.push_back(body.substr(0, n));
  for (absl::string_view hex :
       {"ff", "08", "0880", "08ffffffffffffffffffff01", "12", "1205616263",
        "12ffffffffffffffff7f", "0f", "0e", "0c", "0b0805", "0b14", "00",
        "1a02ff", "1a020a05", "8080808010", "2001", "43084b4c44"}) {
    inputs.push_back(Unhex(hex));
  }
  inputs.push_back(std::string(1000, '\x43'));  // groups nested too deep
  for (const std::string& input : inputs) {
    std::unique_ptr<google::protobuf::Message> m = New();
    EXPECT_EQ(wire::DecodeStatusBody(input).ok(), m->ParseFromString(input))
        << Hex(input);
  }
}

TEST_F(ProtobufCrossCheck, EveryCodeMatchesProtobuf) {
  for (int code = 1; code <= 16; ++code) {
    std::unique_ptr<google::protobuf::Message> m = New();
    m->GetReflection()->SetInt32(m.get(), status_type_->FindFieldByNumber(1),
                                 code);
    m->GetReflection()->SetString(
        m.get(), status_type_->FindFieldByNumber(2), "msg");
    EXPECT_EQ(Hex(m->SerializeAsString()),
              Hex(wire::EncodeStatusBody(absl::Status(
                  static_cast<absl::StatusCode>(code), "msg"))))
        << code;
  }
}

}  // namespace
}  // namespace natsrpc
