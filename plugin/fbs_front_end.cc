// Copyright 2026 The natsrpc Authors.

#include "fbs_front_end.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "durable_names.h"
#include "fanout_model.h"
#include "flatbuffers/idl.h"
#include "flatbuffers/util.h"
#include "names.h"

namespace natsrpc::gen {
namespace {

namespace fb = ::flatbuffers;

constexpr char kStreaming[] = "streaming";
constexpr char kIdempotent[] = "idempotent";
constexpr char kTimeout[] = "natsrpc_timeout_ms";
constexpr char kApp[] = "natsrpc_app";
// Durable requests (docs/protocol.md section 14), on methods and services.
constexpr char kDurable[] = "natsrpc_durable";
// Events (docs/protocol.md 13), on a method or a whole service.
constexpr char kEvent[] = "natsrpc_event";
constexpr char kBroadcast[] = "natsrpc_broadcast";
constexpr char kKnownAttributes[] =
    "natsrpc knows streaming, idempotent, natsrpc_timeout_ms, natsrpc_event, "
    "natsrpc_broadcast and natsrpc_durable on methods, natsrpc_timeout_ms, "
    "natsrpc_app, natsrpc_event, natsrpc_broadcast and natsrpc_durable on "
    "services";

// ---------------------------------------------------------------------------
// Source positions. flatbuffers::Parser keeps no line numbers for services,
// methods or attributes, so a small scanner of the (already parsed, hence
// well-formed) schema text finds them.

struct Token {
  std::string text;
  int line;
  bool punct;  // one of ( ) { } [ ] ; , : =
};

std::vector<Token> Tokenize(absl::string_view src) {
  std::vector<Token> tokens;
  int line = 1;
  size_t i = 0;
  auto is_punct = [](char c) {
    return absl::string_view("(){}[];,:=").find(c) != absl::string_view::npos;
  };
  while (i < src.size()) {
    const char c = src[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
    } else if (src.substr(i, 2) == "//") {
      while (i < src.size() && src[i] != '\n') ++i;
    } else if (src.substr(i, 2) == "/*") {
      i += 2;
      while (i < src.size() && src.substr(i, 2) != "*/") {
        if (src[i] == '\n') ++line;
        ++i;
      }
      i += 2;
    } else if (c == '"' || c == '\'') {
      const int start_line = line;
      std::string text;
      ++i;
      while (i < src.size() && src[i] != c) {
        if (src[i] == '\\' && i + 1 < src.size()) text += src[i++];
        if (src[i] == '\n') ++line;
        text += src[i++];
      }
      ++i;
      tokens.push_back({std::move(text), start_line, false});
    } else if (is_punct(c)) {
      tokens.push_back({std::string(1, c), line, true});
      ++i;
    } else {
      const size_t start = i;
      while (i < src.size() && !is_punct(src[i]) && src[i] != '"' &&
             src[i] != '\'' && !absl::ascii_isspace(src[i]) &&
             src.substr(i, 2) != "//" && src.substr(i, 2) != "/*") {
        ++i;
      }
      tokens.push_back(
          {std::string(src.substr(start, i - start)), line, false});
    }
  }
  return tokens;
}

struct Located {
  int line = 0;
  std::map<std::string, int> attributes;  // name -> line
};

struct ServiceLocation : Located {
  std::map<std::string, Located> methods;
};

// Fully qualified service name -> where it and its parts are.
using Locations = std::map<std::string, ServiceLocation>;

bool Is(const std::vector<Token>& t, size_t i, absl::string_view punct) {
  return i < t.size() && t[i].punct && t[i].text == punct;
}

// `i` is at "(": reads `key [: value] , ...)`; returns the index after ")".
size_t ScanAttributes(const std::vector<Token>& t, size_t i,
                      std::map<std::string, int>& out) {
  ++i;
  while (i < t.size() && !Is(t, i, ")")) {
    if (!t[i].punct) out.emplace(t[i].text, t[i].line);
    ++i;
    if (Is(t, i, ":")) i += 2;
    if (Is(t, i, ",")) ++i;
  }
  return i + 1;
}

Locations ScanLocations(absl::string_view source) {
  const std::vector<Token> t = Tokenize(source);
  Locations locations;
  std::string ns;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].punct) continue;
    if (t[i].text == "namespace" && i + 1 < t.size()) {
      ns = Is(t, i + 1, ";") ? "" : t[i + 1].text;
      continue;
    }
    if (t[i].text != "rpc_service" || i + 1 >= t.size()) continue;
    ServiceLocation& service =
        locations[ns.empty() ? t[i + 1].text : ns + "." + t[i + 1].text];
    service.line = t[i + 1].line;
    i += 2;
    if (Is(t, i, "(")) i = ScanAttributes(t, i, service.attributes);
    if (!Is(t, i, "{")) continue;
    ++i;
    while (i < t.size() && !Is(t, i, "}")) {
      // Name ( Request ) : Response [( attributes )] ;
      Located& method = service.methods[t[i].text];
      method.line = t[i].line;
      while (i < t.size() && !Is(t, i, ":")) ++i;
      i += 2;
      if (Is(t, i, "(")) i = ScanAttributes(t, i, method.attributes);
      while (i < t.size() && !Is(t, i, ";") && !Is(t, i, "}")) ++i;
      if (Is(t, i, ";")) ++i;
    }
  }
  return locations;
}

