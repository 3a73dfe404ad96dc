// Copyright 2026 The natsrpc Authors.

#include "cpp_emitter.h"

#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "names.h"
#include "natsrpc/version.h"

namespace natsrpc::gen {
namespace {

using Vars = std::map<std::string, std::string, std::less<>>;

// Appends `tmpl` with every `$name$` replaced by vars[name] ("$$" is a '$').
// Values are inserted verbatim and never scanned, so user text in them is
// inert. Templates are literals of this file; a missing variable is a bug.
void Render(std::string& out, absl::string_view tmpl, const Vars& vars) {
  size_t pos = 0;
  while (pos < tmpl.size()) {
    const size_t open = tmpl.find('$', pos);
    if (open == absl::string_view::npos) {
      out.append(tmpl.data() + pos, tmpl.size() - pos);
      return;
    }
    out.append(tmpl.data() + pos, open - pos);
    const size_t close = tmpl.find('$', open + 1);
    if (close == absl::string_view::npos) std::abort();
    const absl::string_view name = tmpl.substr(open + 1, close - open - 1);
    if (name.empty()) {
      out += '$';
    } else {
      auto it = vars.find(name);
      if (it == vars.end()) std::abort();
      out += it->second;
    }
    pos = close + 1;
  }
}

// `//` lines of a doc comment, each starting with `indent`.
std::string DocComment(const std::vector<std::string>& lines,
                       absl::string_view indent) {
  std::string out;
  for (const std::string& line : lines) {
    const std::string safe = SafeCommentText(line);
    absl::StrAppend(&out, indent, "//",
                    safe.empty() || safe[0] == ' ' ? "" : " ", safe, "\n");
  }
  return out;
}

// A doc comment as one line of text (discovery's description): the lines
// trimmed and joined with spaces, empty ones dropped.
std::string Description(const std::vector<std::string>& lines) {
  std::vector<absl::string_view> words;
  for (const std::string& line : lines) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (!trimmed.empty()) words.push_back(trimmed);
  }
  return absl::StrJoin(words, " ");
}

// Opens C++ namespaces on construction and closes them, innermost first, on
// destruction.
class NamespaceScope {
 public:
  NamespaceScope(std::string& out, const std::vector<std::string>& names)
      : out_(out), names_(names) {
    for (const std::string& name : names_) {
      absl::StrAppend(&out_, "namespace ", name, " {\n");
    }
    if (!names_.empty()) out_ += "\n";
  }
  ~NamespaceScope() {
    if (!names_.empty()) out_ += "\n";
    for (auto it = names_.rbegin(); it != names_.rend(); ++it) {
      absl::StrAppend(&out_, "}  // namespace ", *it, "\n");
    }
  }
  NamespaceScope(const NamespaceScope&) = delete;
  NamespaceScope& operator=(const NamespaceScope&) = delete;

 private:
  std::string& out_;
  const std::vector<std::string>& names_;
};

// One method, rendered once for every section it appears in.
struct MethodText {
  std::string client_decls;
  std::string client_defs;
  std::string service_decls;
  std::string service_registration;
  std::string service_defs;
  std::string table_entry;
  // With EmitOptions::mock_code only (RenderMockable): the method in
  // Svc::ClientInterface (public part, and the private virtual behind a
  // streaming call), the Client's override of that virtual, and the
  // MockClient's MOCK_METHODs.
  std::string interface_decls;
  std::string interface_raw_decls;
  std::string client_raw_decls;
  std::string client_raw_defs;
  std::string mock_decls;
  // Unary methods only (RenderAsyncUnary): Svc::AsyncService's handler
  // declarations, re-registrations and default definitions.
  std::string async_service_decls;
  std::string async_service_registration;
  std::string async_service_defs;
};

// One request, one response: a blocking call returning the response, an
// asynchronous call taking a callback, and a virtual handler filling the
// response.
void RenderUnary(const Vars& vars, MethodText& text) {
  Render(text.client_decls, R"(
$doc$    ::absl::StatusOr<$resp$> $name$(
        const $req$& request,
        const ::natsrpc::CallOptions& options = {})$override$;
    ::natsrpc::CallHandle $async$(
        const $req$& request,
        ::natsrpc::Callback<$resp$> done,
        const ::natsrpc::CallOptions& options = {})$override$;
)",
         vars);
  Render(text.client_defs, R"(
::absl::StatusOr<$resp$> $class$::Client::$name$(
    const $req$& request,
    const ::natsrpc::CallOptions& options) {
  return ::natsrpc::internal::BlockingUnaryCall<$codec$,
                                      $resp$>(
      channel_, $index$, request, options);
}

::natsrpc::CallHandle $class$::Client::$async$(
    const $req$& request,
    ::natsrpc::Callback<$resp$> done,
    const ::natsrpc::CallOptions& options) {
  return ::natsrpc::internal::AsyncUnaryCall<$codec$,
                                   $resp$>(
      channel_, $index$, request, ::std::move(done), options);
}
)",
         vars);
  Render(text.service_decls, R"(
$doc$    virtual ::absl::Status $name$(
        ::natsrpc::ServerContext& context,
        const $req$& request,
        $resp$& response);
)",
         vars);
  Render(text.service_registration, R"(  ::natsrpc::Service::RegisterMethod(
      "$wire$",
      ::natsrpc::internal::MakeUnaryHandler<$codec$>(
          &$class$::Service::$name$));
)",
         vars);
  Render(text.service_defs, R"(
::absl::Status $class$::Service::$name$(
    ::natsrpc::ServerContext&,
    const $req$&,
    $resp$&) {
  return ::natsrpc::internal::Unimplemented(kServiceName, "$wire$");
}
)",
         vars);
}

