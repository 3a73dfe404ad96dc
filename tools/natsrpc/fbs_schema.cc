// Copyright 2026 The natsrpc Authors.

#include "fbs_schema.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flatbuffers/idl.h"
#include "flatbuffers/reflection.h"
#include "flatbuffers/reflection_generated.h"

namespace natsrpc::cli {
namespace {

absl::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? absl::string_view()
                      : absl::string_view(s->c_str(), s->size());
}

std::string SimpleName(absl::string_view full) {
  size_t dot = full.rfind('.');
  return std::string(dot == absl::string_view::npos ? full
                                                    : full.substr(dot + 1));
}

std::string Attribute(const reflection::RPCCall& call, absl::string_view key) {
  if (call.attributes() == nullptr) return "";
  for (const reflection::KeyValue* kv : *call.attributes()) {
    if (kv->key() != nullptr && View(kv->key()) == key) {
      return kv->value() == nullptr ? "" : kv->value()->str();
    }
  }
  return "";
}

std::string TypeName(const reflection::Schema& schema,
                     const reflection::Type& type) {
  using reflection::BaseType;
  static const char* const kNames[] = {
      "none", "utype", "bool", "byte",  "ubyte", "short",  "ushort",
      "int",  "uint",  "long", "ulong", "float", "double", "string"};
  auto scalar = [&](BaseType t) -> std::string {
    if (t == BaseType::Obj) {
      return schema.objects()->Get(type.index())->name()->str();
    }
    if (t == BaseType::String) return "string";
    if (type.index() >= 0 && schema.enums() != nullptr &&
        static_cast<uint32_t>(type.index()) < schema.enums()->size()) {
      return schema.enums()->Get(type.index())->name()->str();
    }
    if (static_cast<int>(t) < static_cast<int>(std::size(kNames))) {
      return kNames[static_cast<int>(t)];
    }
    return "?";
  };
  if (type.base_type() == BaseType::Vector) {
    return absl::StrCat("[", scalar(type.element()), "]");
  }
  if (type.base_type() == BaseType::Union) {
    return schema.enums()->Get(type.index())->name()->str();
  }
  return scalar(type.base_type());
}

void DescribeObject(const reflection::Schema& schema,
                    const reflection::Object& obj, std::string& out) {
  absl::StrAppend(&out, "\n", obj.is_struct() ? "struct " : "table ",
                  obj.name()->str(), " {\n");
  // Fields are stored sorted by name; print them in id order.
  std::vector<const reflection::Field*> fields(obj.fields()->begin(),
                                               obj.fields()->end());
  std::sort(fields.begin(), fields.end(),
            [](const reflection::Field* a, const reflection::Field* b) {
              return a->id() < b->id();
            });
  for (const reflection::Field* f : fields) {
    if (f->type()->base_type() == reflection::BaseType::UType) continue;
    absl::StrAppend(&out, "  ", f->name()->str(), ":",
                    TypeName(schema, *f->type()), ";\n");
  }
  out += "}\n";
}

void CollectObjects(const reflection::Schema& schema,
                    const reflection::Object* obj,
                    std::vector<const reflection::Object*>& out,
                    std::set<const reflection::Object*>& seen) {
  if (!seen.insert(obj).second) return;
  out.push_back(obj);
  for (const reflection::Field* f : *obj->fields()) {
    const reflection::Type& t = *f->type();
    if (t.base_type() == reflection::BaseType::Obj ||
        (t.base_type() == reflection::BaseType::Vector &&
         t.element() == reflection::BaseType::Obj)) {
      CollectObjects(schema, schema.objects()->Get(t.index()), out, seen);
    }
  }
}

}  // namespace

FbsSchema::FbsSchema(std::string bytes) : bytes_(std::move(bytes)) {}

const reflection::Schema& FbsSchema::schema() const {
  return *reflection::GetSchema(bytes_.data());
}

absl::StatusOr<std::unique_ptr<FbsSchema>> FbsSchema::FromBinarySchema(
    std::string bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()),
                                 bytes.size());
  if (!reflection::VerifySchemaBuffer(verifier)) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema of ", bytes.size(),
                     " bytes is not a FlatBuffers binary schema"));
  }
  return std::unique_ptr<FbsSchema>(new FbsSchema(std::move(bytes)));
}

