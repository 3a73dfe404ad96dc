// Copyright 2026 The natsrpc Authors.
//
// natsrpc: the command-line client of natsrpc services, grpcurl for NATS RPC
// (docs/cli.md). Built on natsrpc::GenericClient (natsrpc/generic_client.h).
//
//   natsrpc ls [<service>]
//   natsrpc describe <service>[/<method>]
//   natsrpc call <service>/<method> ['<json>']
//
// Exit status: 0 OK, 1 bad command line, 2 bad input found before any call
// (unknown service or method, bad JSON, unreadable schema), 64 + the status
// code when an operation against NATS failed (68 DEADLINE_EXCEEDED, ...).

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "fbs_schema.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "natsrpc/connection.h"
#include "natsrpc/flatbuffers_codec.h"
#include "natsrpc/generic_client.h"
#include "natsrpc/proto_schema.h"

ABSL_FLAG(std::string, url, "nats://127.0.0.1:4222",
          "NATS server URL(s), comma separated");
ABSL_FLAG(std::string, requester, "natsrpc",
          "who calls: the requester token of the request subjects");
ABSL_FLAG(std::string, responder, "",
          "who is called; empty: found with $SRV.INFO (there must be one)");
ABSL_FLAG(std::string, app, "",
          "the service's app; empty: found with $SRV.INFO");
ABSL_FLAG(absl::Duration, timeout, absl::ZeroDuration(),
          "deadline of a call (of a whole stream); 0: the method's default "
          "(10s for unary calls, none for streams)");
ABSL_FLAG(absl::Duration, wait, absl::Seconds(1),
          "how long ls (and finding --app/--responder) collects $SRV.INFO "
          "answers at most");
ABSL_FLAG(std::vector<std::string>, metadata, {},
          "k=v request metadata (a header); repeat the flag for more");
ABSL_FLAG(std::vector<std::string>, proto, {},
          ".proto file with the service (repeatable); default: the schema "
          "the service sends (natsrpc-schema)");
ABSL_FLAG(std::vector<std::string>, import_path, {},
          "import path for --proto (repeatable; also -I<dir>)");
ABSL_FLAG(bool, emit_defaults, false,
          "print fields with default values in JSON replies");
ABSL_FLAG(bool, tls, false, "use TLS (implied by the --tls_* files)");
ABSL_FLAG(std::string, tls_ca, "", "CA file to verify the server with");
ABSL_FLAG(std::string, tls_cert, "", "client certificate file");
ABSL_FLAG(std::string, tls_key, "", "client key file");
ABSL_FLAG(std::string, creds, "", "NATS .creds file (user JWT + nkey seed)");
ABSL_FLAG(std::string, nkey, "", "file with a user nkey seed");
ABSL_FLAG(std::string, user, "", "user name");
ABSL_FLAG(std::string, password, "", "password");
ABSL_FLAG(std::string, token, "", "authentication token");

