// Copyright 2026 The natsrpc Authors.
//
// Every naming rule of the generator: C++ keyword escaping, collision
// resolution, the names protoc gives message classes, apps, header guards and
// safe comments. Front ends call these to fill the model (model.h); the
// emitter calls the comment and guard helpers. Each function shows
// input -> output.
//
// The rules in one place:
//
//  1. A service or method name that is a C++ keyword, alternative token or
//     one of a few troublesome macros gets `_` appended
//     (EscapeIdentifier).
//  2. A name that collides with a name the generated code itself defines, or
//     with a name already taken, gets `_` appended until it is unique
//     (Uniquify). For methods the blocking name `X`, the async name
//     `XAsync` (also the handler of Svc::AsyncService), the name `XRaw` (the
//     virtual behind a streaming call in the mockable ClientInterface) and
//     the coroutine call `XCo` must all be free; methods are resolved
//     in IDL order, so in a service with `Add` then `AddAsync`, the second
//     becomes `AddAsync_` (async: `AddAsync_Async`).
//  3. The wire name (subjects, method table, errors) is always the IDL name.
//  4. Message classes and namespaces are spelled exactly as protoc 3.21's C++
//     generator spells them, so that they name its classes: nested messages
//     join with `_` (`Outer.Inner` -> `Outer_Inner`), a class name in protoc's
//     keyword list gets `_` (`new` -> `new_`), and package components are
//     NOT escaped (protoc 3.21 writes `namespace delete {` itself).

