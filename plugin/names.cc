// Copyright 2026 The natsrpc Authors.

#include "names.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "compat.h"
#include "wire/app.h"

namespace natsrpc::gen {
namespace {

// protoc 3.21 compiler/cpp/helpers.cc kKeywords, checked against protoc's
// output (tests/generator/names_test.cc runs protoc on every entry).
const NameSet& ProtocKeywords() {
  static const auto* const kWords = new NameSet{
      "NULL",
      "alignas",
      "alignof",
      "and",
      "and_eq",
      "asm",
      "auto",
      "bitand",
      "bitor",
      "bool",
      "break",
      "case",
      "catch",
      "char",
      "class",
      "compl",
      "const",
      "constexpr",
      "const_cast",
      "continue",
      "decltype",
      "default",
      "delete",
      "do",
      "double",
      "dynamic_cast",
      "else",
      "enum",
      "explicit",
      "export",
      "extern",
      "false",
      "float",
      "for",
      "friend",
      "goto",
      "if",
      "inline",
      "int",
      "long",
      "mutable",
      "namespace",
      "new",
      "noexcept",
      "not",
      "not_eq",
      "nullptr",
      "operator",
      "or",
      "or_eq",
      "private",
      "protected",
      "public",
      "register",
      "reinterpret_cast",
      "return",
      "short",
      "signed",
      "sizeof",
      "static",
      "static_assert",
      "static_cast",
      "struct",
      "switch",
      "template",
      "this",
      "thread_local",
      "throw",
      "true",
      "try",
      "typedef",
      "typeid",
      "typename",
      "union",
      "unsigned",
      "using",
      "virtual",
      "void",
      "volatile",
      "wchar_t",
      "while",
      "xor",
      "xor_eq",
  };
  return *kWords;
}

// What C++20 added to protoc's list, plus macros that break declarations.
const NameSet& ExtraReservedWords() {
  static const auto* const kWords = new NameSet{
      // C++20 keywords (and char16_t/char32_t, missing from protoc's list).
      "char8_t", "char16_t", "char32_t", "concept", "consteval", "constinit",
      "co_await", "co_return", "co_yield", "requires",
      // Macros: <cassert>, <cerrno>, <cstdio>, glibc <sys/sysmacros.h>, and
      // GCC's predefined ones in GNU mode.
      "assert", "errno", "EOF", "major", "minor", "linux", "unix"};
  return *kWords;
}

// flatc 2.0.8 idl_gen_cpp.cpp's keyword list, as observed in its output.
const NameSet& FlatcKeywords() {
  static const auto* const kWords = new NameSet{
      "alignas", "alignof", "and", "and_eq", "asm", "atomic_cancel",
      "atomic_commit", "atomic_noexcept", "auto", "bitand", "bitor", "bool",
      "break", "case", "catch", "char", "char16_t", "char32_t", "class",
      "compl", "concept", "const", "constexpr", "const_cast", "continue",
      "co_await", "co_return", "co_yield", "decltype", "default", "delete",
      "do", "double", "dynamic_cast", "else", "enum", "explicit", "export",
      "extern", "false", "float", "for", "friend", "goto", "if", "import",
      "inline", "int", "long", "module", "mutable", "namespace", "new",
      "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq",
      "private", "protected", "public", "register", "reinterpret_cast",
      "requires", "return", "short", "signed", "sizeof", "static",
      "static_assert", "static_cast", "struct", "switch", "synchronized",
      "template", "this", "thread_local", "throw", "true", "try", "typedef",
      "typeid", "typename", "union", "unsigned", "using", "virtual", "void",
      "volatile", "wchar_t", "while", "xor", "xor_eq"};
  return *kWords;
}

}  // namespace

bool IsProtocKeyword(absl::string_view name) {
  return ProtocKeywords().contains(name);
}

std::string ProtocResolveKeyword(absl::string_view name) {
  return IsProtocKeyword(name) ? absl::StrCat(name, "_") : std::string(name);
}

std::string ProtocClassName(absl::Span<const std::string> nesting) {
  std::string name;
  for (const std::string& part : nesting) {
    name = ProtocResolveKeyword(name.empty() ? part
                                             : absl::StrCat(name, "_", part));
  }
  return name;
}

std::vector<std::string> PackageNamespaces(absl::string_view package) {
  std::vector<std::string> parts;
  for (absl::string_view part :
       absl::StrSplit(package, '.', absl::SkipEmpty())) {
    parts.push_back(compat::ProtocNamespaceComponent(part));
  }
  return parts;
}

std::string QualifiedProtocClass(absl::string_view package,
                                 absl::Span<const std::string> nesting) {
  std::string out;
  for (const std::string& ns : PackageNamespaces(package)) {
    absl::StrAppend(&out, "::", ns);
  }
  absl::StrAppend(&out, "::", ProtocClassName(nesting));
  return out;
}

bool IsFlatcKeyword(absl::string_view name) {
  return FlatcKeywords().contains(name);
}

std::string QualifiedFlatcType(absl::Span<const std::string> namespaces,
                               absl::string_view name) {
  std::string out;
  for (const std::string& ns : namespaces) absl::StrAppend(&out, "::", ns);
  absl::StrAppend(&out, "::", name, IsFlatcKeyword(name) ? "_" : "");
  return out;
}

bool IsReservedWord(absl::string_view name) {
  return ProtocKeywords().contains(name) || ExtraReservedWords().contains(name);
}

std::string EscapeIdentifier(absl::string_view name) {
  return IsReservedWord(name) ? absl::StrCat(name, "_") : std::string(name);
}

std::string Uniquify(std::string name, const NameSet& taken) {
  while (taken.contains(name)) name += '_';
  return name;
}

const NameSet& GeneratedMemberNames() {
  static const auto* const kNames = new NameSet{
      "Client",       "Service",        "kServiceName",    "kDefaultApp",
      "status",       "stats",          "channel_",        "service_name",
      "default_app",  "RegisterMethod", "ClientInterface", "MockClient",
      "AsyncService"};
  return *kNames;
}

std::vector<MethodIdentifiers> AssignMethodIdentifiers(
    absl::Span<const std::string> idl_names) {
  NameSet taken = GeneratedMemberNames();
  std::vector<MethodIdentifiers> out;
  out.reserve(idl_names.size());
  for (const std::string& idl : idl_names) {
    std::string base = EscapeIdentifier(idl);
    while (taken.contains(base) || taken.contains(base + "Async") ||
           taken.contains(base + "Raw") || taken.contains(base + "Co")) {
      base += '_';
    }
    MethodIdentifiers ids{base, base + "Async", base + "Raw", base + "Co"};
    taken.insert(ids.call);
    taken.insert(ids.async_call);
    taken.insert(ids.raw_call);
    taken.insert(ids.co_call);
    out.push_back(std::move(ids));
  }
  return out;
}

std::string ServiceClassName(absl::string_view idl_name, const NameSet& taken,
                             bool global_namespace) {
  std::string name = EscapeIdentifier(idl_name);
  static const auto* const kNested =
      new NameSet{"Client", "Service", "ClientInterface", "MockClient",
                  "AsyncService"};
  static const auto* const kGlobal =
      new NameSet{"std", "absl", "google", "natsrpc"};
  while (taken.contains(name) || kNested->contains(name) ||
         (global_namespace && kGlobal->contains(name))) {
    name += '_';
  }
  return name;
}

std::string MethodTableName(absl::string_view service_class,
                            const NameSet& taken) {
  return Uniquify(absl::StrCat("k", service_class, "Methods"), taken);
}

std::string DefaultApp(absl::string_view package) {
  return wire::DefaultApp(package);
}

std::string TokenError(absl::string_view token) {
  if (token.empty()) return "it is empty";
  for (size_t i = 0; i < token.size(); ++i) {
    const char c = token[i];
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
        c == '-') {
      continue;
    }
    const std::string shown = absl::ascii_isprint(static_cast<unsigned char>(c))
                                  ? std::string(1, c)
                                  : absl::CHexEscape(absl::string_view(&c, 1));
    return absl::StrCat("character '", shown, "' at offset ", i,
                        " is not one of [A-Za-z0-9_-]");
  }
  return "";
}

