// Copyright 2026 The natsrpc Authors.

#include "proto_front_end.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "compat.h"
#include "durable_names.h"
#include "fanout_model.h"
#include "google/protobuf/descriptor.pb.h"
#include "names.h"
#include "natsrpc/options.pb.h"

namespace natsrpc::gen {
namespace {

namespace pb = ::google::protobuf;

// Options of files compiled into a pool other than the generated one (the
// in-process tests use compiler::Importer) may hold our extensions as
// unknown fields; a round trip through the generated options class, with
// natsrpc/options.pb.cc linked in, parses them.
template <typename Options, typename Id>
auto Extension(const Options& options, const Id& id) {
  if (options.HasExtension(id)) return options.GetExtension(id);
  Options copy;
  copy.ParseFromString(options.SerializeAsString());
  return copy.GetExtension(id);
}

// The names of nested messages from the outermost inwards.
std::vector<std::string> Nesting(const pb::Descriptor& message) {
  std::vector<std::string> names;
  for (const pb::Descriptor* m = &message; m != nullptr;
       m = m->containing_type()) {
    names.insert(names.begin(), compat::ToString(m->name()));
  }
  return names;
}

std::string CppType(const pb::Descriptor& message) {
  return QualifiedProtocClass(compat::ToString(message.file()->package()),
                              Nesting(message));
}

void AddEnumNames(const pb::EnumDescriptor& e, NameSet& names) {
  std::vector<std::string> nesting;
  if (e.containing_type() != nullptr) nesting = Nesting(*e.containing_type());
  const std::string prefix =
      nesting.empty() ? "" : ProtocClassName(nesting) + "_";
  nesting.push_back(compat::ToString(e.name()));
  const std::string cls = ProtocClassName(nesting);
  names.insert(cls);
  for (const char* suffix : {"_IsValid", "_MIN", "_MAX", "_ARRAYSIZE",
                             "_descriptor", "_Name", "_Parse"}) {
    names.insert(cls + suffix);
  }
  for (int i = 0; i < e.value_count(); ++i) {
    names.insert(
        ProtocResolveKeyword(prefix + compat::ToString(e.value(i)->name())));
  }
}

void AddMessageNames(const pb::Descriptor& m, NameSet& names) {
  const std::string cls = ProtocClassName(Nesting(m));
  names.insert(cls);
  names.insert(cls + "DefaultTypeInternal");
  names.insert("_" + cls + "_default_instance_");
  for (int i = 0; i < m.nested_type_count(); ++i) {
    AddMessageNames(*m.nested_type(i), names);
  }
  for (int i = 0; i < m.enum_type_count(); ++i) {
    AddEnumNames(*m.enum_type(i), names);
  }
}

// The names protoc's C++ code (and ours, for other services) defines in the
// namespace of `file`'s package, from `file` and every file it imports with
// the same package.
void AddNamespaceNames(const pb::FileDescriptor& file,
                       const std::string& package, NameSet& names,
                       std::vector<const pb::FileDescriptor*>& seen) {
  for (const pb::FileDescriptor* s : seen) {
    if (s == &file) return;
  }
  seen.push_back(&file);
  if (compat::ToString(file.package()) == package) {
    for (int i = 0; i < file.message_type_count(); ++i) {
      AddMessageNames(*file.message_type(i), names);
    }
    for (int i = 0; i < file.enum_type_count(); ++i) {
      AddEnumNames(*file.enum_type(i), names);
    }
    for (int i = 0; i < file.extension_count(); ++i) {
      names.insert(ProtocResolveKeyword(file.extension(i)->name()));
    }
  }
  for (int i = 0; i < file.dependency_count(); ++i) {
    AddNamespaceNames(*file.dependency(i), package, names, seen);
  }
}

template <typename Descriptor>
std::vector<std::string> DocComment(const Descriptor& d) {
  pb::SourceLocation location;
  if (!d.GetSourceLocation(&location)) return {};
  return SplitDocComment(location.leading_comments.empty()
                             ? location.trailing_comments
                             : location.leading_comments);
}

StreamingKind Streaming(const pb::MethodDescriptor& method) {
  if (method.client_streaming() && method.server_streaming()) {
    return StreamingKind::kBidiStreaming;
  }
  if (method.client_streaming()) return StreamingKind::kClientStreaming;
  if (method.server_streaming()) return StreamingKind::kServerStreaming;
  return StreamingKind::kUnary;
}

// The method's built-in `idempotency_level` (descriptor.proto) lets the
// client retry it: IDEMPOTENT or NO_SIDE_EFFECTS.
bool Idempotent(const pb::MethodDescriptor& method) {
  const auto level = method.options().idempotency_level();
  return level == pb::MethodOptions::IDEMPOTENT ||
         level == pb::MethodOptions::NO_SIDE_EFFECTS;
}

absl::Status CheckApp(const std::string& app, absl::string_view where) {
  if (const std::string why = TokenError(app); !why.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " \"", absl::CHexEscape(app),
                     "\" is not a valid subject token: ", why));
  }
  return absl::OkStatus();
}