namespace natsrpc::cli {
namespace {

namespace pb = ::google::protobuf;

constexpr int kExitUsage = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitStatusBase = 64;

// A failure and the exit status it maps to.
struct Failure {
  int exit_code;
  std::string message;
};

Failure Usage(std::string message) { return {kExitUsage, std::move(message)}; }
Failure BadInput(std::string message) {
  return {kExitBadInput, std::move(message)};
}
// A failure of an operation against NATS: 64 + its code.
Failure Remote(absl::string_view what, const absl::Status& status) {
  return {kExitStatusBase + static_cast<int>(status.code()),
          absl::StrCat(what, ": ", absl::StatusCodeToString(status.code()),
                       ": ", status.message())};
}

// The flags given more than once (absl keeps only the last): taken out of
// argv before absl parses the rest.
struct Repeated {
  std::vector<std::string> metadata;
  std::vector<std::string> proto;
  std::vector<std::string> import_path;
};

std::vector<char*> TakeRepeated(int argc, char** argv, Repeated& out) {
  std::vector<char*> rest;
  const std::vector<std::pair<std::string, std::vector<std::string>*>> names = {
      {"metadata", &out.metadata},
      {"proto", &out.proto},
      {"import_path", &out.import_path}};
  for (int i = 0; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (i == 0) {
      rest.push_back(argv[i]);
      continue;
    }
    if (a == "--") {
      for (; i < argc; ++i) rest.push_back(argv[i]);
      break;
    }
    bool taken = false;
    if (absl::StartsWith(a, "-I")) {
      absl::string_view v = a.substr(2);
      if (v.empty() && i + 1 < argc) v = argv[++i];
      out.import_path.emplace_back(v);
      continue;
    }
    for (const auto& [name, list] : names) {
      absl::string_view body = a;
      if (!absl::ConsumePrefix(&body, "--") &&
          !absl::ConsumePrefix(&body, "-")) {
        break;
      }
      if (body == name && i + 1 < argc) {
        list->emplace_back(argv[++i]);
        taken = true;
        break;
      }
      if (absl::ConsumePrefix(&body, name) && absl::ConsumePrefix(&body, "=")) {
        list->emplace_back(body);
        taken = true;
        break;
      }
    }
    if (!taken) rest.push_back(argv[i]);
  }
  return rest;
}

// --- Connecting and finding the service.

absl::StatusOr<Connection> ConnectFromFlags() {
  ConnectOptions o;
  o.url = absl::GetFlag(FLAGS_url);
  o.name = "natsrpc-cli";
  o.user = absl::GetFlag(FLAGS_user);
  o.password = absl::GetFlag(FLAGS_password);
  o.token = absl::GetFlag(FLAGS_token);
  o.creds_file = absl::GetFlag(FLAGS_creds);
  o.nkey_seed_file = absl::GetFlag(FLAGS_nkey);
  o.tls_ca_file = absl::GetFlag(FLAGS_tls_ca);
  o.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  o.tls = absl::GetFlag(FLAGS_tls) || !o.tls_ca_file.empty() ||
          !o.tls_cert_file.empty();
  // A command-line tool fails fast instead of waiting for a server.
  o.allow_reconnect = false;
  return Connect(o);
}

std::string SimpleName(absl::string_view full) {
  size_t dot = full.rfind('.');
  return std::string(dot == absl::string_view::npos ? full
                                                    : full.substr(dot + 1));
}

bool NameMatches(const DiscoveredService& d, absl::string_view name) {
  return d.service == name || SimpleName(d.service) == name;
}

// Where calls go: the service's app and responder, and its names.
struct Target {
  std::string app;
  std::string responder;
  std::string service;       // simple name, for subjects
  std::string full_service;  // IDL name if known (discovery or schema)
};

// Uses --app and --responder, or asks $SRV.INFO for the missing ones.
std::variant<Target, Failure> Resolve(const Connection& conn,
                                      absl::string_view service) {
  Target t{absl::GetFlag(FLAGS_app), absl::GetFlag(FLAGS_responder),
           SimpleName(service), ""};
  if (!t.app.empty() && !t.responder.empty()) return t;
  const absl::Duration wait = absl::GetFlag(FLAGS_wait);
  absl::StatusOr<std::vector<DiscoveredService>> found =
      DiscoverServices(conn, {.timeout = wait});
  if (!found.ok()) return Remote("$SRV.INFO", found.status());
  std::set<std::pair<std::string, std::string>> pairs;
  std::set<std::string> known;
  for (const DiscoveredService& d : *found) {
    known.insert(d.service);
    if (!NameMatches(d, service)) continue;
    if (!t.app.empty() && d.app != t.app) continue;
    if (!t.responder.empty() && d.responder != t.responder) continue;
    pairs.emplace(d.app, d.responder);
    t.full_service = d.service;
  }
  if (pairs.empty()) {
    return BadInput(absl::StrCat(
        "unknown service \"", service, "\"",
        t.responder.empty() ? "" : absl::StrCat(" of responder ", t.responder),
        t.app.empty() ? "" : absl::StrCat(" in app ", t.app),
        ": no instance answered $SRV.INFO within ", absl::FormatDuration(wait),
        known.empty() ? " (no natsrpc service answered)"
                      : absl::StrCat(" (services that answered: ",
                                     absl::StrJoin(known, ", "), ")"),
        "; with --app and --responder the call goes without discovery"));
  }
  if (pairs.size() > 1) {
    std::vector<std::string> which;
    for (const auto& [app, responder] : pairs) {
      which.push_back(absl::StrCat("--app=", app, " --responder=", responder));
    }
    return BadInput(absl::StrCat("service \"", service,
                                 "\" is served by several apps or responders; "
                                 "pick one: ",
                                 absl::StrJoin(which, " | ")));
  }
  t.app = pairs.begin()->first;
  t.responder = pairs.begin()->second;
  return t;
}

ClientOptions ClientOptionsFor(const Target& t, const Metadata& metadata) {
  return ClientOptions{.requester = absl::GetFlag(FLAGS_requester),
                       .responder = t.responder,
                       .app = t.app,
                       .metadata = metadata};
}

// --- Schemas.

// A loaded schema: protobuf or FlatBuffers.
struct LoadedSchema {
  std::unique_ptr<ProtoSchema> proto;
  std::unique_ptr<FbsSchema> fbs;
  std::string origin;        // where it came from, for describe
  std::string service_name;  // the IDL's full name, if the server said it
};

std::vector<std::string> ImportPaths(const Repeated& r) {
  std::vector<std::string> paths = r.import_path;
  // As protoc: the working directory, then natsrpc/options.proto where
  // `cmake --install` put it (beside this program's bin/, whatever the
  // prefix, else the configured one) and protobuf's well-known types where
  // Debian's libprotobuf-dev puts them.
  paths.push_back(".");
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    paths.push_back(absl::StrCat(dir, "/../include"));
  }
  paths.push_back(NATSRPC_CLI_INSTALL_INCLUDEDIR);
  paths.push_back("/usr/include");
  return paths;
}

std::variant<LoadedSchema, Failure> LoadProtoFiles(const Repeated& r) {
  absl::StatusOr<std::unique_ptr<ProtoSchema>> s =
      ProtoSchema::FromProtoFiles(r.proto, ImportPaths(r));
  if (!s.ok()) return BadInput(std::string(s.status().message()));
  LoadedSchema out;
  out.proto = *std::move(s);
  out.origin = absl::StrCat("--proto ", absl::StrJoin(r.proto, " "));
  return out;
}

std::variant<LoadedSchema, Failure> FetchSchema(GenericClient& client,
                                                const Target& t) {
  absl::StatusOr<RemoteSchema> remote =
      client.FetchSchema({.timeout = absl::GetFlag(FLAGS_timeout)});
  const std::string what =
      absl::StrCat("schema request to ", t.service, " of responder ",
                   t.responder, " (app ", t.app, ")");
  if (!remote.ok()) {
    Failure f = Remote(what, remote.status());
    if (remote.status().code() == absl::StatusCode::kNotFound ||
        remote.status().code() == absl::StatusCode::kUnimplemented) {
      absl::StrAppend(&f.message, " (give the IDL with --proto instead)");
    }
    return f;
  }
  LoadedSchema out;
  out.service_name = remote->service;
  out.origin = absl::StrCat("the service's schema (", remote->encoding_name,
                            " from responder ", t.responder, ")");
  if (remote->encoding == SchemaEncoding::kProtobufFileDescriptorSet) {
    absl::StatusOr<std::unique_ptr<ProtoSchema>> s =
        ProtoSchema::FromFileDescriptorSet(remote->bytes);
    if (!s.ok()) {
      return BadInput(absl::StrCat(what, ": ", s.status().message()));
    }
    out.proto = *std::move(s);
    return out;
  }
  if (remote->encoding == SchemaEncoding::kFlatBuffersBinarySchema) {
    absl::StatusOr<std::unique_ptr<FbsSchema>> s =
        FbsSchema::FromBinarySchema(remote->bytes);
    if (!s.ok()) {
      return BadInput(absl::StrCat(what, ": ", s.status().message()));
    }
    out.fbs = *std::move(s);
    return out;
  }
  return BadInput(absl::StrCat(what, ": unknown schema encoding \"",
                               remote->encoding_name, "\""));
}

// --- JSON.

std::string ToJson(const pb::Message& m) {
  pb::util::JsonPrintOptions o;
  o.always_print_primitive_fields = absl::GetFlag(FLAGS_emit_defaults);
  std::string out;
  if (auto s = pb::util::MessageToJsonString(m, &out, o); !s.ok()) {
    return absl::StrCat("{\"natsrpc-cli-error\": \"", std::string(s.message()),
                        "\"}");
  }
  return out;
}

absl::Status FromJson(absl::string_view json, pb::Message& m) {
  auto s =
      pb::util::JsonStringToMessage(pb::StringPiece(json.data(), json.size()),
                                    &m, pb::util::JsonParseOptions());
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad JSON for ", m.GetDescriptor()->full_name(), ": ",
                     std::string(s.message())));
  }
  return absl::OkStatus();
}