// ---------------------------------------------------------------------------

std::string FullName(const fb::Definition& def) {
  if (def.defined_namespace == nullptr) return def.name;
  return def.defined_namespace->GetFullyQualifiedName(def.name);
}

std::vector<std::string> Components(const fb::Definition& def) {
  if (def.defined_namespace == nullptr) return {};
  return def.defined_namespace->components;
}

// The names flatc 2.0.8 (and our other services) may define in a namespace,
// so that a service class never collides with them.
void AddFlatcNames(const fb::Parser& parser, const std::vector<std::string>& ns,
                   NameSet& names) {
  for (const fb::StructDef* s : parser.structs_.vec) {
    if (Components(*s) != ns) continue;
    const std::string n =
        IsFlatcKeyword(s->name) ? s->name + "_" : std::string(s->name);
    for (const char* prefix :
         {"", "Create", "Get", "GetMutable", "GetSizePrefixed", "Verify",
          "VerifySizePrefixed", "Finish", "FinishSizePrefixed", "UnPack",
          "UnPackSizePrefixed"}) {
      names.insert(absl::StrCat(prefix, n));
    }
    for (const char* suffix : {"Builder", "T", "TypeTable", "Identifier",
                               "Extension", "BufferHasIdentifier"}) {
      names.insert(absl::StrCat(n, suffix));
    }
    names.insert(absl::StrCat("Create", n, "Direct"));
    names.insert(absl::StrCat("Verify", n, "Buffer"));
    names.insert(absl::StrCat("VerifySizePrefixed", n, "Buffer"));
    names.insert(absl::StrCat("Finish", n, "Buffer"));
    names.insert(absl::StrCat("FinishSizePrefixed", n, "Buffer"));
  }
  for (const fb::EnumDef* e : parser.enums_.vec) {
    if (Components(*e) != ns) continue;
    const std::string n =
        IsFlatcKeyword(e->name) ? e->name + "_" : std::string(e->name);
    for (const char* prefix :
         {"", "EnumValues", "EnumNames", "EnumName", "Verify"}) {
      names.insert(absl::StrCat(prefix, n));
    }
    for (const char* suffix : {"_MIN", "_MAX", "_NONE", "Traits", "UnionTraits",
                               "Union", "TypeTable", "UnionTypeTable"}) {
      names.insert(absl::StrCat(n, suffix));
    }
    names.insert(absl::StrCat("Verify", n, "Vector"));
    for (const fb::EnumVal* v : e->Vals()) {
      names.insert(absl::StrCat(n, "_", v->name));
    }
  }
}