// Appends `file` to `set` after everything it imports (each file once), the
// order protoc's --include_imports gives and DescriptorPool::BuildFile needs.
void AddWithImports(const pb::FileDescriptor& file,
                    std::vector<const pb::FileDescriptor*>& added,
                    pb::FileDescriptorSet& set) {
  for (const pb::FileDescriptor* f : added) {
    if (f == &file) return;
  }
  added.push_back(&file);
  for (int i = 0; i < file.dependency_count(); ++i) {
    AddWithImports(*file.dependency(i), added, set);
  }
  pb::FileDescriptorProto* proto = set.add_file();
  file.CopyTo(proto);
  file.CopyJsonNameTo(proto);
}

std::string SerializedDescriptorSet(const pb::FileDescriptor& file) {
  pb::FileDescriptorSet set;
  std::vector<const pb::FileDescriptor*> added;
  AddWithImports(file, added, set);
  std::string bytes;
  set.SerializeToString(&bytes);
  return bytes;
}

}  // namespace

absl::StatusOr<ServiceModel> BuildProtoModel(const pb::FileDescriptor& file,
                                             const GeneratorOptions& options) {
  const std::string file_name = compat::ToString(file.name());
  const std::string package = compat::ToString(file.package());
  const std::string base = StripExtension(file_name);

  ServiceModel model;
  model.idl_file = file_name;
  model.header_file = base + ".natsrpc.h";
  model.source_file = base + ".natsrpc.cc";
  model.header_include = model.header_file;
  model.includes = {base + options.message_header_extension};
  model.namespaces = PackageNamespaces(package);

  const natsrpc::FileOptions file_options =
      Extension(file.options(), natsrpc::file);
  std::string file_app = DefaultApp(package);
  if (!file_options.app().empty()) {
    if (absl::Status s =
            CheckApp(file_options.app(),
                     absl::StrCat(file_name, ": option (natsrpc.file).app"));
        !s.ok()) {
      return s;
    }
    file_app = file_options.app();
  }

  NameSet namespace_names;
  std::vector<const pb::FileDescriptor*> seen;
  AddNamespaceNames(file, package, namespace_names, seen);

  for (int s = 0; s < file.service_count(); ++s) {
    const pb::ServiceDescriptor& service = *file.service(s);
    const natsrpc::ServiceOptions service_options =
        Extension(service.options(), natsrpc::service);

    ServiceDef def;
    def.name = compat::ToString(service.name());
    def.full_name = compat::ToString(service.full_name());
    def.cpp_name = ServiceClassName(def.name, namespace_names, package.empty());
    namespace_names.insert(def.cpp_name);
    def.app = file_app;
    if (!service_options.app().empty()) {
      if (absl::Status st =
              CheckApp(service_options.app(),
                       absl::StrCat(file_name, ": service ", def.full_name,
                                    ": option (natsrpc.service).app"));
          !st.ok()) {
        return st;
      }
      def.app = service_options.app();
    }
    def.doc = DocComment(service);

    std::vector<std::string> idl_names;
    for (int m = 0; m < service.method_count(); ++m) {
      idl_names.push_back(compat::ToString(service.method(m)->name()));
    }
    const std::vector<MethodIdentifiers> ids =
        AssignMethodIdentifiers(idl_names);
    NameSet table_taken = namespace_names;
    for (int m = 0; m < service.method_count(); ++m) {
      const pb::MethodDescriptor& method = *service.method(m);
      const natsrpc::MethodOptions method_options =
          Extension(method.options(), natsrpc::method);
      MethodDef md;
      md.name = idl_names[m];
      md.cpp_name = ids[m].call;
      md.cpp_async_name = ids[m].async_call;
      md.cpp_raw_name = ids[m].raw_call;
      md.cpp_co_name = ids[m].co_call;
      md.request_type = CppType(*method.input_type());
      md.response_type = CppType(*method.output_type());
      md.request_type_name = compat::ToString(method.input_type()->full_name());
      md.response_type_name =
          compat::ToString(method.output_type()->full_name());
      md.codec = "::natsrpc::ProtobufCodec";
      md.streaming = Streaming(method);
      md.timeout_ms =
          method_options.timeout_ms() != 0    ? method_options.timeout_ms()
          : service_options.timeout_ms() != 0 ? service_options.timeout_ms()
                                              : file_options.timeout_ms();
      md.doc = DocComment(method);
      // Durable requests (docs/protocol.md section 14).
      md.durable =
          method_options.durable() ||
          (service_options.durable() && md.streaming == StreamingKind::kUnary);
      md.idempotent = Idempotent(method);
      if (absl::Status st = ApplyEventOptions(
              md, method_options.event() || service_options.events(),
              method_options.broadcast() ||
                  (service_options.broadcast_events() &&
                   (method_options.event() || service_options.events())),
              absl::StrCat(file_name, ": service ", def.full_name, ", method ",
                           md.name));
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
    if (absl::Status st = AssignDurableNames(def, file_name); !st.ok()) {
      return st;
    }
    model.services.push_back(std::move(def));
  }
  if (!model.services.empty()) {
    model.schema = SerializedDescriptorSet(file);
    model.schema_encoding =
        "::natsrpc::SchemaEncoding::kProtobufFileDescriptorSet";
    model.schema_array_name = Uniquify("kNatsrpcSchema", namespace_names);
  }
  return model;
}

}  // namespace natsrpc::gen