// One request, many responses: the blocking call opens the stream and
// returns its reader, the asynchronous call drives a reactor, and the handler
// writes the responses.
void RenderServerStreaming(const Vars& vars, MethodText& text) {
  Render(text.client_decls, R"(
$doc$    ::std::unique_ptr<::natsrpc::ClientReader<$resp$, $codec$>> $name$(
        const $req$& request,
        const ::natsrpc::CallOptions& options = {});
    void $async$(
        const $req$& request,
        ::natsrpc::ClientReadReactor<$resp$>* reactor,
        const ::natsrpc::CallOptions& options = {})$override$;
)",
         vars);
  Render(text.client_defs, R"(
::std::unique_ptr<::natsrpc::ClientReader<$resp$, $codec$>>
$class$::Client::$name$(
    const $req$& request,
    const ::natsrpc::CallOptions& options) {
  return ::natsrpc::internal::OpenServerStream<$codec$, $resp$>(
      channel_, $index$, request, options);
}

void $class$::Client::$async$(
    const $req$& request,
    ::natsrpc::ClientReadReactor<$resp$>* reactor,
    const ::natsrpc::CallOptions& options) {
  ::natsrpc::internal::StartServerStream<$codec$, $resp$>(
      channel_, $index$, request, reactor, options);
}
)",
         vars);
  Render(text.service_decls, R"(
$doc$    virtual ::absl::Status $name$(
        ::natsrpc::ServerContext& context,
        const $req$& request,
        ::natsrpc::ServerWriter<$resp$, $codec$>& writer);
)",
         vars);
  Render(text.service_registration, R"(  ::natsrpc::Service::RegisterMethod(
      "$wire$",
      ::natsrpc::internal::MakeServerStreamHandler<$codec$>(
          &$class$::Service::$name$));
)",
         vars);
  Render(text.service_defs, R"(
::absl::Status $class$::Service::$name$(
    ::natsrpc::ServerContext&,
    const $req$&,
    ::natsrpc::ServerWriter<$resp$, $codec$>&) {
  return ::natsrpc::internal::Unimplemented(kServiceName, "$wire$");
}
)",
         vars);
}

// Many requests, one response: the blocking call returns the writer (whose
// Finish() gives the response), the asynchronous call drives a reactor, and
// the handler reads the requests and fills the response.
void RenderClientStreaming(const Vars& vars, MethodText& text) {
  Render(text.client_decls, R"(
$doc$    ::std::unique_ptr<::natsrpc::ClientWriter<$req$, $resp$, $codec$>> $name$(
        const ::natsrpc::CallOptions& options = {});
    void $async$(
        ::natsrpc::ClientWriteReactor<$req$, $resp$>* reactor,
        const ::natsrpc::CallOptions& options = {})$override$;
)",
         vars);
  Render(text.client_defs, R"(
::std::unique_ptr<::natsrpc::ClientWriter<$req$, $resp$, $codec$>>
$class$::Client::$name$(
    const ::natsrpc::CallOptions& options) {
  return ::natsrpc::internal::OpenClientStream<$codec$, $req$, $resp$>(
      channel_, $index$, options);
}

void $class$::Client::$async$(
    ::natsrpc::ClientWriteReactor<$req$, $resp$>* reactor,
    const ::natsrpc::CallOptions& options) {
  ::natsrpc::internal::StartClientStream<$codec$, $req$, $resp$>(
      channel_, $index$, reactor, options);
}
)",
         vars);
  Render(text.service_decls, R"(
$doc$    virtual ::absl::Status $name$(
        ::natsrpc::ServerContext& context,
        ::natsrpc::ServerReader<$req$, $codec$>& reader,
        $resp$& response);
)",
         vars);
  Render(text.service_registration, R"(  ::natsrpc::Service::RegisterMethod(
      "$wire$",
      ::natsrpc::internal::MakeClientStreamHandler<$codec$>(
          &$class$::Service::$name$));
)",
         vars);
  Render(text.service_defs, R"(
::absl::Status $class$::Service::$name$(
    ::natsrpc::ServerContext&,
    ::natsrpc::ServerReader<$req$, $codec$>&,
    $resp$&) {
  return ::natsrpc::internal::Unimplemented(kServiceName, "$wire$");
}
)",
         vars);
}

// Many requests, many responses: the blocking call returns the reader-writer,
// the asynchronous call drives a reactor, and the handler reads and writes
// on one stream object.
void RenderBidiStreaming(const Vars& vars, MethodText& text) {
  Render(text.client_decls, R"(
$doc$    ::std::unique_ptr<::natsrpc::ClientReaderWriter<$req$, $resp$, $codec$>> $name$(
        const ::natsrpc::CallOptions& options = {});
    void $async$(
        ::natsrpc::ClientBidiReactor<$req$, $resp$>* reactor,
        const ::natsrpc::CallOptions& options = {})$override$;
)",
         vars);
  Render(text.client_defs, R"(
::std::unique_ptr<::natsrpc::ClientReaderWriter<$req$, $resp$, $codec$>>
$class$::Client::$name$(
    const ::natsrpc::CallOptions& options) {
  return ::natsrpc::internal::OpenBidiStream<$codec$, $req$, $resp$>(
      channel_, $index$, options);
}

void $class$::Client::$async$(
    ::natsrpc::ClientBidiReactor<$req$, $resp$>* reactor,
    const ::natsrpc::CallOptions& options) {
  ::natsrpc::internal::StartBidiStream<$codec$, $req$, $resp$>(
      channel_, $index$, reactor, options);
}
)",
         vars);
  Render(text.service_decls, R"(
$doc$    virtual ::absl::Status $name$(
        ::natsrpc::ServerContext& context,
        ::natsrpc::ServerReaderWriter<$req$, $resp$, $codec$>& stream);
)",
         vars);
  Render(text.service_registration, R"(  ::natsrpc::Service::RegisterMethod(
      "$wire$",
      ::natsrpc::internal::MakeBidiStreamHandler<$codec$>(
          &$class$::Service::$name$));
)",
         vars);
  Render(text.service_defs, R"(
::absl::Status $class$::Service::$name$(
    ::natsrpc::ServerContext&,
    ::natsrpc::ServerReaderWriter<$req$, $resp$, $codec$>&) {
  return ::natsrpc::internal::Unimplemented(kServiceName, "$wire$");
}
)",
         vars);
}

