// Copyright 2026 The natsrpc Authors.
//
// natsrpc/proto_schema.h: a DescriptorPool from a FileDescriptorSet or from
// .proto files (protobuf's compiler::Importer), and its dynamic messages.

#include "natsrpc/proto_schema.h"

#include <functional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/compiler/importer.h"
#include "google/protobuf/descriptor.pb.h"

namespace natsrpc {
namespace {

namespace pb = ::google::protobuf;

// Collects DescriptorPool's errors as text.
class PoolErrors final : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const pb::Message* /*descriptor*/, ErrorLocation /*location*/,
                const std::string& message) override {
    errors_.push_back(
        absl::StrCat(filename, ": ", element_name, ": ", message));
  }
  std::string text() const { return absl::StrJoin(errors_, "; "); }

 private:
  std::vector<std::string> errors_;
};

// Collects the parser's errors as protoc prints them.
class ParseErrors final : public pb::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& filename, int line, int column,
                const std::string& message) override {
    if (line >= 0) {
      errors_.push_back(absl::StrCat(filename, ":", line + 1, ":", column + 1,
                                     ": ", message));
    } else {
      errors_.push_back(absl::StrCat(filename, ": ", message));
    }
  }
  std::string text() const { return absl::StrJoin(errors_, "; "); }

 private:
  std::vector<std::string> errors_;
};

}  // namespace

struct ProtoSchema::ImportState {
  pb::compiler::DiskSourceTree tree;
  ParseErrors errors;
  std::unique_ptr<pb::compiler::Importer> importer;
};

ProtoSchema::ProtoSchema() = default;
ProtoSchema::~ProtoSchema() {
  // Messages reference the pool: the factory goes first.
  factory_.reset();
}

absl::StatusOr<std::unique_ptr<ProtoSchema>> ProtoSchema::FromFileDescriptorSet(
    absl::string_view serialized) {
  pb::FileDescriptorSet set;
  if (!set.ParseFromArray(serialized.data(),
                          static_cast<int>(serialized.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema of ", serialized.size(),
                     " bytes is not a serialized FileDescriptorSet"));
  }
  std::unique_ptr<ProtoSchema> schema(new ProtoSchema());
  schema->owned_pool_ = std::make_unique<pb::DescriptorPool>();
  for (const pb::FileDescriptorProto& file : set.file()) {
    PoolErrors errors;
    const pb::FileDescriptor* built =
        schema->owned_pool_->BuildFileCollectingErrors(file, &errors);
    if (built == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "schema file ", file.name(), " does not build: ", errors.text()));
    }
    schema->files_.push_back(built);
  }
  schema->pool_ = schema->owned_pool_.get();
  schema->factory_ = std::make_unique<pb::DynamicMessageFactory>(schema->pool_);
  return schema;
}

absl::StatusOr<std::unique_ptr<ProtoSchema>> ProtoSchema::FromProtoFiles(
    absl::Span<const std::string> files,
    absl::Span<const std::string> import_paths) {
  if (files.empty()) {
    return absl::InvalidArgumentError("no .proto file given");
  }
  std::unique_ptr<ProtoSchema> schema(new ProtoSchema());
  schema->import_ = std::make_unique<ImportState>();
  ImportState& state = *schema->import_;
  for (const std::string& path : import_paths) {
    state.tree.MapPath("", path);
  }
  state.importer =
      std::make_unique<pb::compiler::Importer>(&state.tree, &state.errors);
  std::set<const pb::FileDescriptor*> seen;
  std::function<void(const pb::FileDescriptor*)> add =
      [&](const pb::FileDescriptor* f) {
        if (!seen.insert(f).second) return;
        for (int i = 0; i < f->dependency_count(); ++i) add(f->dependency(i));
        schema->files_.push_back(f);
      };
  for (const std::string& file : files) {
    // A path given as it is on disk is made relative to an import path, as
    // protoc does.
    std::string virtual_file = file;
    std::string shadowing;
    if (state.tree.DiskFileToVirtualFile(file, &virtual_file, &shadowing) ==
        pb::compiler::DiskSourceTree::NO_MAPPING) {
      virtual_file = file;
    }
    const pb::FileDescriptor* f = state.importer->Import(virtual_file);
    if (f == nullptr) {
      std::string why = state.errors.text();
      if (why.empty()) why = "not found in the import paths";
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot load ", file, " (import paths: ",
          import_paths.empty() ? "none" : absl::StrJoin(import_paths, ", "),
          "): ", why));
    }
    add(f);
  }
  schema->pool_ = state.importer->pool();
  schema->factory_ = std::make_unique<pb::DynamicMessageFactory>(schema->pool_);
  return schema;
}

std::vector<const pb::ServiceDescriptor*> ProtoSchema::services() const {
  std::vector<const pb::ServiceDescriptor*> out;
  for (const pb::FileDescriptor* f : files_) {
    for (int i = 0; i < f->service_count(); ++i) out.push_back(f->service(i));
  }
  return out;
}

absl::StatusOr<const pb::ServiceDescriptor*> ProtoSchema::FindService(
    absl::string_view name) const {
  if (const pb::ServiceDescriptor* s =
          pool_->FindServiceByName(std::string(name));
      s != nullptr) {
    return s;
  }
  std::vector<const pb::ServiceDescriptor*> all = services();
  std::vector<const pb::ServiceDescriptor*> simple;
  std::vector<std::string> names;
  for (const pb::ServiceDescriptor* s : all) {
    names.push_back(s->full_name());
    if (s->name() == name) simple.push_back(s);
  }
  if (simple.size() == 1) return simple[0];
  if (simple.size() > 1) {
    std::vector<std::string> which;
    for (const pb::ServiceDescriptor* s : simple)
      which.push_back(s->full_name());
    return absl::NotFoundError(
        absl::StrCat("service name \"", name,
                     "\" is ambiguous: ", absl::StrJoin(which, ", ")));
  }
  return absl::NotFoundError(
      absl::StrCat("unknown service \"", name, "\"; the schema has ",
                   names.empty() ? "no service" : absl::StrJoin(names, ", ")));
}

absl::StatusOr<const pb::MethodDescriptor*> ProtoSchema::FindMethod(
    absl::string_view service, absl::string_view method) const {
  absl::StatusOr<const pb::ServiceDescriptor*> s = FindService(service);
  if (!s.ok()) return s.status();
  if (const pb::MethodDescriptor* m =
          (*s)->FindMethodByName(std::string(method));
      m != nullptr) {
    return m;
  }
  std::vector<std::string> names;
  for (int i = 0; i < (*s)->method_count(); ++i) {
    names.push_back((*s)->method(i)->name());
  }
  return absl::NotFoundError(absl::StrCat(
      "unknown method \"", method, "\" of ", (*s)->full_name(), "; it has ",
      names.empty() ? "no method" : absl::StrJoin(names, ", ")));
}

std::unique_ptr<pb::Message> ProtoSchema::NewMessage(
    const pb::Descriptor& type) const {
  return std::unique_ptr<pb::Message>(factory_->GetPrototype(&type)->New());
}

CallKind ProtoSchema::KindOf(const pb::MethodDescriptor& method) {
  if (method.client_streaming() && method.server_streaming()) {
    return CallKind::kBidiStreaming;
  }
  if (method.client_streaming()) return CallKind::kClientStreaming;
  if (method.server_streaming()) return CallKind::kServerStreaming;
  return CallKind::kUnary;
}

}  // namespace natsrpc