// Prints `failure` (if any) and ends the process with its exit status.
int Finish(const std::optional<Failure>& failure) {
  std::cout << std::flush;
  if (!failure.has_value()) return 0;
  std::cerr << "natsrpc: " << failure->message << "\n" << std::flush;
  return failure->exit_code;
}

// The same, without returning: for a thread still blocked reading stdin.
[[noreturn]] void ExitNow(const std::optional<Failure>& failure) {
  std::_Exit(Finish(failure));
}

// --- Commands.

Metadata ParseMetadata(const std::vector<std::string>& kvs,
                       std::optional<Failure>& failure) {
  Metadata out;
  for (const std::string& kv : kvs) {
    std::pair<std::string, std::string> p =
        absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (p.first.empty() || kv.find('=') == std::string::npos) {
      failure = Usage(absl::StrCat("--metadata \"", kv, "\" is not k=v"));
      return out;
    }
    out.emplace_back(std::move(p.first), std::move(p.second));
  }
  return out;
}

absl::string_view KindName(CallKind kind) {
  switch (kind) {
    case CallKind::kUnary:
      return "unary";
    case CallKind::kServerStreaming:
      return "server-streaming";
    case CallKind::kClientStreaming:
      return "client-streaming";
    case CallKind::kBidiStreaming:
      return "bidi-streaming";
  }
  return "?";
}