// ---- Events and scatter-gather (natsrpc/fanout.h, docs/protocol.md 13) ----

// An event method: the client publishes (and, in the Confirmed form, waits
// for the NATS server's confirmation); the handler returns a status that is
// counted, never sent.
void RenderEvent(const Vars& vars, MethodText& text) {
  Render(text.client_decls, R"(
$doc$    // An event: returns once handed to NATS.
    ::absl::Status $name$(
        const $req$& event,
        const ::natsrpc::EventOptions& options = {})$override$;
    // The same, then waits until the NATS server confirmed it.
    ::absl::Status $confirmed$(
        const $req$& event,
        const ::natsrpc::EventOptions& options = {})$override$;
)",
         vars);
  Render(text.client_defs, R"(
::absl::Status $class$::Client::$name$(
    const $req$& event,
    const ::natsrpc::EventOptions& options) {
  return ::natsrpc::internal::PublishEvent<$codec$>(
      channel_, $index$, event, /*broadcast=*/$broadcast$, /*confirm=*/false,
      options);
}

::absl::Status $class$::Client::$confirmed$(
    const $req$& event,
    const ::natsrpc::EventOptions& options) {
  return ::natsrpc::internal::PublishEvent<$codec$>(
      channel_, $index$, event, /*broadcast=*/$broadcast$, /*confirm=*/true,
      options);
}
)",
         vars);
  Render(text.service_decls, R"(
$doc$    // An event: the status is counted in the server's metrics, never sent.
    virtual ::absl::Status $name$(
        ::natsrpc::ServerContext& context,
        const $req$& event);
)",
         vars);
  Render(text.service_registration, R"(  ::natsrpc::Service::RegisterMethod(
      "$wire$",
      ::natsrpc::internal::MakeEventHandler<$codec$>(
          &$class$::Service::$name$));
)",
         vars);
  Render(text.service_defs, R"(
::absl::Status $class$::Service::$name$(
    ::natsrpc::ServerContext&,
    const $req$&) {
  return ::natsrpc::internal::Unimplemented(kServiceName, "$wire$");
}
)",
         vars);
}

// The mockable form of an event method (EmitOptions::mock_code).
void RenderEventMockable(const Vars& vars, MethodText& text) {
  Render(text.interface_decls, R"(
$doc$    virtual ::absl::Status $name$(
        const $req$& event,
        const ::natsrpc::EventOptions& options = {}) = 0;
    virtual ::absl::Status $confirmed$(
        const $req$& event,
        const ::natsrpc::EventOptions& options = {}) = 0;
)",
         vars);
  Render(text.mock_decls,
         R"(  MOCK_METHOD(::absl::Status, $name$,
              ((const $req$&),
               (const ::natsrpc::EventOptions&)),
              (override));
  MOCK_METHOD(::absl::Status, $confirmed$,
              ((const $req$&),
               (const ::natsrpc::EventOptions&)),
              (override));
)",
         vars);
}

// Scatter-gather of a unary method: one request to every instance, their
// replies collected (blocking and callback forms).
void RenderGather(const Vars& vars, MethodText& text) {
  Render(text.client_decls,
         R"(    // $name$ on every instance (scatter-gather, natsrpc/fanout.h).
    ::absl::StatusOr<::std::vector<::natsrpc::GatherReply<$resp$>>>
    $gather$(
        const $req$& request,
        const ::natsrpc::GatherOptions& options = {});
    void $gather_async$(
        const $req$& request,
        ::natsrpc::Callback<::std::vector<::natsrpc::GatherReply<$resp$>>> done,
        const ::natsrpc::GatherOptions& options = {});
)",
         vars);
  Render(text.client_defs, R"(
::absl::StatusOr<::std::vector<::natsrpc::GatherReply<$resp$>>>
$class$::Client::$gather$(
    const $req$& request,
    const ::natsrpc::GatherOptions& options) {
  return ::natsrpc::internal::BlockingGather<$codec$, $resp$>(
      channel_, $index$, request, options);
}

void $class$::Client::$gather_async$(
    const $req$& request,
    ::natsrpc::Callback<::std::vector<::natsrpc::GatherReply<$resp$>>> done,
    const ::natsrpc::GatherOptions& options) {
  ::natsrpc::internal::StartGather<$codec$, $resp$>(
      channel_, $index$, request, ::std::move(done), options,
      /*blocking=*/false);
}
)",
         vars);
}

// ---- Mockable clients (EmitOptions::mock_code) ----------------------------
//
// Modelled on gRPC's StubInterface and MockStub: `Svc::ClientInterface` has a
// pure virtual for every unary call and every asynchronous call, which
// `Svc::Client` overrides and `Svc::MockClient` (in `foo.natsrpc_mock.h`)
// mocks. A streaming call returns a stream object whose type names the
// codec (natsrpc/stream.h); the interface returns the codec-free stream
// interface instead (ClientReaderInterface, ...) through a non-virtual `M`
// that calls the private virtual `MRaw`, so `Client::M` keeps returning the
// concrete stream while `MockClient` mocks `MRaw` and a test returns a
// natsrpc::testing::MockClientReader (natsrpc/testing/mock_stream.h) from it.