std::string Where(const std::string& file, int line) {
  return line > 0 ? absl::StrCat(file, ":", line) : file;
}

absl::StatusOr<uint32_t> ParseTimeout(const fb::Value& value,
                                      absl::string_view where) {
  uint32_t ms = 0;
  if (!absl::SimpleAtoi(value.constant, &ms)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": attribute ", kTimeout, ": \"",
                     absl::CHexEscape(value.constant),
                     "\" is not a number of milliseconds (0 to 4294967295)"));
  }
  return ms;
}

// Rewrites the parser's error for an undeclared attribute on a service or
// method into one that names them; other errors pass through.
std::string ParserError(const fb::Parser& parser, const std::string& path,
                        const std::string& display, absl::string_view source) {
  std::string error = parser.error_;
  while (!error.empty() && error.back() == '\n') error.pop_back();
  // "<file>:<line>: <column>: error: user define attributes must be
  // declared before use: <name>"
  static const std::regex kUndeclared(
      "^(.*):([0-9]+): *[0-9]+: error: user define attributes must be "
      "declared before use: (.*)$");
  std::smatch match;
  int line = 0;
  if (!std::regex_match(error, match, kUndeclared) ||
      (match[1] != path && match[1] != fb::AbsolutePath(path)) ||
      !absl::SimpleAtoi(match[2].str(), &line)) {
    return error;
  }
  const std::string name(absl::StripAsciiWhitespace(match[3].str()));
  const std::string hint =
      absl::StartsWith(name, "natsrpc_")
          ? absl::StrCat("declare it with `attribute \"", name,
                         "\";` before use")
          : absl::StrCat("not declared with `attribute \"", name, "\";`, and ",
                         kKnownAttributes);
  for (const auto& [service_name, service] : ScanLocations(source)) {
    for (const auto& [method_name, method] : service.methods) {
      auto it = method.attributes.find(name);
      if (it != method.attributes.end() && it->second == line) {
        return absl::StrCat(display, ":", line, ": service ", service_name,
                            ", method ", method_name, ": unknown attribute \"",
                            name, "\": ", hint);
      }
    }
    auto it = service.attributes.find(name);
    if (it != service.attributes.end() && it->second == line) {
      return absl::StrCat(display, ":", line, ": service ", service_name,
                          ": unknown attribute \"", name, "\": ", hint);
    }
  }
  return absl::StrCat(display, ":", line, ": unknown attribute \"", name,
                      "\": ", hint);
}

}  // namespace

std::string FbsDisplayName(const std::string& path,
                           const std::vector<std::string>& include_dirs) {
  namespace fs = std::filesystem;
  const fs::path file = fs::path(path).lexically_normal();
  for (const std::string& dir : include_dirs) {
    const fs::path base = fs::path(dir).lexically_normal();
    // lexically_relative() needs both absolute or both relative.
    if (base.is_absolute() != file.is_absolute()) continue;
    const fs::path rel = file.lexically_relative(base);
    if (rel.empty() || *rel.begin() == "..") continue;
    return rel.generic_string();
  }
  return path;
}

absl::StatusOr<ServiceModel> BuildFbsModel(
    const std::string& path, const std::vector<std::string>& include_dirs) {
  std::string source;
  if (!fb::LoadFile(path.c_str(), /*binary=*/false, &source)) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot read the file"));
  }
  return BuildFbsModelFromSource(source, path, include_dirs);
}