std::optional<Failure> Ls(const std::vector<std::string>& args) {
  if (args.size() > 1) return Usage("ls takes at most one service name");
  absl::StatusOr<Connection> conn = ConnectFromFlags();
  if (!conn.ok()) return Remote("connect", conn.status());
  absl::StatusOr<std::vector<DiscoveredService>> found =
      DiscoverServices(*conn, {.timeout = absl::GetFlag(FLAGS_wait)});
  if (!found.ok()) return Remote("$SRV.INFO", found.status());
  const std::string app = absl::GetFlag(FLAGS_app);
  const std::string responder = absl::GetFlag(FLAGS_responder);
  std::vector<DiscoveredService> shown;
  for (DiscoveredService& d : *found) {
    if (!args.empty() && !NameMatches(d, args[0])) continue;
    if (!app.empty() && d.app != app) continue;
    if (!responder.empty() && d.responder != responder) continue;
    shown.push_back(std::move(d));
  }
  if (!args.empty()) {
    // One service: its methods, once per distinct app and responder.
    if (shown.empty()) {
      return BadInput(
          absl::StrCat("unknown service \"", args[0],
                       "\": no instance answered $SRV.INFO within ",
                       absl::FormatDuration(absl::GetFlag(FLAGS_wait))));
    }
    std::set<std::string> printed;
    for (const DiscoveredService& d : shown) {
      for (const DiscoveredService::Endpoint& e : d.endpoints) {
        std::string line =
            absl::StrCat(d.service, "/", e.name, "  ", KindName(e.kind), "  ",
                         e.request_type, " -> ", e.response_type);
        if (printed.insert(line).second) std::cout << line << "\n";
      }
    }
    return std::nullopt;
  }
  if (shown.empty()) {
    std::cerr << "natsrpc: no natsrpc service answered $SRV.INFO within "
              << absl::FormatDuration(absl::GetFlag(FLAGS_wait)) << "\n";
    return std::nullopt;
  }
  std::vector<std::vector<std::string>> rows = {
      {"SERVICE", "APP", "RESPONDER", "INSTANCE", "VERSION", "METHODS"}};
  for (const DiscoveredService& d : shown) {
    std::vector<std::string> methods;
    for (const auto& e : d.endpoints) methods.push_back(e.name);
    rows.push_back({d.service, d.app, d.responder, d.id, d.version,
                    absl::StrJoin(methods, ",")});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size())
        line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
  return std::nullopt;
}