// The stream interface a streaming method's ClientInterface form returns.
std::string StreamInterfaceType(const MethodDef& method) {
  switch (method.streaming) {
    case StreamingKind::kServerStreaming:
      return absl::StrCat("::natsrpc::ClientReaderInterface<",
                          method.response_type, ">");
    case StreamingKind::kClientStreaming:
      return absl::StrCat("::natsrpc::ClientWriterInterface<",
                          method.request_type, ", ", method.response_type, ">");
    case StreamingKind::kBidiStreaming:
      return absl::StrCat("::natsrpc::ClientReaderWriterInterface<",
                          method.request_type, ", ", method.response_type, ">");
    case StreamingKind::kUnary:
      break;
  }
  return "";
}

// The asynchronous forms of a unary method (natsrpc/async.h, natsrpc/coro.h):
// the client's coroutine call `MCo` (also in ClientInterface, over the
// virtual `MAsync`, so that a MockClient serves it), and the handler
// `MAsync` of Svc::AsyncService, whose default runs the blocking `M`. `MCo`
// has an overload without options rather than a default argument: GCC 12
// miscompiles a temporary CallOptions inside a co_await expression
// (natsrpc/coro.h).
void RenderAsyncUnary(const MethodDef& method, Vars vars,
                      const EmitOptions& options, MethodText& text) {
  vars["co"] = method.cpp_co_name;
  if (options.mock_code) {
    Render(text.interface_decls, R"(    ::natsrpc::CallAwaitable<$resp$> $co$(
        const $req$& request) {
      return this->$co$(request, ::natsrpc::CallOptions());
    }
    ::natsrpc::CallAwaitable<$resp$> $co$(
        const $req$& request,
        const ::natsrpc::CallOptions& options) {
      return ::natsrpc::CallAwaitable<$resp$>(
          [&](::natsrpc::Callback<$resp$> done) {
            return this->$async$(request, ::std::move(done), options);
          });
    }
)",
           vars);
  }
  Render(text.client_decls, R"(    ::natsrpc::CallAwaitable<$resp$> $co$(
        const $req$& request);
    ::natsrpc::CallAwaitable<$resp$> $co$(
        const $req$& request,
        const ::natsrpc::CallOptions& options);
)",
         vars);
  Render(text.client_defs, R"(
::natsrpc::CallAwaitable<$resp$> $class$::Client::$co$(
    const $req$& request) {
  return this->$co$(request, ::natsrpc::CallOptions());
}

::natsrpc::CallAwaitable<$resp$> $class$::Client::$co$(
    const $req$& request,
    const ::natsrpc::CallOptions& options) {
  return ::natsrpc::CallAwaitable<$resp$>(
      [&](::natsrpc::Callback<$resp$> done) {
        return this->$async$(request, ::std::move(done), options);
      });
}
)",
         vars);
  Render(text.async_service_decls, R"(
$doc$    virtual void $async$(
        ::natsrpc::ServerContext& context,
        const $req$& request,
        ::natsrpc::UnaryResponder<$resp$> responder);
)",
         vars);
  Render(text.async_service_registration,
         R"(  ::natsrpc::Service::RegisterMethod(
      "$wire$",
      ::natsrpc::internal::MakeAsyncUnaryHandler<$codec$>(
          &$class$::AsyncService::$async$));
)",
         vars);
  Render(text.async_service_defs, R"(
void $class$::AsyncService::$async$(
    ::natsrpc::ServerContext& context,
    const $req$& request,
    ::natsrpc::UnaryResponder<$resp$> responder) {
  $resp$ response;
  const ::absl::Status status = this->$name$(context, request, response);
  if (status.ok()) {
    responder.Finish(response);
  } else {
    responder.Finish(status);
  }
}
)",
         vars);
}

// Svc::AsyncService (natsrpc/async.h): its class into vars["async_service"]
// and its definitions into vars["async_service_defs"].
void RenderAsyncService(const MethodText& all, Vars& vars) {
  Vars v = vars;
  v["decls"] = all.async_service_decls;
  v["registration"] = all.async_service_registration;
  v["defs"] = all.async_service_defs;
  std::string header;
  Render(header, R"(
  // Derive from this instead to answer unary calls asynchronously: override
  // `MAsync` and finish its responder now or later, from any thread
  // (natsrpc/async.h). A method not overridden runs its blocking `M`.
  class AsyncService : public Service {
   public:
    AsyncService();
    ~AsyncService() override = default;
$decls$  };
)",
         v);
  std::string source;
  Render(source, R"(
$class$::AsyncService::AsyncService() {
$registration$}
$defs$)",
         v);
  vars["async_service"] = std::move(header);
  vars["async_service_defs"] = std::move(source);
}

