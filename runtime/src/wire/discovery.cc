// Copyright 2026 The natsrpc Authors.

#include "wire/discovery.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace natsrpc::wire {
namespace {

constexpr absl::string_view kSrvPrefix = "$SRV";
constexpr absl::string_view kPing = "PING";
constexpr absl::string_view kInfo = "INFO";
constexpr absl::string_view kStats = "STATS";
constexpr absl::string_view kPingType = "io.nats.micro.v1.ping_response";
constexpr absl::string_view kInfoType = "io.nats.micro.v1.info_response";
constexpr absl::string_view kStatsType = "io.nats.micro.v1.stats_response";
constexpr absl::string_view kHealthPrefix = "natsrpc.health";

// A JSON string literal of `s` (UTF-8 passes through; quotes, backslashes
// and control characters are escaped).
void AppendJsonString(std::string& out, absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

// `"key":` with the separator before it unless first.
void AppendKey(std::string& out, absl::string_view key) {
  if (out.back() != '{') out.push_back(',');
  AppendJsonString(out, key);
  out.push_back(':');
}

void AppendStringField(std::string& out, absl::string_view key,
                       absl::string_view value) {
  AppendKey(out, key);
  AppendJsonString(out, value);
}

void AppendMetadata(std::string& out, const MicroMetadata& metadata) {
  AppendKey(out, "metadata");
  out.push_back('{');
  for (const auto& [k, v] : metadata) AppendStringField(out, k, v);
  out.push_back('}');
}

// `{` and the standard fields, left open.
std::string StartResponse(absl::string_view type,
                          const MicroIdentity& identity) {
  std::string out = "{";
  AppendStringField(out, "type", type);
  AppendStringField(out, "name", identity.name);
  AppendStringField(out, "id", identity.id);
  AppendStringField(out, "version", identity.version);
  AppendMetadata(out, identity.metadata);
  return out;
}

void AppendEndpointHead(std::string& out, const MicroEndpoint& e) {
  out.push_back('{');
  AppendStringField(out, "name", e.name);
  AppendStringField(out, "subject", e.subject);
  if (!e.queue_group.empty()) {
    AppendStringField(out, "queue_group", e.queue_group);
  }
}

// A numeric identifier: digits, no leading zero unless it is "0".
bool IsNumber(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return s.size() == 1 || s[0] != '0';
}

bool IsIdentifier(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return false;
    }
  }
  return true;
}

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::optional<DiscoveryRequest> ParseDiscoverySubject(
    absl::string_view subject) {
  std::vector<absl::string_view> t = absl::StrSplit(subject, '.');
  if (t.size() < 2 || t.size() > 4 || t[0] != kSrvPrefix) return std::nullopt;
  for (absl::string_view token : t) {
    if (token.empty()) return std::nullopt;
  }
  DiscoveryRequest r{DiscoveryVerb::kPing, {}, {}};
  if (t[1] == kPing) {
    r.verb = DiscoveryVerb::kPing;
  } else if (t[1] == kInfo) {
    r.verb = DiscoveryVerb::kInfo;
  } else if (t[1] == kStats) {
    r.verb = DiscoveryVerb::kStats;
  } else {
    return std::nullopt;
  }
  if (t.size() > 2) r.name = t[2];
  if (t.size() > 3) r.id = t[3];
  return r;
}

bool DiscoveryMatches(const DiscoveryRequest& request, absl::string_view name,
                      absl::string_view id) {
  return (request.name.empty() || request.name == name) &&
         (request.id.empty() || request.id == id);
}

std::string MicroServiceName(absl::string_view app, absl::string_view service) {
  return absl::StrCat(app, "-", service);
}

bool IsSemVer(absl::string_view version) {
  absl::string_view core = version;
  absl::string_view pre;
  absl::string_view build;
  bool has_pre = false;
  bool has_build = false;
  if (size_t plus = core.find('+'); plus != absl::string_view::npos) {
    build = core.substr(plus + 1);
    core = core.substr(0, plus);
    has_build = true;
  }
  if (size_t dash = core.find('-'); dash != absl::string_view::npos) {
    pre = core.substr(dash + 1);
    core = core.substr(0, dash);
    has_pre = true;
  }
  std::vector<absl::string_view> numbers = absl::StrSplit(core, '.');
  if (numbers.size() != 3) return false;
  for (absl::string_view n : numbers) {
    if (!IsNumber(n)) return false;
  }
  if (has_pre) {
    for (absl::string_view id : absl::StrSplit(pre, '.')) {
      if (!IsIdentifier(id)) return false;
      if (AllDigits(id) && !IsNumber(id)) return false;  // leading zero
    }
  }
  if (has_build) {
    for (absl::string_view id : absl::StrSplit(build, '.')) {
      if (!IsIdentifier(id)) return false;
    }
  }
  return true;
}

std::string EncodePingResponse(const MicroIdentity& identity) {
  std::string out = StartResponse(kPingType, identity);
  out.push_back('}');
  return out;
}

std::string EncodeInfoResponse(const MicroIdentity& identity,
                               absl::string_view description,
                               absl::Span<const MicroEndpoint> endpoints) {
  std::string out = StartResponse(kInfoType, identity);
  AppendStringField(out, "description", description);
  AppendKey(out, "endpoints");
  out.push_back('[');
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendEndpointHead(out, endpoints[i]);
    AppendMetadata(out, endpoints[i].metadata);
    out.push_back('}');
  }
  out += "]}";
  return out;
}