// The message types `method` uses and those they use, in order.
void CollectTypes(const pb::Descriptor* d,
                  std::vector<const pb::Descriptor*>& out,
                  std::set<const pb::Descriptor*>& seen) {
  while (d->containing_type() != nullptr) d = d->containing_type();
  if (!seen.insert(d).second) return;
  out.push_back(d);
  std::vector<const pb::Descriptor*> stack = {d};
  while (!stack.empty()) {
    const pb::Descriptor* m = stack.back();
    stack.pop_back();
    for (int i = 0; i < m->nested_type_count(); ++i)
      stack.push_back(m->nested_type(i));
    for (int i = 0; i < m->field_count(); ++i) {
      if (m->field(i)->message_type() != nullptr) {
        CollectTypes(m->field(i)->message_type(), out, seen);
      }
    }
  }
}

// Drops the ` [json_name = "x"]` the schema's descriptors carry on every
// field (protoc fills json_name in); the text then reads as the .proto.
std::string WithoutJsonNames(std::string text) {
  static constexpr char kOpen[] = " [json_name = \"";
  size_t from = 0;
  size_t at;
  while ((at = text.find(kOpen, from)) != std::string::npos) {
    const size_t quote = text.find('"', at + sizeof(kOpen) - 1);
    if (quote == std::string::npos || quote + 1 >= text.size()) break;
    if (text[quote + 1] == ']') {
      text.erase(at, quote + 2 - at);  // the only option
    } else if (text.compare(quote + 1, 2, ", ") == 0) {
      text.erase(at + 2, quote + 3 - (at + 2));  // others follow
    }
    from = at + 1;
  }
  return text;
}

// Splits "<service>/<method>" (a '.' before the method also works, as
// grpcurl accepts).
std::pair<std::string, std::string> SplitMethod(absl::string_view arg) {
  size_t slash = arg.rfind('/');
  if (slash == absl::string_view::npos) return {std::string(arg), ""};
  return {std::string(arg.substr(0, slash)),
          std::string(arg.substr(slash + 1))};
}