// `this->` in the Client's MRaw: a method may be named like a parameter
// (`request`, `options`; see proto/test/compile/streaming.proto).
void RenderMockable(const MethodDef& method, Vars vars, MethodText& text) {
  vars["raw"] = method.cpp_raw_name;
  vars["iface"] = StreamInterfaceType(method);
  switch (method.streaming) {
    case StreamingKind::kUnary:
      Render(text.interface_decls, R"(
$doc$    virtual ::absl::StatusOr<$resp$> $name$(
        const $req$& request,
        const ::natsrpc::CallOptions& options = {}) = 0;
    virtual ::natsrpc::CallHandle $async$(
        const $req$& request,
        ::natsrpc::Callback<$resp$> done,
        const ::natsrpc::CallOptions& options = {}) = 0;
)",
             vars);
      Render(text.mock_decls,
             R"(  MOCK_METHOD((::absl::StatusOr<$resp$>), $name$,
              ((const $req$&),
               (const ::natsrpc::CallOptions&)),
              (override));
  MOCK_METHOD(::natsrpc::CallHandle, $async$,
              ((const $req$&),
               (::natsrpc::Callback<$resp$>),
               (const ::natsrpc::CallOptions&)),
              (override));
)",
             vars);
      return;
    case StreamingKind::kServerStreaming:
      Render(text.interface_decls, R"(
$doc$    ::std::unique_ptr<$iface$> $name$(
        const $req$& request,
        const ::natsrpc::CallOptions& options = {}) {
      return $raw$(request, options);
    }
    virtual void $async$(
        const $req$& request,
        ::natsrpc::ClientReadReactor<$resp$>* reactor,
        const ::natsrpc::CallOptions& options = {}) = 0;
)",
             vars);
      Render(text.interface_raw_decls,
             R"(    virtual ::std::unique_ptr<$iface$> $raw$(
        const $req$& request,
        const ::natsrpc::CallOptions& options) = 0;
)",
             vars);
      Render(text.client_raw_decls, R"(    ::std::unique_ptr<$iface$> $raw$(
        const $req$& request,
        const ::natsrpc::CallOptions& options) override;
)",
             vars);
      Render(text.client_raw_defs, R"(
::std::unique_ptr<$iface$>
$class$::Client::$raw$(
    const $req$& request,
    const ::natsrpc::CallOptions& options) {
  return this->$name$(request, options);
}
)",
             vars);
      Render(text.mock_decls,
             R"(  MOCK_METHOD((::std::unique_ptr<$iface$>), $raw$,
              ((const $req$&),
               (const ::natsrpc::CallOptions&)),
              (override));
  MOCK_METHOD(void, $async$,
              ((const $req$&),
               (::natsrpc::ClientReadReactor<$resp$>*),
               (const ::natsrpc::CallOptions&)),
              (override));
)",
             vars);
      return;
    case StreamingKind::kClientStreaming:
    case StreamingKind::kBidiStreaming:
      vars["reactor"] = method.streaming == StreamingKind::kClientStreaming
                            ? absl::StrCat("::natsrpc::ClientWriteReactor<",
                                           method.request_type, ", ",
                                           method.response_type, ">")
                            : absl::StrCat("::natsrpc::ClientBidiReactor<",
                                           method.request_type, ", ",
                                           method.response_type, ">");
      Render(text.interface_decls, R"(
$doc$    ::std::unique_ptr<$iface$> $name$(
        const ::natsrpc::CallOptions& options = {}) {
      return $raw$(options);
    }
    virtual void $async$(
        $reactor$* reactor,
        const ::natsrpc::CallOptions& options = {}) = 0;
)",
             vars);
      Render(text.interface_raw_decls,
             R"(    virtual ::std::unique_ptr<$iface$> $raw$(
        const ::natsrpc::CallOptions& options) = 0;
)",
             vars);
      Render(text.client_raw_decls, R"(    ::std::unique_ptr<$iface$> $raw$(
        const ::natsrpc::CallOptions& options) override;
)",
             vars);
      Render(text.client_raw_defs, R"(
::std::unique_ptr<$iface$>
$class$::Client::$raw$(
    const ::natsrpc::CallOptions& options) {
  return this->$name$(options);
}
)",
             vars);
      Render(text.mock_decls,
             R"(  MOCK_METHOD((::std::unique_ptr<$iface$>), $raw$,
              ((const ::natsrpc::CallOptions&)), (override));
  MOCK_METHOD(void, $async$,
              (($reactor$*),
               (const ::natsrpc::CallOptions&)),
              (override));
)",
             vars);
      return;
  }
}

// The method table's `idempotent` field (natsrpc/impl/client_channel.h,
// MethodSpec), written only when set.
std::string IdempotentField(const MethodDef& method) {
  return method.idempotent ? ",\n     /*idempotent=*/true" : "";
}

MethodText RenderMethod(const ServiceDef& service, const MethodDef& method,
                        int index, const EmitOptions& options) {
  const Vars vars = {
      {"class", service.cpp_name},
      {"name", method.cpp_name},
      {"async", method.cpp_async_name},
      {"wire", CppStringContent(method.name)},
      {"req", method.request_type},
      {"resp", method.response_type},
      {"codec", method.codec},
      {"index", absl::StrCat(index)},
      {"timeout",
       method.timeout_ms == 0
           ? std::string("::absl::ZeroDuration()")
           : absl::StrCat("::absl::Milliseconds(", method.timeout_ms, ")")},
      {"doc", DocComment(method.doc, "    ")},
      {"req_name", CppStringContent(method.request_type_name)},
      {"resp_name", CppStringContent(method.response_type_name)},
      {"override", options.mock_code ? " override" : ""},
      {"confirmed", method.cpp_confirmed_name},
      {"gather", method.cpp_gather_name},
      {"gather_async", method.cpp_gather_async_name},
      {"broadcast", method.event_broadcast ? "true" : "false"},
  };
  MethodText text;
  if (method.event) {
    if (options.mock_code) RenderEventMockable(vars, text);
    RenderEvent(vars, text);
  } else if (options.mock_code) {
    RenderMockable(method, vars, text);
  }
  // The kind goes into the method table for the runtime's CallInfo
  // (natsrpc/interceptor.h); the enumerators have the same names.
  const char* kind = "kUnary";
  switch (method.streaming) {
    case StreamingKind::kUnary:
      if (!method.event) {
        RenderUnary(vars, text);
        RenderAsyncUnary(method, vars, options, text);
        RenderGather(vars, text);
      }
      break;
    case StreamingKind::kServerStreaming:
      RenderServerStreaming(vars, text);
      kind = "kServerStreaming";
      break;
    case StreamingKind::kClientStreaming:
      RenderClientStreaming(vars, text);
      kind = "kClientStreaming";
      break;
    case StreamingKind::kBidiStreaming:
      RenderBidiStreaming(vars, text);
      kind = "kBidiStreaming";
      break;
  }
  Render(text.service_registration,
         R"(  ::natsrpc::Service::DescribeMethod(
      "$wire$", "$req_name$", "$resp_name$");
)",
         vars);
  Render(text.table_entry,
         absl::StrCat("    {\"$wire$\", $timeout$, ::natsrpc::CallKind::", kind,
                      IdempotentField(method), "},\n"),
         vars);
  return text;
}