std::string EncodeStatsResponse(const MicroIdentity& identity,
                                absl::Time started,
                                absl::Span<const MicroEndpoint> endpoints) {
  std::string out = StartResponse(kStatsType, identity);
  AppendStringField(
      out, "started",
      absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", started, absl::UTCTimeZone()));
  AppendKey(out, "endpoints");
  out.push_back('[');
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const MicroEndpoint& e = endpoints[i];
    if (i > 0) out.push_back(',');
    AppendEndpointHead(out, e);
    absl::StrAppend(&out, ",\"num_requests\":", e.num_requests,
                    ",\"num_errors\":", e.num_errors);
    if (!e.last_error.empty())
      AppendStringField(out, "last_error", e.last_error);
    absl::StrAppend(
        &out, ",\"processing_time\":", e.processing_time_ns,
        ",\"average_processing_time\":", e.average_processing_time_ns, "}");
  }
  out += "]}";
  return out;
}

std::string HealthSubject(absl::string_view responder) {
  return absl::StrCat(kHealthPrefix, ".", responder);
}

std::string HealthServiceSubject(absl::string_view responder,
                                 absl::string_view app,
                                 absl::string_view service) {
  return absl::StrCat(kHealthPrefix, ".", responder, ".", app, ".", service);
}

std::string HealthServiceWildcard(absl::string_view responder) {
  return absl::StrCat(kHealthPrefix, ".", responder, ".>");
}

std::optional<HealthTarget> ParseHealthSubject(absl::string_view responder,
                                               absl::string_view subject) {
  const std::string server = HealthSubject(responder);
  if (subject == server) return std::nullopt;
  HealthTarget target;
  if (subject.size() > server.size() + 1 &&
      subject.substr(0, server.size()) == server &&
      subject[server.size()] == '.') {
    std::vector<absl::string_view> t =
        absl::StrSplit(subject.substr(server.size() + 1), '.');
    if (t.size() == 2 && !t[0].empty() && !t[1].empty()) {
      target.app = t[0];
      target.service = t[1];
    }
  }
  return target;
}

absl::string_view ServingStatusName(ServingStatus status) {
  switch (status) {
    case ServingStatus::kServing:
      return "SERVING";
    case ServingStatus::kNotServing:
      return "NOT_SERVING";
    case ServingStatus::kServiceUnknown:
      return "SERVICE_UNKNOWN";
  }
  return "UNKNOWN";
}

std::string EncodeHealthResponse(ServingStatus status,
                                 absl::string_view responder,
                                 absl::string_view id,
                                 const std::optional<HealthTarget>& target) {
  std::string out = "{";
  AppendStringField(out, "status", ServingStatusName(status));
  AppendStringField(out, "responder", responder);
  AppendStringField(out, "id", id);
  if (target.has_value()) {
    AppendStringField(out, "app", target->app);
    AppendStringField(out, "service", target->service);
  }
  out.push_back('}');
  return out;
}

// --- The asking side.

std::string DiscoveryRequestSubject(DiscoveryVerb verb, absl::string_view name,
                                    absl::string_view id) {
  absl::string_view v = kPing;
  if (verb == DiscoveryVerb::kInfo) v = kInfo;
  if (verb == DiscoveryVerb::kStats) v = kStats;
  std::string out = absl::StrCat(kSrvPrefix, ".", v);
  if (!name.empty()) {
    absl::StrAppend(&out, ".", name);
    if (!id.empty()) absl::StrAppend(&out, ".", id);
  }
  return out;
}

std::string DiscoveryInbox(absl::string_view token) {
  return absl::StrCat("_INBOX.", token);
}

namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

std::string StringField(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || it->second.kind_case() != Value::kStringValue) {
    return "";
  }
  return it->second.string_value();
}

MicroMetadata MetadataField(const Struct& s) {
  MicroMetadata out;
  auto it = s.fields().find("metadata");
  if (it == s.fields().end() || !it->second.has_struct_value()) return out;
  for (const auto& [k, v] : it->second.struct_value().fields()) {
    if (v.kind_case() == Value::kStringValue) {
      out.emplace_back(k, v.string_value());
    }
  }
  // Protobuf's map has no order; sorted keys make the result deterministic.
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

absl::StatusOr<MicroInfo> ParseInfoResponse(absl::string_view json) {
  Struct doc;
  if (auto s = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(json.data(), json.size()), &doc);
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "INFO response is not a JSON object: ", std::string(s.message())));
  }
  if (StringField(doc, "type") != kInfoType) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not an ", kInfoType, ": type \"", StringField(doc, "type"), "\""));
  }
  MicroInfo info;
  info.identity.name = StringField(doc, "name");
  info.identity.id = StringField(doc, "id");
  info.identity.version = StringField(doc, "version");
  info.identity.metadata = MetadataField(doc);
  info.description = StringField(doc, "description");
  auto eps = doc.fields().find("endpoints");
  if (eps != doc.fields().end() && eps->second.has_list_value()) {
    for (const Value& v : eps->second.list_value().values()) {
      if (!v.has_struct_value()) continue;
      const Struct& e = v.struct_value();
      MicroEndpoint ep;
      ep.name = StringField(e, "name");
      ep.subject = StringField(e, "subject");
      ep.queue_group = StringField(e, "queue_group");
      ep.metadata = MetadataField(e);
      info.endpoints.push_back(std::move(ep));
    }
  }
  return info;
}

}  // namespace natsrpc::wire