#ifndef NATSRPC_PLUGIN_NAMES_H_
#define NATSRPC_PLUGIN_NAMES_H_

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace natsrpc::gen {

using NameSet = std::set<std::string, std::less<>>;

// True for the 84 words protoc 3.21 appends `_` to in C++ class names
// (its kKeywords list: C++11 keywords, alternative tokens and NULL).
//
//   IsProtocKeyword("new")      -> true
//   IsProtocKeyword("co_await") -> false  (protoc 3.21 predates C++20)
bool IsProtocKeyword(absl::string_view name);

// protoc's ResolveKeyword().
//
//   ProtocResolveKeyword("new")  -> "new_"
//   ProtocResolveKeyword("Outer") -> "Outer"
std::string ProtocResolveKeyword(absl::string_view name);

// The C++ class protoc generates for a message or enum, given the IDL names
// from the outermost containing message inwards.
//
//   ProtocClassName({"AddRequest"})       -> "AddRequest"
//   ProtocClassName({"Outer", "Inner"})   -> "Outer_Inner"
//   ProtocClassName({"new"})              -> "new_"
//   ProtocClassName({"new", "int"})       -> "new__int"
std::string ProtocClassName(absl::Span<const std::string> nesting);

// The C++ namespace components protoc uses for a package.
//
//   PackageNamespaces("example.v1")    -> {"example", "v1"}
//   PackageNamespaces("")              -> {}
//   PackageNamespaces("delete.v1")     -> {"delete", "v1"}  (as protoc 3.21)
std::vector<std::string> PackageNamespaces(absl::string_view package);

// The fully qualified C++ spelling of a protoc message class.
//
//   QualifiedProtocClass("example.v1", {"AddRequest"})
//       -> "::example::v1::AddRequest"
//   QualifiedProtocClass("", {"Outer", "Inner"}) -> "::Outer_Inner"
std::string QualifiedProtocClass(absl::string_view package,
                                 absl::Span<const std::string> nesting);

// True for the words flatc 2.0.8's C++ generator appends `_` to in type
// names (checked against flatc's output: tests/fbs/fbs_front_end_test.cc).
// Unlike protoc's list it has co_await, requires and atomic_* but not NULL.
//
//   IsFlatcKeyword("new")      -> true
//   IsFlatcKeyword("co_await") -> true
//   IsFlatcKeyword("NULL")     -> false
bool IsFlatcKeyword(absl::string_view name);

// The fully qualified C++ spelling of a FlatBuffers table as flatc 2.0.8
// names it: namespace components as written (flatc does not escape them),
// the table name escaped.
//
//   QualifiedFlatcType({"example", "v1"}, "AddRequest")
//       -> "::example::v1::AddRequest"
//   QualifiedFlatcType({}, "new")  -> "::new_"
std::string QualifiedFlatcType(absl::Span<const std::string> namespaces,
                               absl::string_view name);

// True if `name` must not be used as an identifier we declare: every C++20
// keyword and alternative token, protoc's list (NULL), and macros of the
// C/C++ standard libraries and GNU mode that would expand inside a
// declaration (assert, errno, EOF, major, minor, linux, unix).
//
//   IsReservedWord("delete")   -> true
//   IsReservedWord("co_await") -> true
//   IsReservedWord("assert")   -> true
//   IsReservedWord("Delete")   -> false
bool IsReservedWord(absl::string_view name);

// Rule 1.
//
//   EscapeIdentifier("delete")  -> "delete_"
//   EscapeIdentifier("requires") -> "requires_"
//   EscapeIdentifier("Add")     -> "Add"
std::string EscapeIdentifier(absl::string_view name);

// Rule 2: appends `_` until `name` is not in `taken`.
//
//   Uniquify("Client", {"Client"})             -> "Client_"
//   Uniquify("Client", {"Client", "Client_"})  -> "Client__"
//   Uniquify("Add", {})                        -> "Add"
std::string Uniquify(std::string name, const NameSet& taken);

// Names the generated `Svc::Client`, `Svc::ClientInterface`,
// `Svc::MockClient`, `Svc::Service` and `Svc::AsyncService` classes declare
// or use unqualified,
// which a method therefore must not take: the nested classes and
// constructors, the static constants, the channel, and the members of
// ::natsrpc::Service.
//
//   {"Client", "Service", "kServiceName", "kDefaultApp", "status", "stats",
//    "channel_", "service_name", "default_app", "RegisterMethod",
//    "ClientInterface", "MockClient", "AsyncService"}
const NameSet& GeneratedMemberNames();

// The C++ names of one method: the blocking call (also the server's virtual
// method), the asynchronous call, and the virtual a streaming call's
// ClientInterface form calls (the one a MockClient mocks).
struct MethodIdentifiers {
  std::string call;
  std::string async_call;
  std::string raw_call;
  // The client's coroutine call of a unary method (natsrpc/coro.h).
  std::string co_call;
};

// Rules 1 and 2 for all methods of one service, in IDL order.
//
//   AssignMethodIdentifiers({"Add", "AddAsync", "Client", "delete", "Get",
//                            "get"})
//     -> {{"Add", "AddAsync", "AddRaw", "AddCo"},
//         {"AddAsync_", "AddAsync_Async", "AddAsync_Raw", "AddAsync_Co"},
//         {"Client_", "Client_Async", "Client_Raw", "Client_Co"},
//         {"delete_", "delete_Async", "delete_Raw", "delete_Co"},
//         {"Get", "GetAsync", "GetRaw", "GetCo"},
//         {"get", "getAsync", "getRaw", "getCo"}}
std::vector<MethodIdentifiers> AssignMethodIdentifiers(
    absl::Span<const std::string> idl_names);

// Rules 1 and 2 for a service class at namespace scope. `taken` holds the
// names already defined in that namespace (protoc's classes, enum values,
// other services); `Client`, `Service`, `ClientInterface`, `MockClient` and
// `AsyncService` are refused (a nested class may not share its enclosing class's name), and so
// are `std`, `absl`, `google` and `natsrpc` in the global namespace.
//
//   ServiceClassName("Calculator", {}, false)       -> "Calculator"
//   ServiceClassName("class", {}, false)            -> "class_"
//   ServiceClassName("Service", {}, false)          -> "Service_"
//   ServiceClassName("Outer_Inner", {"Outer_Inner"}, false) -> "Outer_Inner_"
//   ServiceClassName("absl", {}, true)              -> "absl_"
std::string ServiceClassName(absl::string_view idl_name, const NameSet& taken,
                             bool global_namespace);

// The method table of a service in the generated .cc, unique among `taken`
// (the namespace's names and the service's method identifiers).
//
//   MethodTableName("Calculator", {})  -> "kCalculatorMethods"
//   MethodTableName("class_", {})      -> "kclass_Methods"
std::string MethodTableName(absl::string_view service_class,
                            const NameSet& taken);

// The default app of a package: the runtime's rule, runtime/src/wire/app.h.
//
//   DefaultApp("example.v1") -> "example_v1"
//   DefaultApp("")           -> "default"
std::string DefaultApp(absl::string_view package);

// Empty if `token` is a NATS subject token ([A-Za-z0-9_-]+), else why not.
//
//   TokenError("calc")  -> ""
//   TokenError("a.b")   -> "character '.' at offset 1 is not one of
//                          [A-Za-z0-9_-]"
//   TokenError("")      -> "it is empty"
std::string TokenError(absl::string_view token);

// Drops a final ".proto" (or ".fbs", or any extension after the last '/').
//
//   StripExtension("example/v1/calculator.proto") -> "example/v1/calculator"
//   StripExtension("a.b/c")                       -> "a.b/c"
std::string StripExtension(absl::string_view path);

// The include guard of a generated header.
//
//   HeaderGuard("example/v1/calculator.natsrpc.h")
//     -> "NATSRPC_GENERATED_EXAMPLE_V1_CALCULATOR_NATSRPC_H_"
std::string HeaderGuard(absl::string_view path);

// Makes raw user text (a doc comment line, a file name) safe as the rest of
// a `//` comment: control characters (CR, LF, NUL, ...) become spaces,
// trailing spaces go, and a line ending in a backslash (or the trigraph
// `??/`) gets a `.` appended so it cannot continue onto the next line.
// `$`, `*/`, quotes and UTF-8 pass through unchanged.
//
//   SafeCommentText(" Returns a + b.")  -> " Returns a + b."
//   SafeCommentText(" path C:\\dir\\")  -> " path C:\\dir\\."
//   SafeCommentText(" a\rb */ $x$")     -> " a b */ $x$"
std::string SafeCommentText(absl::string_view text);

// Splits a comment as the IDL compiler returns it (lines joined by '\n',
// usually with a trailing '\n') into lines, dropping leading and trailing
// blank lines.
//
//   SplitDocComment(" Returns a + b.\n")        -> {" Returns a + b."}
//   SplitDocComment(" One.\n\n Two.\n\n")       -> {" One.", "", " Two."}
std::vector<std::string> SplitDocComment(absl::string_view comment);

// Escapes `text` for use inside a C++ string literal ("..."), e.g. a file
// name in an #error message.
//
//   CppStringContent("a\"b\\c") -> "a\\\"b\\\\c"
std::string CppStringContent(absl::string_view text);

}  // namespace natsrpc::gen

#endif  // NATSRPC_PLUGIN_NAMES_H_