struct ServiceText {
  std::string header;
  std::string source;
  std::string mock_header;  // EmitOptions::mock_code only
};

// The constructor argument handing the file's schema to the runtime.
std::string SchemaArgument(const ServiceModel& model,
                           const ServiceDef& service) {
  if (model.schema.empty()) return "::natsrpc::ServiceSchema{}";
  std::string out;
  Render(out, R"(::natsrpc::ServiceSchema{
              $encoding$,
              "$full_name$",
              ::absl::string_view(
                  reinterpret_cast<const char*>($array$),
                  sizeof($array$))})",
         {{"encoding", model.schema_encoding},
          {"full_name", CppStringContent(service.full_name)},
          {"array", model.schema_array_name}});
  return out;
}

// The schema as a byte array definition, 12 bytes a line.
std::string SchemaArray(const ServiceModel& model) {
  std::string out;
  Render(out, R"(// The schema of $source$ (docs/protocol.md section 12).
constexpr unsigned char $array$[] = {)",
         {{"source", SafeCommentText(model.idl_file)},
          {"array", model.schema_array_name}});
  for (size_t i = 0; i < model.schema.size(); ++i) {
    out += i % 12 == 0 ? "\n    " : " ";
    absl::StrAppend(
        &out, "0x",
        absl::Hex(static_cast<unsigned char>(model.schema[i]), absl::kZeroPad2),
        ",");
  }
  out += "\n};\n";
  return out;
}

// Svc::ClientInterface and the declaration of Svc::MockClient into
// vars["interface"], and the MockClient's definition into text.mock_header.
void RenderInterface(const MethodText& all, Vars& vars, ServiceText& text) {
  Vars v = vars;
  v["interface_decls"] = all.interface_decls;
  v["interface_raw"] =
      all.interface_raw_decls.empty()
          ? ""
          : absl::StrCat("\n   private:\n", all.interface_raw_decls);
  v["mock_decls"] = all.mock_decls;
  std::string out;
  Render(out, R"(
  // The calls of Client as an interface: code that makes calls takes a
  // ClientInterface&, and its tests give it a MockClient (gMock; defined in
  // the generated .natsrpc_mock.h) or a Client over
  // natsrpc/testing/in_process.h.
  class ClientInterface {
   public:
    virtual ~ClientInterface() = default;
$interface_decls$$interface_raw$  };
  class MockClient;
)",
         v);
  vars["interface"] = std::move(out);
  Render(text.mock_header, R"(// A gMock mock of $class$::ClientInterface.
class $class$::MockClient : public $class$::ClientInterface {
 public:
$mock_decls$};
)",
         v);
}

// ---- Durable requests (docs/protocol.md section 14) -----------------------
// A service with methods the IDL marks durable gets a nested DurableClient
// with three typed calls per such method; the responder side is the
// runtime's natsrpc::DurableServer over the same Service.

struct DurableText {
  std::string header;  // the nested class, inside the service class
  std::string source;  // its definitions
};

DurableText RenderDurableClient(const ServiceDef& service) {
  DurableText text;
  std::string decls;
  std::string defs;
  for (const MethodDef& method : service.methods) {
    if (!method.durable) continue;
    const Vars vars = {
        {"class", service.cpp_name},
        {"name", method.cpp_name},
        {"submit", method.cpp_durable_submit_name},
        {"fetch", method.cpp_durable_fetch_name},
        {"wire", CppStringContent(method.name)},
        {"req", method.request_type},
        {"resp", method.response_type},
        {"codec", method.codec},
        {"doc", DocComment(method.doc, "    ")},
    };
    Render(decls, R"(
$doc$    // Stores the request and waits up to options.timeout for its result.
    ::absl::StatusOr<$resp$> $name$(
        const $req$& request,
        const ::natsrpc::DurableCallOptions& options = {});
    // Stores the request; returns once JetStream has it.
    ::absl::StatusOr<::natsrpc::DurableTicket> $submit$(
        const $req$& request,
        const ::natsrpc::DurableCallOptions& options = {});
    // The result of an earlier request, waiting up to `wait` for it.
    ::absl::StatusOr<::natsrpc::DurableResult<$resp$>> $fetch$(
        ::absl::string_view request_id,
        ::absl::Duration wait = ::absl::ZeroDuration());
)",
           vars);
    Render(defs, R"(
::absl::StatusOr<$resp$> $class$::DurableClient::$name$(
    const $req$& request,
    const ::natsrpc::DurableCallOptions& options) {
  return ::natsrpc::internal::CallDurable<$codec$, $resp$>(
      raw_, "$wire$", request, options);
}

::absl::StatusOr<::natsrpc::DurableTicket> $class$::DurableClient::$submit$(
    const $req$& request,
    const ::natsrpc::DurableCallOptions& options) {
  return ::natsrpc::internal::SubmitDurable<$codec$>(
      raw_, "$wire$", request, options);
}

::absl::StatusOr<::natsrpc::DurableResult<$resp$>> $class$::DurableClient::$fetch$(
    ::absl::string_view request_id, ::absl::Duration wait) {
  return ::natsrpc::internal::DecodeDurable<$codec$, $resp$>(
      raw_.Fetch(request_id, wait));
}
)",
           vars);
  }
  if (decls.empty()) return text;
  const Vars vars = {
      {"class", service.cpp_name},
      {"decls", decls},
      {"defs", defs},
  };
  Render(text.header, R"(
  // Durable requests (natsrpc/durable.h): stored in JetStream until the
  // responder (a natsrpc::DurableServer) processes them, results kept by
  // request id.
  class DurableClient final {
   public:
    DurableClient(const ::natsrpc::Connection& connection,
                  const ::natsrpc::ClientOptions& options,
                  const ::natsrpc::DurableOptions& durable = {});

    // OK, or why this client cannot store requests.
    const ::absl::Status& status() const { return raw_.status(); }
    // Any unary method of the service, durably and untyped.
    ::natsrpc::DurableClient& raw() { return raw_; }
$decls$
   private:
    ::natsrpc::DurableClient raw_;
  };
)",
         vars);
  Render(text.source, R"(
$class$::DurableClient::DurableClient(
    const ::natsrpc::Connection& connection,
    const ::natsrpc::ClientOptions& options,
    const ::natsrpc::DurableOptions& durable)
    : raw_(connection, options, kServiceName, kDefaultApp, durable) {}
$defs$)",
         vars);
  return text;
}