std::optional<Failure> Describe(const std::vector<std::string>& args,
                                const Repeated& r, const Metadata& metadata) {
  if (args.size() != 1) return Usage("describe takes one <service>[/<method>]");
  auto [service, method] = SplitMethod(args[0]);
  std::variant<LoadedSchema, Failure> loaded;
  std::string header;
  std::optional<Connection> conn;
  if (!r.proto.empty()) {
    loaded = LoadProtoFiles(r);
  } else {
    absl::StatusOr<Connection> c = ConnectFromFlags();
    if (!c.ok()) return Remote("connect", c.status());
    conn = *c;
    std::variant<Target, Failure> t = Resolve(*conn, service);
    if (auto* f = std::get_if<Failure>(&t)) return *f;
    const Target& target = std::get<Target>(t);
    GenericClient client(*conn, ClientOptionsFor(target, metadata),
                         target.service);
    if (!client.status().ok())
      return BadInput(std::string(client.status().message()));
    loaded = FetchSchema(client, target);
    header = absl::StrCat(" (app ", target.app, ", responder ",
                          target.responder, ")");
  }
  if (auto* f = std::get_if<Failure>(&loaded)) return *f;
  LoadedSchema& schema = std::get<LoadedSchema>(loaded);
  if (schema.fbs != nullptr) {
    absl::StatusOr<std::string> text = schema.fbs->Describe(
        schema.service_name.empty() ? service : schema.service_name, method);
    if (!text.ok()) return BadInput(std::string(text.status().message()));
    std::cout << "// " << schema.service_name << header << ", from "
              << schema.origin << "\n"
              << *text;
    return std::nullopt;
  }
  const std::string lookup =
      schema.service_name.empty() ? service : schema.service_name;
  absl::StatusOr<const pb::ServiceDescriptor*> svc =
      schema.proto->FindService(lookup);
  if (!svc.ok()) return BadInput(std::string(svc.status().message()));
  std::vector<const pb::Descriptor*> types;
  std::set<const pb::Descriptor*> seen;
  std::cout << "// " << (*svc)->full_name() << header << ", from "
            << schema.origin << "\n";
  if (!method.empty()) {
    absl::StatusOr<const pb::MethodDescriptor*> m =
        schema.proto->FindMethod((*svc)->full_name(), method);
    if (!m.ok()) return BadInput(std::string(m.status().message()));
    std::cout << (*m)->DebugString();
    CollectTypes((*m)->input_type(), types, seen);
    CollectTypes((*m)->output_type(), types, seen);
  } else {
    std::cout << (*svc)->DebugString();
    for (int i = 0; i < (*svc)->method_count(); ++i) {
      CollectTypes((*svc)->method(i)->input_type(), types, seen);
      CollectTypes((*svc)->method(i)->output_type(), types, seen);
    }
  }
  for (const pb::Descriptor* d : types) {
    std::cout << "\n// " << d->full_name() << " (" << d->file()->name() << ")\n"
              << WithoutJsonNames(d->DebugString());
  }
  return std::nullopt;
}

// Reads stdin's non-blank lines, each a JSON request.
class StdinLines {
 public:
  std::optional<std::string> Next() {
    std::string line;
    while (std::getline(std::cin, line)) {
      ++number_;
      if (line.find_first_not_of(" \t\r") != std::string::npos) return line;
    }
    return std::nullopt;
  }
  int number() const { return number_; }

 private:
  int number_ = 0;
};

std::optional<Failure> CallFbs(GenericClient& client, FbsSchema& fbs,
                               const std::string& service,
                               const std::string& method,
                               const std::vector<std::string>& args,
                               const CallOptions& options,
                               const std::string& what) {
  absl::StatusOr<FbsSchema::Method> m = fbs.FindMethod(service, method);
  if (!m.ok()) return BadInput(std::string(m.status().message()));
  if (!m->streaming.empty()) {
    return BadInput(absl::StrCat(
        what,
        " is a FlatBuffers streaming method; natsrpc call sends JSON to "
        "unary FlatBuffers methods only"));
  }
  absl::StatusOr<std::string> request =
      fbs.JsonToBinary(m->request_type, args.size() > 1 ? args[1] : "{}");
  if (!request.ok()) return BadInput(std::string(request.status().message()));
  absl::StatusOr<std::string> reply =
      client.Call(method, *request, options, kFlatBuffersContentType);
  if (!reply.ok()) return Remote(absl::StrCat("call ", what), reply.status());
  absl::StatusOr<std::string> json = fbs.BinaryToJson(m->response_type, *reply);
  if (!json.ok()) {
    return Remote(absl::StrCat("call ", what),
                  absl::InternalError(json.status().message()));
  }
  std::cout << *json << "\n";
  return std::nullopt;
}