std::string StripExtension(absl::string_view path) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  if (dot == absl::string_view::npos ||
      (slash != absl::string_view::npos && dot < slash)) {
    return std::string(path);
  }
  return std::string(path.substr(0, dot));
}

std::string HeaderGuard(absl::string_view path) {
  std::string guard = "NATSRPC_GENERATED_";
  for (char c : path) {
    guard += absl::ascii_isalnum(static_cast<unsigned char>(c))
                 ? absl::ascii_toupper(static_cast<unsigned char>(c))
                 : '_';
  }
  guard += '_';
  return guard;
}

std::string SafeCommentText(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 1);
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 && c != '\t') || u == 0x7f ? ' ' : c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
    out.pop_back();
  }
  // A backslash (or the C++14 trigraph for one) at the end of a line splices
  // the next line into the comment; GCC does this even with spaces after
  // it, which is why those were dropped first.
  if (absl::EndsWith(out, "\\") || absl::EndsWith(out, "?\?/")) out += '.';
  return out;
}

std::vector<std::string> SplitDocComment(absl::string_view comment) {
  std::vector<std::string> lines = absl::StrSplit(comment, '\n');
  auto blank = [](const std::string& line) {
    return absl::StripAsciiWhitespace(line).empty();
  };
  while (!lines.empty() && blank(lines.back())) lines.pop_back();
  size_t first = 0;
  while (first < lines.size() && blank(lines[first])) ++first;
  lines.erase(lines.begin(), lines.begin() + static_cast<ptrdiff_t>(first));
  return lines;
}

std::string CppStringContent(absl::string_view text) {
  // CEscape writes octal escapes for bytes >= 0x80, which keeps the result
  // ASCII; escaping every '?' rules out trigraphs in pre-C++17 modes.
  return absl::StrReplaceAll(absl::CEscape(text), {{"?", "\\?"}});
}

}  // namespace natsrpc::gen