ServiceText RenderService(const ServiceModel& model, const ServiceDef& service,
                          const EmitOptions& options) {
  MethodText all;
  for (size_t i = 0; i < service.methods.size(); ++i) {
    MethodText m =
        RenderMethod(service, service.methods[i], static_cast<int>(i), options);
    all.client_decls += m.client_decls;
    all.client_defs += m.client_defs;
    all.service_decls += m.service_decls;
    all.service_registration += m.service_registration;
    all.service_defs += m.service_defs;
    all.table_entry += m.table_entry;
    all.interface_decls += m.interface_decls;
    all.interface_raw_decls += m.interface_raw_decls;
    all.client_raw_decls += m.client_raw_decls;
    all.client_raw_defs += m.client_raw_defs;
    all.mock_decls += m.mock_decls;
    all.async_service_decls += m.async_service_decls;
    all.async_service_registration += m.async_service_registration;
    all.async_service_defs += m.async_service_defs;
  }
  const bool has_methods = !service.methods.empty();
  Vars vars = {
      {"class", service.cpp_name},
      {"name", CppStringContent(service.name)},
      {"app", CppStringContent(service.app)},
      {"doc", DocComment(service.doc, "")},
      {"full_name", CppStringContent(service.full_name)},
      {"description", CppStringContent(Description(service.doc))},
      {"table", service.method_table_name},
      {"methods",
       has_methods
           ? service.method_table_name
           : std::string(
                 "::absl::Span<const ::natsrpc::internal::MethodSpec>()")},
      {"client_decls", all.client_decls},
      {"client_defs", all.client_defs},
      {"service_decls", all.service_decls},
      {"service_defs", all.service_defs},
      {"registration", all.service_registration},
      {"table_entries", all.table_entry},
      {"schema", SchemaArgument(model, service)},
      {"client_base", options.mock_code ? " : public ClientInterface" : ""},
      {"interface", ""},
      {"client_raw_decls", all.client_raw_decls},
      {"client_raw_defs", all.client_raw_defs},
  };
  const DurableText durable = RenderDurableClient(service);
  vars["durable_decls"] = durable.header;
  vars["durable_defs"] = durable.source;
  ServiceText text;
  if (options.mock_code) RenderInterface(all, vars, text);
  RenderAsyncService(all, vars);
  Render(text.header, R"($doc$class $class$ final {
 public:
  // The IDL name of the service and its default app.
  static constexpr char kServiceName[] = "$name$";
  static constexpr char kDefaultApp[] = "$app$";
$interface$
  class Client final$client_base$ {
   public:
    Client(const ::natsrpc::Connection& connection,
           const ::natsrpc::ClientOptions& options);

    // OK, or why this client cannot make calls (every call then ends with it).
    const ::absl::Status& status() const { return channel_.status(); }
    ::natsrpc::ClientStats stats() const { return channel_.stats(); }
$client_decls$
   private:
$client_raw_decls$    ::natsrpc::internal::ClientChannel channel_;
  };

  // Derive from this and override the methods you implement; the others
  // answer UNIMPLEMENTED.
  class Service : public ::natsrpc::Service {
   public:
    Service();
    ~Service() override = default;
$service_decls$  };
$durable_decls$$async_service$};
)",
         vars);
  if (has_methods) {
    Render(text.source, R"(namespace {

constexpr ::natsrpc::internal::MethodSpec $table$[] = {
$table_entries$};

}  // namespace

)",
           vars);
  }
  Render(text.source, R"($class$::Client::Client(
    const ::natsrpc::Connection& connection,
    const ::natsrpc::ClientOptions& options)
    : channel_(connection, options, kServiceName, kDefaultApp,
               $methods$) {}
$client_defs$$client_raw_defs$
$class$::Service::Service()
    : ::natsrpc::Service(
          kServiceName, kDefaultApp,
          $schema$) {
  ::natsrpc::Service::Describe(
      "$full_name$",
      "$description$");
$registration$}
$service_defs$$durable_defs$$async_service_defs$)",
         vars);
  return text;
}

// True if any method of the file streams: its header then also includes
// <memory> (files with unary methods only do not need it).
bool HasStreaming(const ServiceModel& model) {
  for (const ServiceDef& service : model.services) {
    for (const MethodDef& method : service.methods) {
      if (method.streaming != StreamingKind::kUnary) return true;
    }
  }
  return false;
}