absl::StatusOr<ServiceModel> BuildFbsModelFromSource(
    absl::string_view source, const std::string& path,
    const std::vector<std::string>& include_dirs) {
  const std::string display = FbsDisplayName(path, include_dirs);

  // Include search order as flatc: -I directories, then the schema's own.
  std::vector<std::string> dirs = include_dirs;
  dirs.push_back(fb::StripFileName(path));
  std::vector<const char*> dir_ptrs;
  for (const std::string& d : dirs) dir_ptrs.push_back(d.c_str());
  dir_ptrs.push_back(nullptr);

  fb::Parser parser;
  const std::string text(source);
  if (!parser.Parse(text.c_str(), dir_ptrs.data(), path.c_str())) {
    return absl::InvalidArgumentError(
        ParserError(parser, path, display, source));
  }

  const Locations locations = ScanLocations(source);
  const std::string base = StripExtension(fb::StripPath(path));

  ServiceModel model;
  model.idl_file = display;
  model.header_file = base + ".natsrpc.h";
  model.source_file = base + ".natsrpc.cc";
  model.header_include = model.header_file;
  model.includes = {base + "_generated.h"};

  std::vector<const fb::ServiceDef*> services;
  for (const fb::ServiceDef* s : parser.services_.vec) {
    if (s->file == path) services.push_back(s);
  }
  if (services.empty()) return model;
  model.includes.push_back("natsrpc/flatbuffers_codec.h");

  model.namespaces = Components(*services.front());
  const std::string package = absl::StrJoin(model.namespaces, ".");
  for (const fb::ServiceDef* s : services) {
    if (Components(*s) != model.namespaces) {
      auto it = locations.find(FullName(*s));
      return absl::InvalidArgumentError(absl::StrCat(
          Where(display, it == locations.end() ? 0 : it->second.line),
          ": service ", FullName(*s),
          ": all rpc_services of a schema must "
          "be in one namespace (the first is in \"",
          package, "\")"));
    }
  }

  NameSet namespace_names;
  AddFlatcNames(parser, model.namespaces, namespace_names);

  for (const fb::ServiceDef* service : services) {
    ServiceDef def;
    def.name = service->name;
    def.full_name = FullName(*service);
    const auto loc_it = locations.find(def.full_name);
    const ServiceLocation empty_location;
    const ServiceLocation& loc =
        loc_it == locations.end() ? empty_location : loc_it->second;
    auto attribute_line = [&](const Located& l, const std::string& name) {
      auto it = l.attributes.find(name);
      return it == l.attributes.end() ? l.line : it->second;
    };

    def.cpp_name =
        ServiceClassName(def.name, namespace_names, model.namespaces.empty());
    namespace_names.insert(def.cpp_name);
    def.app = DefaultApp(package);
    def.doc = service->doc_comment;

    uint32_t service_timeout = 0;
    bool service_durable = false;
    bool service_events = false;
    bool service_broadcast = false;
    for (const auto& [name, value] : service->attributes.dict) {
      const std::string where =
          absl::StrCat(Where(display, attribute_line(loc, name)), ": service ",
                       def.full_name);
      if (name == kEvent) {
        service_events = true;
      } else if (name == kBroadcast) {
        service_broadcast = true;
      } else if (name == kTimeout) {
        absl::StatusOr<uint32_t> ms = ParseTimeout(*value, where);
        if (!ms.ok()) return ms.status();
        service_timeout = *ms;
      } else if (name == kApp) {
        if (const std::string why = TokenError(value->constant); !why.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": attribute ", kApp, ": \"",
                           absl::CHexEscape(value->constant),
                           "\" is not a valid subject token: ", why));
        }
        def.app = value->constant;
      } else if (name == kDurable) {
        service_durable = true;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": unknown attribute \"", name, "\": ", kKnownAttributes));
      }
    }

    std::vector<std::string> idl_names;
    for (const fb::RPCCall* call : service->calls.vec) {
      idl_names.push_back(call->name);
    }
    const std::vector<MethodIdentifiers> ids =
        AssignMethodIdentifiers(idl_names);
    NameSet table_taken = namespace_names;
    for (size_t m = 0; m < service->calls.vec.size(); ++m) {
      const fb::RPCCall& call = *service->calls.vec[m];
      const auto mloc_it = loc.methods.find(call.name);
      const Located empty_method;
      const Located& mloc =
          mloc_it == loc.methods.end() ? empty_method : mloc_it->second;

      MethodDef md;
      md.name = idl_names[m];
      md.cpp_name = ids[m].call;
      md.cpp_async_name = ids[m].async_call;
      md.cpp_raw_name = ids[m].raw_call;
      md.cpp_co_name = ids[m].co_call;
      md.request_type = absl::StrCat(
          "::natsrpc::FlatMessage<",
          QualifiedFlatcType(Components(*call.request), call.request->name),
          ">");
      md.response_type = absl::StrCat(
          "::natsrpc::FlatMessage<",
          QualifiedFlatcType(Components(*call.response), call.response->name),
          ">");
      md.request_type_name = FullName(*call.request);
      md.response_type_name = FullName(*call.response);
      md.codec = "::natsrpc::FlatBuffersCodec";
      md.timeout_ms = service_timeout;
      md.doc = call.doc_comment;
      bool event = service_events;
      bool broadcast = false;
      for (const auto& [name, value] : call.attributes.dict) {
        const std::string where =
            absl::StrCat(Where(display, attribute_line(mloc, name)),
                         ": service ", def.full_name, ", method ", md.name);
        if (name == kStreaming) {
          const std::string& v = value->constant;
          if (v == "server") {
            md.streaming = StreamingKind::kServerStreaming;
          } else if (v == "client") {
            md.streaming = StreamingKind::kClientStreaming;
          } else if (v == "bidi") {
            md.streaming = StreamingKind::kBidiStreaming;
          } else {
            return absl::InvalidArgumentError(absl::StrCat(
                where, ": attribute streaming: \"", absl::CHexEscape(v),
                "\" is not one of \"server\", \"client\", "
                "\"bidi\""));
          }
        } else if (name == kEvent) {
          event = true;
        } else if (name == kBroadcast) {
          broadcast = true;
        } else if (name == kIdempotent) {
          // As in FlatBuffers' gRPC schemas: the client's retry policy
          // applies to the method (model.h).
          md.idempotent = true;
        } else if (name == kDurable) {
          md.durable = true;
        } else if (name == kTimeout) {
          absl::StatusOr<uint32_t> ms = ParseTimeout(*value, where);
          if (!ms.ok()) return ms.status();
          if (*ms != 0) md.timeout_ms = *ms;
        } else {
          return absl::InvalidArgumentError(absl::StrCat(
              where, ": unknown attribute \"", name, "\": ", kKnownAttributes));
        }
      }
      if (service_durable && md.streaming == StreamingKind::kUnary) {
        md.durable = true;
      }
      if (absl::Status st = ApplyEventOptions(
              md, event, broadcast || (service_broadcast && event),
              absl::StrCat(Where(display, mloc.line), ": service ",
                           def.full_name, ", method ", md.name));
          !st.ok()) {
        return st;
      }
      table_taken.insert(md.cpp_name);
      table_taken.insert(md.cpp_async_name);
      table_taken.insert(md.cpp_raw_name);
      table_taken.insert(md.cpp_co_name);
      def.methods.push_back(std::move(md));
    }
    AssignFanoutIdentifiers(def, table_taken);
    def.method_table_name = MethodTableName(def.cpp_name, table_taken);
    namespace_names.insert(def.method_table_name);
    if (absl::Status st = AssignDurableNames(def, display); !st.ok()) {
      return st;
    }
    model.services.push_back(std::move(def));
  }
  // The binary schema of everything parsed (the file and its includes), as
  // `flatc --binary --schema` writes it.
  parser.Serialize();
  model.schema.assign(
      reinterpret_cast<const char*>(parser.builder_.GetBufferPointer()),
      parser.builder_.GetSize());
  model.schema_encoding = "::natsrpc::SchemaEncoding::kFlatBuffersBinarySchema";
  model.schema_array_name = Uniquify("kNatsrpcSchema", namespace_names);
  return model;
}

}  // namespace natsrpc::gen