absl::StatusOr<FbsSchema::Method> FbsSchema::FindMethod(
    absl::string_view service, absl::string_view method) const {
  const reflection::Schema& s = schema();
  const reflection::Service* found = nullptr;
  std::vector<std::string> names;
  if (s.services() != nullptr) {
    for (const reflection::Service* svc : *s.services()) {
      names.push_back(svc->name()->str());
      if (View(svc->name()) == service ||
          SimpleName(View(svc->name())) == service) {
        found = svc;
      }
    }
  }
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "unknown service \"", service, "\"; the schema has ",
        names.empty() ? "no service" : absl::StrJoin(names, ", ")));
  }
  std::vector<std::string> methods;
  for (const reflection::RPCCall* call : *found->calls()) {
    methods.push_back(call->name()->str());
    if (View(call->name()) == method) {
      return Method{call->name()->str(), call->request()->name()->str(),
                    call->response()->name()->str(),
                    Attribute(*call, "streaming")};
    }
  }
  return absl::NotFoundError(absl::StrCat(
      "unknown method \"", method, "\" of ", found->name()->str(), "; it has ",
      methods.empty() ? "no method" : absl::StrJoin(methods, ", ")));
}

absl::StatusOr<std::string> FbsSchema::Describe(
    absl::string_view service, absl::string_view method) const {
  const reflection::Schema& s = schema();
  absl::StatusOr<Method> probe = FindMethod(service, method);
  if (!probe.ok() && !method.empty()) return probe.status();
  const reflection::Service* svc = nullptr;
  for (const reflection::Service* candidate : *s.services()) {
    if (View(candidate->name()) == service ||
        SimpleName(View(candidate->name())) == service) {
      svc = candidate;
    }
  }
  if (svc == nullptr) return FindMethod(service, "").status();
  std::string out = absl::StrCat("rpc_service ", svc->name()->str(), " {\n");
  std::vector<const reflection::Object*> objects;
  std::set<const reflection::Object*> seen;
  for (const reflection::RPCCall* call : *svc->calls()) {
    if (!method.empty() && View(call->name()) != method) continue;
    std::string streaming = Attribute(*call, "streaming");
    absl::StrAppend(
        &out, "  ", call->name()->str(), "(", call->request()->name()->str(),
        "):", call->response()->name()->str(),
        streaming.empty() ? ""
                          : absl::StrCat(" (streaming: \"", streaming, "\")"),
        ";\n");
    CollectObjects(s, call->request(), objects, seen);
    CollectObjects(s, call->response(), objects, seen);
  }
  out += "}\n";
  for (const reflection::Object* obj : objects) DescribeObject(s, *obj, out);
  return out;
}

absl::StatusOr<std::string> FbsSchema::JsonToBinary(
    absl::string_view type, absl::string_view json) const {
  flatbuffers::Parser parser;
  if (!parser.Deserialize(reinterpret_cast<const uint8_t*>(bytes_.data()),
                          bytes_.size())) {
    return absl::InvalidArgumentError(
        "flatbuffers' Parser cannot load the service's binary schema");
  }
  if (!parser.SetRootType(std::string(type).c_str())) {
    return absl::InvalidArgumentError(
        absl::StrCat("the schema has no table ", type));
  }
  if (!parser.ParseJson(std::string(json).c_str())) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad JSON for ", type, ": ", parser.error_));
  }
  return std::string(
      reinterpret_cast<const char*>(parser.builder_.GetBufferPointer()),
      parser.builder_.GetSize());
}

absl::StatusOr<std::string> FbsSchema::BinaryToJson(
    absl::string_view type, absl::string_view bytes) const {
  const reflection::Schema& s = schema();
  const reflection::Object* root =
      s.objects()->LookupByKey(std::string(type).c_str());
  if (root == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("the schema has no table ", type));
  }
  if (!flatbuffers::Verify(s, *root,
                           reinterpret_cast<const uint8_t*>(bytes.data()),
                           bytes.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reply of ", bytes.size(), " bytes is not a valid ", type));
  }
  flatbuffers::Parser parser;
  parser.opts.strict_json = true;
  parser.opts.indent_step = -1;
  if (!parser.Deserialize(reinterpret_cast<const uint8_t*>(bytes_.data()),
                          bytes_.size()) ||
      !parser.SetRootType(std::string(type).c_str())) {
    return absl::InvalidArgumentError(
        "flatbuffers' Parser cannot load the service's binary schema");
  }
  std::string text;
  if (!flatbuffers::GenerateText(parser, bytes.data(), &text)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot print a ", type));
  }
  return text;
}

}  // namespace natsrpc::cli