bool IsSafeInclude(absl::string_view path) {
  if (path.empty()) return false;
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

// `foo.natsrpc_mock.h`: the MockClient of every service of the file. Like
// the other outputs it exists for every IDL file; without services it only
// includes the generated header.
void EmitMockHeader(const ServiceModel& model,
                    const std::vector<ServiceText>& services,
                    GeneratedFiles& files) {
  files.mock_header_name = MockHeaderName(model.header_file);
  const Vars vars = {
      {"source", SafeCommentText(model.idl_file)},
      {"guard", HeaderGuard(files.mock_header_name)},
      {"header_include", model.header_include},
  };
  std::string& h = files.mock_header;
  Render(h, R"(// Generated by protoc-gen-natsrpc. DO NOT EDIT.
// source: $source$
//
// gMock mocks of the services' ClientInterface, for tests only: include this
// header in tests and link GTest::gmock (Debian: libgmock-dev).

#ifndef $guard$
#define $guard$

)",
         vars);
  if (HasStreaming(model)) h += "#include <memory>\n\n";
  Render(h, "#include \"$header_include$\"\n", vars);
  if (!model.services.empty()) {
    h += "#include \"gmock/gmock.h\"\n";
    if (HasStreaming(model)) {
      h += "#include \"natsrpc/testing/mock_stream.h\"\n";
    }
    h += "\n";
    NamespaceScope ns(h, model.namespaces);
    for (size_t i = 0; i < services.size(); ++i) {
      if (i > 0) h += "\n";
      h += services[i].mock_header;
    }
  }
  Render(h, "\n#endif  // $guard$\n", vars);
}

}  // namespace

std::string MockHeaderName(absl::string_view header_file) {
  absl::string_view stem = header_file;
  if (absl::EndsWith(stem, ".natsrpc.h")) {
    stem.remove_suffix(sizeof(".natsrpc.h") - 1);
  } else if (absl::EndsWith(stem, ".h")) {
    stem.remove_suffix(2);
  }
  return absl::StrCat(stem, ".natsrpc_mock.h");
}

absl::Status ValidateModel(const ServiceModel& model) {
  for (const std::string& include : model.includes) {
    if (!IsSafeInclude(include)) {
      return absl::InvalidArgumentError(
          absl::StrCat(model.idl_file, ": cannot #include \"",
                       absl::CHexEscape(include), "\""));
    }
  }
  if (!IsSafeInclude(model.header_include)) {
    return absl::InvalidArgumentError(
        absl::StrCat(model.idl_file, ": cannot #include \"",
                     absl::CHexEscape(model.header_include), "\""));
  }
  for (const ServiceDef& service : model.services) {
    if (const std::string why = TokenError(service.app); !why.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(model.idl_file, ": service ", service.full_name,
                       ": app \"", absl::CHexEscape(service.app),
                       "\" is not a valid subject token: ", why));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<GeneratedFiles> EmitCpp(const ServiceModel& model,
                                       const EmitOptions& options) {
  if (absl::Status s = ValidateModel(model); !s.ok()) return s;

  std::vector<ServiceText> services;
  for (const ServiceDef& service : model.services) {
    services.push_back(RenderService(model, service, options));
  }

  const Vars vars = {
      {"source", SafeCommentText(model.idl_file)},
      {"guard", HeaderGuard(model.header_file)},
      {"header_literal", CppStringContent(model.header_file)},
      {"header_include", model.header_include},
      {"version", absl::StrCat(NATSRPC_VERSION)},
      {"version_string",
       absl::StrCat(NATSRPC_VERSION_MAJOR, ".", NATSRPC_VERSION_MINOR, ".",
                    NATSRPC_VERSION_PATCH)},
  };

  GeneratedFiles files;
  files.header_name = model.header_file;
  files.source_name = model.source_file;

  std::string& h = files.header;
  Render(h, R"(// Generated by protoc-gen-natsrpc. DO NOT EDIT.
// source: $source$

#ifndef $guard$
#define $guard$

)",
         vars);
  const bool streaming = HasStreaming(model);
  if (streaming) h += "#include <memory>\n\n";
  for (const std::string& include : model.includes) {
    Render(h, "#include \"$include$\"\n", {{"include", include}});
  }
  if (model.services.empty()) {
    h += "\n// The IDL file defines no service.\n";
  } else {
    h += "#include \"natsrpc/impl/codegen.h\"\n";
    Render(h, R"(
#if NATSRPC_VERSION < $version$
#error "$header_literal$ was generated by protoc-gen-natsrpc $version_string$, newer than the natsrpc runtime headers: update natsrpc."
#endif
#if $version$ < NATSRPC_MIN_GENCODE_VERSION
#error "$header_literal$ was generated by an older protoc-gen-natsrpc ($version_string$) than this natsrpc runtime supports: regenerate it."
#endif

)",
           vars);
    NamespaceScope ns(h, model.namespaces);
    for (size_t i = 0; i < services.size(); ++i) {
      if (i > 0) h += "\n";
      h += services[i].header;
    }
  }
  Render(h, "\n#endif  // $guard$\n", vars);

  std::string& cc = files.source;
  Render(cc, R"(// Generated by protoc-gen-natsrpc. DO NOT EDIT.
// source: $source$

#include "$header_include$"
)",
         vars);
  if (!model.services.empty()) {
    cc += "\n#include <utility>\n\n";
    NamespaceScope ns(cc, model.namespaces);
    if (!model.schema.empty()) {
      cc += "namespace {\n\n";
      cc += SchemaArray(model);
      cc += "\n}  // namespace\n\n";
    }
    for (size_t i = 0; i < services.size(); ++i) {
      if (i > 0) cc += "\n";
      cc += services[i].source;
    }
  }
  if (options.mock_code) EmitMockHeader(model, services, files);
  return files;
}

}  // namespace natsrpc::gen
