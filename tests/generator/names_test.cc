// Copyright 2026 The natsrpc Authors.
//
// The worked examples of plugin/names.h, and the claim that our spelling of
// protoc's classes and namespaces is protoc's: checked by running the protoc
// on this machine.

#include "names.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness.h"

namespace natsrpc::gen {
namespace {

using ::testing::ElementsAre;

TEST(NamesTest, Escaping) {
  EXPECT_EQ(EscapeIdentifier("delete"), "delete_");
  EXPECT_EQ(EscapeIdentifier("requires"), "requires_");
  EXPECT_EQ(EscapeIdentifier("co_await"), "co_await_");
  EXPECT_EQ(EscapeIdentifier("assert"), "assert_");
  EXPECT_EQ(EscapeIdentifier("NULL"), "NULL_");
  EXPECT_EQ(EscapeIdentifier("Add"), "Add");
  EXPECT_EQ(EscapeIdentifier("Delete"), "Delete");
  EXPECT_EQ(EscapeIdentifier("final"), "final");  // contextual, allowed
}

TEST(NamesTest, Uniquify) {
  EXPECT_EQ(Uniquify("Client", {"Client"}), "Client_");
  EXPECT_EQ(Uniquify("Client", {"Client", "Client_"}), "Client__");
  EXPECT_EQ(Uniquify("Add", {}), "Add");
}

TEST(NamesTest, MethodIdentifiers) {
  std::vector<MethodIdentifiers> ids = AssignMethodIdentifiers(
      {"Add", "AddAsync", "Client", "delete", "Get", "get", "status"});
  std::vector<std::string> flat;
  for (const auto& id : ids) {
    flat.push_back(id.call + "/" + id.async_call);
  }
  EXPECT_THAT(flat, ElementsAre("Add/AddAsync", "AddAsync_/AddAsync_Async",
                                "Client_/Client_Async", "delete_/delete_Async",
                                "Get/GetAsync", "get/getAsync",
                                "status_/status_Async"));
  // Order decides who keeps the plain name.
  ids = AssignMethodIdentifiers({"AddAsync", "Add"});
  EXPECT_EQ(ids[0].call, "AddAsync");
  EXPECT_EQ(ids[1].call, "Add_");
  EXPECT_EQ(ids[1].async_call, "Add_Async");
  // The mockable client's names: the nested classes, and `XRaw` (the
  // virtual behind a streaming call) is reserved like `XAsync`.
  ids = AssignMethodIdentifiers(
      {"Watch", "WatchRaw", "ClientInterface", "MockClient"});
  flat.clear();
  for (const auto& id : ids) {
    flat.push_back(id.call + "/" + id.async_call + "/" + id.raw_call);
  }
  EXPECT_THAT(flat, ElementsAre("Watch/WatchAsync/WatchRaw",
                                "WatchRaw_/WatchRaw_Async/WatchRaw_Raw",
                                "ClientInterface_/ClientInterface_Async/"
                                "ClientInterface_Raw",
                                "MockClient_/MockClient_Async/MockClient_Raw"));
  // Asynchronous forms (natsrpc/async.h, natsrpc/coro.h): `XCo` is reserved
  // too, and `AsyncService` is a nested class.
  ids = AssignMethodIdentifiers({"Add", "AddCo", "AsyncService"});
  flat.clear();
  for (const auto& id : ids) {
    flat.push_back(id.call + "/" + id.async_call + "/" + id.co_call);
  }
  EXPECT_THAT(flat,
              ElementsAre("Add/AddAsync/AddCo", "AddCo_/AddCo_Async/AddCo_Co",
                          "AsyncService_/AsyncService_Async/AsyncService_Co"));
  EXPECT_EQ(ServiceClassName("AsyncService", {}, false), "AsyncService_");
}

TEST(NamesTest, ServiceClassName) {
  EXPECT_EQ(ServiceClassName("Calculator", {}, false), "Calculator");
  EXPECT_EQ(ServiceClassName("class", {}, false), "class_");
  EXPECT_EQ(ServiceClassName("class", {"class_"}, false), "class__");
  EXPECT_EQ(ServiceClassName("Service", {}, false), "Service_");
  EXPECT_EQ(ServiceClassName("Client", {}, false), "Client_");
  EXPECT_EQ(ServiceClassName("ClientInterface", {}, false), "ClientInterface_");
  EXPECT_EQ(ServiceClassName("MockClient", {}, false), "MockClient_");
  EXPECT_EQ(ServiceClassName("Outer_Inner", {"Outer_Inner"}, false),
            "Outer_Inner_");
  EXPECT_EQ(ServiceClassName("absl", {}, true), "absl_");
  EXPECT_EQ(ServiceClassName("absl", {}, false), "absl");
}

TEST(NamesTest, ProtocSpelling) {
  EXPECT_EQ(ProtocClassName({"AddRequest"}), "AddRequest");
  EXPECT_EQ(ProtocClassName({"Outer", "Inner"}), "Outer_Inner");
  EXPECT_EQ(ProtocClassName({"new"}), "new_");
  EXPECT_EQ(ProtocClassName({"new", "int"}), "new__int");
  EXPECT_EQ(QualifiedProtocClass("example.v1", {"AddRequest"}),
            "::example::v1::AddRequest");
  EXPECT_EQ(QualifiedProtocClass("", {"Outer", "Inner"}), "::Outer_Inner");
  EXPECT_THAT(PackageNamespaces("example.v1"), ElementsAre("example", "v1"));
  EXPECT_TRUE(PackageNamespaces("").empty());
}

TEST(NamesTest, AppsAndPaths) {
  EXPECT_EQ(DefaultApp("example.v1"), "example_v1");
  EXPECT_EQ(DefaultApp(""), "default");
  EXPECT_EQ(TokenError("calc-1_x"), "");
  EXPECT_EQ(TokenError("a.b"),
            "character '.' at offset 1 is not one of [A-Za-z0-9_-]");
  EXPECT_EQ(TokenError(""), "it is empty");
  EXPECT_EQ(TokenError("a\nb"),
            "character '\\n' at offset 1 is not one of [A-Za-z0-9_-]");
  EXPECT_EQ(StripExtension("example/v1/calculator.proto"),
            "example/v1/calculator");
  EXPECT_EQ(StripExtension("a.b/c"), "a.b/c");
  EXPECT_EQ(HeaderGuard("example/v1/calculator.natsrpc.h"),
            "NATSRPC_GENERATED_EXAMPLE_V1_CALCULATOR_NATSRPC_H_");
}

TEST(NamesTest, SafeComments) {
  EXPECT_EQ(SafeCommentText(" Returns a + b."), " Returns a + b.");
  EXPECT_EQ(SafeCommentText(" path C:\\dir\\"), " path C:\\dir\\.");
  EXPECT_EQ(SafeCommentText(" spaces after \\   "), " spaces after \\.");
  EXPECT_EQ(SafeCommentText(" trigraph ?\?/"), " trigraph ?\?/.");
  EXPECT_EQ(SafeCommentText(" a\rb */ $x$"), " a b */ $x$");
  EXPECT_EQ(SafeCommentText(std::string(" nul\0x", 6)), " nul x");
  EXPECT_EQ(SafeCommentText(" caf\xc3\xa9"), " caf\xc3\xa9");
  EXPECT_THAT(SplitDocComment(" Returns a + b.\n"),
              ElementsAre(" Returns a + b."));
  EXPECT_THAT(SplitDocComment("\n One.\n\n Two.\n\n"),
              ElementsAre(" One.", "", " Two."));
  EXPECT_EQ(CppStringContent("a\"b\\c?\?/"), "a\\\"b\\\\c\\?\\?/");
}

// Runs protoc --cpp_out on messages named by every word we treat specially
// and checks that ProtocClassName() predicts each class protoc declares, and
// that PackageNamespaces() predicts protoc's namespaces for a package made of
// keywords.
TEST(ProtocAgreementTest, ClassNamesAndNamespacesMatchProtoc) {
  const std::vector<std::string> words = {
      "NULL",         "alignas",   "alignof",       "and",
      "and_eq",       "asm",       "auto",          "bitand",
      "bitor",        "bool",      "break",         "case",
      "catch",        "char",      "char8_t",       "char16_t",
      "char32_t",     "class",     "compl",         "concept",
      "const",        "consteval", "constexpr",     "constinit",
      "const_cast",   "continue",  "co_await",      "co_return",
      "co_yield",     "decltype",  "default",       "delete",
      "do",           "double",    "dynamic_cast",  "else",
      "enum",         "explicit",  "export",        "extern",
      "false",        "float",     "for",           "friend",
      "goto",         "if",        "inline",        "int",
      "long",         "mutable",   "namespace",     "new",
      "noexcept",     "not",       "not_eq",        "nullptr",
      "operator",     "or",        "or_eq",         "private",
      "protected",    "public",    "register",      "reinterpret_cast",
      "requires",     "return",    "short",         "signed",
      "sizeof",       "static",    "static_assert", "static_cast",
      "struct",       "switch",    "template",      "this",
      "thread_local", "throw",     "true",          "try",
      "typedef",      "typeid",    "typename",      "union",
      "unsigned",     "using",     "virtual",       "void",
      "volatile",     "wchar_t",   "while",         "xor",
      "xor_eq",       "assert",    "errno",         "EOF",
      "major",        "minor",     "linux",         "unix",
      "final",        "override"};
  const std::string package = "delete.class.requires.v1";
  std::string proto =
      absl::StrCat("syntax = \"proto3\";\npackage ", package, ";\n");
  for (const std::string& w : words) {
    absl::StrAppend(&proto, "message ", w, " { message int {} }\n");
  }
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/protoc_names_", ::getpid());
  std::string output;
  ASSERT_EQ(testing::RunCommand(absl::StrCat("mkdir -p '", dir, "'"), &output),
            0);
  std::ofstream(dir + "/words.proto") << proto;
  ASSERT_EQ(
      testing::RunCommand(absl::StrCat("cd '", dir, "' && '", PROTOC_EXECUTABLE,
                                       "' --cpp_out=. words.proto"),
                          &output),
      0)
      << output;
  std::string header;
  ASSERT_EQ(
      testing::RunCommand(absl::StrCat("cat '", dir, "/words.pb.h'"), &header),
      0);
  for (const std::string& w : words) {
    const std::string cls = ProtocClassName({w});
    EXPECT_TRUE(
        absl::StrContains(header, absl::StrCat("\nclass ", cls, " final :")))
        << w << " -> " << cls;
    const std::string nested = ProtocClassName({w, "int"});
    EXPECT_TRUE(
        absl::StrContains(header, absl::StrCat("\nclass ", nested, " final :")))
        << w << ".int -> " << nested;
  }
  std::string namespaces;
  for (const std::string& ns : PackageNamespaces(package)) {
    absl::StrAppend(&namespaces, "namespace ", ns, " {\n");
  }
  EXPECT_TRUE(absl::StrContains(header, namespaces)) << namespaces;
}

}  // namespace
}  // namespace natsrpc::gen