std::optional<Failure> Call(const std::vector<std::string>& args,
                            const Repeated& r, const Metadata& metadata) {
  if (args.empty() || args.size() > 2) {
    return Usage("call takes <service>/<method> and at most one JSON request");
  }
  auto [service, method] = SplitMethod(args[0]);
  if (method.empty()) {
    return Usage(absl::StrCat("\"", args[0], "\" is not <service>/<method>"));
  }
  // The schema from files first: bad input is found before connecting.
  std::optional<LoadedSchema> from_files;
  if (!r.proto.empty()) {
    std::variant<LoadedSchema, Failure> l = LoadProtoFiles(r);
    if (auto* f = std::get_if<Failure>(&l)) return *f;
    from_files = std::move(std::get<LoadedSchema>(l));
    absl::StatusOr<const pb::MethodDescriptor*> m =
        from_files->proto->FindMethod(service, method);
    if (!m.ok()) return BadInput(std::string(m.status().message()));
  }
  absl::StatusOr<Connection> conn = ConnectFromFlags();
  if (!conn.ok()) return Remote("connect", conn.status());
  std::variant<Target, Failure> t = Resolve(*conn, service);
  if (auto* f = std::get_if<Failure>(&t)) return *f;
  const Target& target = std::get<Target>(t);
  GenericClient client(*conn, ClientOptionsFor(target, metadata),
                       target.service);
  if (!client.status().ok())
    return BadInput(std::string(client.status().message()));
  LoadedSchema schema;
  if (from_files.has_value()) {
    schema = std::move(*from_files);
  } else {
    std::variant<LoadedSchema, Failure> l = FetchSchema(client, target);
    if (auto* f = std::get_if<Failure>(&l)) return *f;
    schema = std::move(std::get<LoadedSchema>(l));
  }
  const std::string lookup =
      schema.service_name.empty() ? service : schema.service_name;
  const std::string what = absl::StrCat(lookup, "/", method);
  const CallOptions options{.timeout = absl::GetFlag(FLAGS_timeout)};
  if (schema.fbs != nullptr) {
    return CallFbs(client, *schema.fbs, lookup, method, args, options, what);
  }
  absl::StatusOr<const pb::MethodDescriptor*> m =
      schema.proto->FindMethod(lookup, method);
  if (!m.ok()) return BadInput(std::string(m.status().message()));
  const CallKind kind = ProtoSchema::KindOf(**m);
  std::unique_ptr<pb::Message> reply =
      schema.proto->NewMessage(*(*m)->output_type());

  if (kind == CallKind::kUnary || kind == CallKind::kServerStreaming) {
    std::unique_ptr<pb::Message> request =
        schema.proto->NewMessage(*(*m)->input_type());
    if (absl::Status s = FromJson(args.size() > 1 ? args[1] : "{}", *request);
        !s.ok()) {
      return BadInput(std::string(s.message()));
    }
    if (kind == CallKind::kUnary) {
      absl::Status s = client.Call(method, *request, reply.get(), options);
      if (!s.ok()) return Remote(absl::StrCat("call ", what), s);
      std::cout << ToJson(*reply) << "\n";
      return std::nullopt;
    }
    std::unique_ptr<GenericStream> stream =
        client.OpenServerStream(method, *request, options);
    while (stream->Read(reply.get())) {
      std::cout << ToJson(*reply) << "\n" << std::flush;
    }
    absl::Status s = stream->Finish();
    if (!s.ok()) return Remote(absl::StrCat("call ", what), s);
    return std::nullopt;
  }

  // Client and bidi streams: requests from stdin, replies to stdout.
  if (args.size() > 1) {
    return Usage(absl::StrCat(what, " is ", KindName(kind),
                              ": give its requests on stdin, one JSON object "
                              "per line"));
  }
  std::unique_ptr<GenericStream> stream =
      client.OpenStream(method, kind, options);
  std::optional<Failure> input_failure;
  // Notified when the writer sends nothing more (before its last stream
  // operation, so that a bad line is reported as such, not as the cancel
  // it causes).
  absl::Notification writer_done;
  std::thread writer([&] {
    StdinLines lines;
    std::unique_ptr<pb::Message> request =
        schema.proto->NewMessage(*(*m)->input_type());
    while (std::optional<std::string> line = lines.Next()) {
      request->Clear();
      if (absl::Status s = FromJson(*line, *request); !s.ok()) {
        input_failure = BadInput(
            absl::StrCat("stdin line ", lines.number(), ": ", s.message()));
        writer_done.Notify();
        stream->Cancel();
        return;
      }
      if (!stream->Write(*request)) {  // over: Finish says why
        writer_done.Notify();
        return;
      }
    }
    writer_done.Notify();
    stream->WritesDone();
  });
  while (stream->Read(reply.get())) {
    std::cout << ToJson(*reply) << "\n" << std::flush;
  }
  absl::Status s = stream->Finish();
  if (!writer_done.HasBeenNotified()) {
    // The server ended the stream while the writer still waits for a line
    // of stdin (a terminal): nothing more can be sent, and nobody would
    // read it. End here instead of waiting for input.
    writer.detach();
    std::optional<Failure> f;
    if (!s.ok()) f = Remote(absl::StrCat("call ", what), s);
    ExitNow(f);
  }
  writer.join();
  if (input_failure.has_value()) return input_failure;
  if (!s.ok()) return Remote(absl::StrCat("call ", what), s);
  return std::nullopt;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the command-line client of natsrpc services (docs/cli.md)\n\n"
      "  natsrpc ls [<service>]                  services and instances "
      "($SRV.INFO)\n"
      "  natsrpc describe <service>[/<method>]   methods and message schemas\n"
      "  natsrpc call <service>/<method> ['<json>']\n"
      "      unary and server-streaming: the request as JSON (default {});\n"
      "      client-streaming and bidi: one JSON request per line on stdin;\n"
      "      replies are printed as JSON, one line per message.\n\n"
      "Exit status: 0 OK, 1 bad command line, 2 bad input (unknown "
      "service or method, bad JSON, bad schema), 64 + the status code of a "
      "failed call (65 CANCELLED ... 68 DEADLINE_EXCEEDED ... 76 "
      "UNIMPLEMENTED, 78 UNAVAILABLE, 80 UNAUTHENTICATED).");
  Repeated repeated;
  std::vector<char*> rest = TakeRepeated(argc, argv, repeated);
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(rest.size()), rest.data());
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  // Values given once as --metadata=a=1 are also in the absl flags when
  // TakeRepeated did not see them (e.g. after "--"); merge.
  for (const std::string& v : absl::GetFlag(FLAGS_metadata))
    repeated.metadata.push_back(v);
  for (const std::string& v : absl::GetFlag(FLAGS_proto))
    repeated.proto.push_back(v);
  for (const std::string& v : absl::GetFlag(FLAGS_import_path))
    repeated.import_path.push_back(v);

  std::optional<Failure> failure;
  Metadata metadata = ParseMetadata(repeated.metadata, failure);
  if (!failure.has_value()) {
    if (args.empty()) {
      failure = Usage("missing command: ls, describe or call (--help)");
    } else {
      const std::string command = args[0];
      args.erase(args.begin());
      if (command == "ls" || command == "list") {
        failure = Ls(args);
      } else if (command == "describe") {
        failure = Describe(args, repeated, metadata);
      } else if (command == "call") {
        failure = Call(args, repeated, metadata);
      } else {
        failure = Usage(absl::StrCat("unknown command \"", command,
                                     "\": ls, describe or call (--help)"));
      }
    }
  }
  return Finish(failure);
}

}  // namespace
}  // namespace natsrpc::cli

int main(int argc, char** argv) { return natsrpc::cli::Main(argc, argv); }
