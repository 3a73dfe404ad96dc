#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus/<fuzzer>/ (docs/fuzzing.md).

Run from anywhere: python3 tests/fuzz/corpus/make_seeds.py [flatc]. It
(re)writes only the files it names (seed-*), so crash reproducers and
minimized inputs added by hand stay. The flatbuffers seeds need flatc
(Debian's flatbuffers-compiler) to turn JSON into binary buffers.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def write(fuzzer, name, data):
    d = os.path.join(HERE, fuzzer)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("latin-1")
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def msg(subject, reply="", headers=(), payload=b""):
    """One message of tests/fuzz/fuzz_input.h's text form."""
    text = subject + "\n" + reply + "\n"
    for k, v in headers:
        text += k + ": " + v + "\n"
    text += "\n"
    return text.encode("latin-1") + payload


def msgs(*ms):
    return b"\n%%\n".join(ms)


# ---- header_block: raw NATS header blocks (+ payload) ----------------------
HB = {
    # docs/protocol.md section 7, the worked example's request.
    "worked-example": b"NATS/1.0\r\nNatsrpc-Timeout: 5000000u\r\n"
                      b"Content-Type: application/protobuf\r\n\r\n\x08\x02\x10\x03",
    "error-reply": b"NATS/1.0\r\nNats-Service-Error-Code: 3\r\n"
                   b"Nats-Service-Error: division by zero\r\n\r\n"
                   b"\x08\x03\x12\x10division by zero",
    "no-responders": b"NATS/1.0 503\r\n\r\n",
    "status-description": b"NATS/1.0 503 No Responders\r\n\r\n",
    "stream-end": b"NATS/1.0\r\nNatsrpc-Stream: end\r\nNatsrpc-Credit: 16\r\n"
                  b"Natsrpc-Count: 1\r\nNats-Service-Error-Code: 5\r\n"
                  b"Nats-Service-Error: no room\r\n\r\n\x08\x05\x12\x07no room",
    "repeated-key": b"NATS/1.0\r\nX-A: 1\r\nX-A: 2\r\nx-a: 3\r\n\r\n",
    "trimmed-values": b"NATS/1.0\r\nX-Two:  2 \r\nX-Tab:\t3\t\r\n\r\n",
    "folded-line": b"NATS/1.0\r\nA: 1\r\n 2\r\n\r\n",
    "empty-value": b"NATS/1.0\r\nx-trace: \r\nx-user: carol\r\n\r\n",
    "no-colon": b"NATS/1.0\r\nnot a header\r\nNatsrpc-Timeout: 1S\r\n\r\n",
    "bad-first-line": b"NATS/2.0\r\nNatsrpc-Timeout: 1S\r\n\r\n",
    "lower-case-line": b"nats/1.0\r\nA: 1\r\n\r\n",
    "unterminated": b"NATS/1.0\r\nA: 1\r\n",
    "lone-lf": b"NATS/1.0\nA: 1\n\n",
    "colon-in-value": b"NATS/1.0\r\nX-Url: nats://127.0.0.1:4222\r\n\r\n",
    "empty-key": b"NATS/1.0\r\n: value\r\n\r\n",
    "cr-in-value": b"NATS/1.0\r\nA: x\ry\r\n\r\n",
    "only-line": b"NATS/1.0\r\n\r\n",
    "nul-in-key": b"NATS/1.0\r\nA\x00B: 1\r\n\r\n",
}
for name, data in HB.items():
    write("header_block", name, data)

# ---- timeout: Natsrpc-Timeout values (and counters) -------------------------
TIMEOUTS = {
    "worked-example": "5000000u", "millis": "250m", "hours": "1H",
    "minutes": "3M", "seconds": "5S", "nanos": "0n", "zero-seconds": "0S",
    "max": "99999999H", "leading-zeros": "00000001S", "bad-unit": "1x",
    "empty": "", "nine-digits": "123456789S", "negative": "-1S",
    "plus": "+5S", "space": " 5S", "unit-only": "S", "counter": "18446744073709551615",
    "counter-overflow": "18446744073709551616", "stream-kind": "open",
}
for name, value in TIMEOUTS.items():
    write("timeout", name, value)

# ---- subjects: "<subject>\n<reply-to>" --------------------------------------
R = "requests.alice.bob.example_v1.Calculator.Add"
REPLY = "responses.alice.bob.example_v1.4rDb0m2KxQe7Vq1ZsT9yHc.1"
SUBJECTS = {
    "worked-example": R + "\n" + REPLY,
    "foreign-reply": R + "\nresponses.mallory.bob.example_v1.x.1",
    "inbox-reply": R + "\n_INBOX.abc.1",
    "no-reply": R + "\n",
    "stream": "requests.alice.bob.example_v1.Room.Chat.Zp0c8Yk1LmN2bQ3rS4tU5v.1\n",
    "stream-cancel-instance": "requests.alice.bob.example_v1.Room.Chat.cancel.1\n",
    "cancel": R + ".cancel.4rDb0m2KxQe7Vq1ZsT9yHc.10\n",
    "cancel-bad-seq": R + ".cancel.cid.x1\n",
    "bad-method": "requests.alice.bob.example_v1.Calculator.A$dd\n" + REPLY,
    "empty-token": "requests.alice..example_v1.Calculator.Add\n" + REPLY,
    "wildcards": "requests.*.bob.example_v1.Calculator.>\n" + REPLY,
    "too-long-seq": R + "\nresponses.alice.bob.example_v1.cid.123456789012345678901",
    "leading-zero-seq": R + "\nresponses.alice.bob.example_v1.cid.007",
    "utf8": "requests.al\xc3\xafce.bob.example_v1.Calculator.Add\n" + REPLY,
}
for name, value in SUBJECTS.items():
    write("subjects", name, value)

# ---- metadata: "Key: value" lines, empty line, status body ------------------
BODY_DIV0 = b"\x08\x03\x12\x10division by zero"
BODY_PAYLOAD = b"\x08\x03\x12\x09bad\nthing\x1a\x06\x0a\x01t\x12\x01v"
METADATA = {
    # The first two entries are also read as the error code and message.
    "error-reply": b"Nats-Service-Error-Code: 3\nNats-Service-Error: division by zero\n\n" + BODY_DIV0,
    "app-metadata": b"x-trace: abc\nx-user: carol\n\n",
    "reserved": b"Natsrpc-Timeout: 1S\nnats-x: y\ncontent-type: z\n\n",
    "empty-value": b"x-trace: \nx-user: carol\n\n",
    "bad-key": b"x trace: 1\nx\x7f: 2\n: empty\n\n",
    "payload-body": b"Nats-Service-Error-Code: 3\nNats-Service-Error: bad thing\n\n" + BODY_PAYLOAD,
    "code-mismatch": b"Nats-Service-Error-Code: 5\nNats-Service-Error: bad thing\n\n" + BODY_PAYLOAD,
    "code-17": b"Nats-Service-Error-Code: 17\nNats-Service-Error: x\n\n\x08\x11",
    "truncated-body": b"Nats-Service-Error-Code: 3\nNats-Service-Error: x\n\n\x12\x05ab",
    "group-body": b"Nats-Service-Error-Code: 3\nNats-Service-Error: x\n\n\x0b\x0b\x0b\x0c\x0c\x0c\x08\x03",
    "ten-byte-varint": b"Nats-Service-Error-Code: 3\nNats-Service-Error: x\n\n\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
}
for name, value in METADATA.items():
    write("metadata", name, value)

# ---- server_receive: messages to a server (responder bob) -------------------
# App natsrpc_testing_v1 (package natsrpc.testing.v1); services TestService
# and StreamService; `$S` = the latest accept's stream subject.
APP = "natsrpc_testing_v1"
T = "requests.alice.bob." + APP + ".TestService."
S = "requests.alice.bob." + APP + ".StreamService."
RT = "responses.alice.bob." + APP + ".cid."
PB = ("Content-Type", "application/protobuf")
TO = ("Natsrpc-Timeout", "5000000u")
OPEN = [("Natsrpc-Stream", "open"), ("Natsrpc-Credit", "16"),
        ("Natsrpc-Heartbeat", "5000000u"), ("Natsrpc-Revision", "3"),
        ("Natsrpc-Timeout", "60000000u"), PB]
SERVER = {
    "echo": msgs(msg(T + "Echo", RT + "1", [TO, PB, ("x-trace", "abc")],
                     b"\x0a\x02hi\x10\x02")),
    "fail": msgs(msg(T + "Fail", RT + "1", [TO, PB], b"\x08\x05\x12\x07no room")),
    "throw": msgs(msg(T + "Fail", RT + "1", [TO, PB], b"\x12\x04boom\x18\x01")),
    "unimplemented": msgs(msg(T + "NotImplemented", RT + "1", [TO, PB])),
    "unknown-method": msgs(msg(T + "Nope", RT + "1", [TO, PB])),
    "bad-method-token": msgs(msg(T + "E$cho", RT + "1", [TO, PB])),
    "bad-payload": msgs(msg(T + "Echo", RT + "1", [TO, PB], b"\xff\xff\xff")),
    "bad-timeout": msgs(msg(T + "Echo", RT + "1", [("Natsrpc-Timeout", "1x"), PB])),
    "zero-timeout": msgs(msg(T + "Echo", RT + "1", [("Natsrpc-Timeout", "0n"), PB])),
    "empty-timeout": msgs(msg(T + "Echo", RT + "1", [("Natsrpc-Timeout", ""), PB])),
    "no-reply": msgs(msg(T + "Echo", "", [TO, PB])),
    "foreign-reply": msgs(msg(T + "Echo", "responses.mallory.bob." + APP + ".c.1", [TO, PB])),
    "malformed-header": msgs(msg(T + "Echo", RT + "1", [TO, ("", "garbage line"), ("x-a", "")])),
    "sleep-then-cancel": msgs(
        msg(T + "Sleep", RT + "7", [TO, PB], b"\x08\x64"),
        msg(T + "Sleep.cancel.cid.7", "", [("Natsrpc-Stream", "cancel")])),
    "cancel-before-call": msgs(
        msg(T + "Sleep.cancel.cid.8", "", [("Natsrpc-Stream", "cancel")]),
        msg(T + "Sleep", RT + "8", [TO, PB], b"\x08\x64")),
    "unary-with-stream-kind": msgs(msg(T + "Echo", RT + "1", [TO, PB, ("Natsrpc-Stream", "msg")])),
    "count-stream": msgs(
        msg(S + "Count", RT + "2", OPEN, b"\x08\x03\x10\x04"),
        msg("$S", "", [("Natsrpc-Stream", "credit"), ("Natsrpc-Credit", "32")]),
        msg("$S", "", [("Natsrpc-Stream", "ping"), ("Natsrpc-Credit", "32")])),
    "count-fail": msgs(msg(S + "Count", RT + "2", OPEN,
                           b"\x08\x03\x18\x01\x2a\x04fail")),
    "sum-stream": msgs(
        msg(S + "Sum", RT + "3", OPEN + [("x-tag", "t")]),
        msg("$S", "", [("Natsrpc-Stream", "msg"), ("Natsrpc-Seq", "1")], b"\x08\x01"),
        msg("$S", "", [("Natsrpc-Stream", "msg"), ("Natsrpc-Seq", "2")], b"\x08\x02"),
        msg("$S", "", [("Natsrpc-Stream", "end"), ("Natsrpc-Credit", "16"),
                       ("Natsrpc-Count", "2")])),
    "echo-stream-cancel": msgs(
        msg(S + "Echo", RT + "4", OPEN),
        msg("$S", "", [("Natsrpc-Stream", "msg"), ("Natsrpc-Seq", "1")], b"\x08\x01"),
        msg("$S", "", [("Natsrpc-Stream", "cancel"), ("Natsrpc-Credit", "16"),
                       ("Nats-Service-Error-Code", "1"),
                       ("Nats-Service-Error", "cancelled by the caller")])),
    "echo-stream-violations": msgs(
        msg(S + "Echo", RT + "5", OPEN),
        msg("$S", "", [("Natsrpc-Stream", "msg"), ("Natsrpc-Seq", "0")]),
        msg("$S", "", [("Natsrpc-Stream", "msg"), ("Natsrpc-Seq", "99")]),
        msg("$S", "", [("Natsrpc-Stream", "bogus")]),
        msg("$S", "", [("Natsrpc-Stream", "end")])),
    "stream-cancel-subject": msgs(
        msg(S + "Echo", RT + "6", OPEN),
        msg(S + "Echo.cancel.cid.6", "", [("Natsrpc-Stream", "cancel")])),
    "open-bad-credit": msgs(msg(S + "Echo", RT + "6", [("Natsrpc-Stream", "open"),
                                                       ("Natsrpc-Credit", "-1")])),
    "open-unary-method": msgs(msg(T + "Echo", RT + "6", OPEN)),
    "stream-to-unknown": msgs(msg("requests.alice.bob." + APP + ".StreamService.Echo.X.1",
                                  "", [("Natsrpc-Stream", "msg"), ("Natsrpc-Seq", "1")])),
}
for name, data in SERVER.items():
    write("server_receive", name, data)

# ---- reply_mux: replies to a client ----------------------------------------
# alice -> bob, service Svc, app `app`: calls 1-3 unary (method Unary),
# 4 a server stream (Count), 5 a bidi stream (Chat); `$CID` = client id.
C = "responses.alice.bob.app.$CID."
STREAM4 = "requests.alice.bob.app.Svc.Count.I1.1"
STREAM5 = "requests.alice.bob.app.Svc.Chat.I1.2"
ACCEPT = [("Natsrpc-Stream", "accept"), ("Natsrpc-Credit", "16"),
          ("Natsrpc-Heartbeat", "5000000u"), ("Natsrpc-Revision", "3")]
CLIENT = {
    "ok-reply": msgs(msg(C + "1", "", [PB], b"\x08\x05")),
    "error-reply": msgs(msg(C + "2", "", [("Nats-Service-Error-Code", "3"),
                                          ("Nats-Service-Error", "division by zero")],
                            BODY_DIV0)),
    "error-reply-bad-code": msgs(msg(C + "3", "", [("Nats-Service-Error-Code", "99"),
                                                   ("Nats-Service-Error", "?")])),
    "duplicate-replies": msgs(msg(C + "1", "", [PB], b"a"), msg(C + "1", "", [PB], b"b")),
    "unknown-seq": msgs(msg(C + "99", "", [PB]), msg(C + "x", "", [PB])),
    "no-responders": msgs(msg(C + "1", "", [("Status", "503")])),
    "server-stream": msgs(
        msg(C + "4", STREAM4, ACCEPT),
        msg(C + "4", "", [("Natsrpc-Stream", "msg"), ("Natsrpc-Seq", "1")], b"\x08\x01"),
        msg(C + "4", "", [("Natsrpc-Stream", "msg"), ("Natsrpc-Seq", "2")], b"\x08\x02"),
        msg(C + "4", "", [("Natsrpc-Stream", "end"), ("Natsrpc-Credit", "0"),
                          ("Natsrpc-Count", "2"), ("x-trailer", "t")])),
    "stream-error-end": msgs(
        msg(C + "4", STREAM4, ACCEPT),
        msg(C + "4", "", [("Natsrpc-Stream", "end"), ("Natsrpc-Credit", "0"),
                          ("Natsrpc-Count", "0"), ("Nats-Service-Error-Code", "5"),
                          ("Nats-Service-Error", "no room")], b"\x08\x05\x12\x07no room")),
    "bidi": msgs(
        msg(C + "5", STREAM5, ACCEPT),
        msg(C + "5", "", [("Natsrpc-Stream", "credit"), ("Natsrpc-Credit", "40")]),
        msg(C + "5", "", [("Natsrpc-Stream", "ping"), ("Natsrpc-Credit", "40")]),
        msg(C + "5", "", [("Natsrpc-Stream", "msg"), ("Natsrpc-Seq", "1")], b"x"),
        msg(C + "5", "", [("Natsrpc-Stream", "cancel"), ("Natsrpc-Credit", "40")])),
    "bad-accept": msgs(
        msg(C + "4", "requests.alice.bob.app.Svc.Count.cancel.1", ACCEPT),
        msg(C + "5", "", ACCEPT)),
    "msg-before-accept": msgs(msg(C + "5", "", [("Natsrpc-Stream", "msg"), ("Natsrpc-Seq", "1")])),
    "stream-violations": msgs(
        msg(C + "4", STREAM4, ACCEPT),
        msg(C + "4", "", [("Natsrpc-Stream", "msg"), ("Natsrpc-Seq", "17")]),
        msg(C + "5", STREAM5, ACCEPT + [("Natsrpc-Heartbeat", "0n")]),
        msg(C + "5", "", [("Natsrpc-Stream", "accept")])),
    "unary-gets-stream-frame": msgs(msg(C + "1", "", [("Natsrpc-Stream", "end"),
                                                      ("Natsrpc-Count", "0")])),
    "other-requester": msgs(msg("responses.mallory.bob.app.$CID.1", "", [PB])),
}
for name, data in CLIENT.items():
    write("reply_mux", name, data)

# ---- flatbuffers: first byte = misalignment, then the payload ----------------
flatc = sys.argv[1] if len(sys.argv) > 1 else shutil.which("flatc")
if flatc:
    tmp = tempfile.mkdtemp()
    node_json = {
        "full": '{"id": 7, "color": "Blue", "at": {"x": 1, "y": 2.5},'
                ' "label": "root", "blob": [1, 2, 3], "points": [{"x": 3, "y": 4}],'
                ' "names": ["a", "bc"], "children": [{"id": 8, "label": "kid",'
                ' "children": [{"id": 9}]}], "leaf": {"name": "l", "values": [1, -1]},'
                ' "any_type": "Other", "any": {"flag": true, "tags": ["t"]}}',
        "union-leaf": '{"id": 1, "any_type": "Leaf", "any": {"name": "n", "values": [5]}}',
        "empty": '{}',
    }
    schema = os.path.join(ROOT, "tests", "fuzz", "fuzz_types.fbs")
    for name, js in node_json.items():
        path = os.path.join(tmp, name + ".json")
        with open(path, "w") as f:
            f.write(js)
        subprocess.run([flatc, "--binary", "-o", tmp, schema, path], check=True)
        with open(os.path.join(tmp, name + ".bin"), "rb") as f:
            data = f.read()
        write("flatbuffers", name + "-aligned", b"\x00" + data)
        write("flatbuffers", name + "-misaligned", b"\x03" + data)
    # The calculator's AddRequest (fbs/example/calculator.fbs), a=2, b=3.
    calc = os.path.join(ROOT, "fbs", "example", "calculator.fbs")
    path = os.path.join(tmp, "add.json")
    with open(path, "w") as f:
        f.write('{"a": 2, "b": 3}')
    subprocess.run([flatc, "--binary", "--root-type", "example.v1.AddRequest",
                    "-o", tmp, calc, path], check=True)
    with open(os.path.join(tmp, "add.bin"), "rb") as f:
        write("flatbuffers", "add-request", b"\x01" + f.read())
    shutil.rmtree(tmp)
else:
    print("flatc not found: flatbuffers seeds not written", file=sys.stderr)
write("flatbuffers", "too-short", b"\x00\x01\x02")
write("flatbuffers", "bad-root-offset", b"\x00\xff\xff\xff\x7f")

# ---- fbs_front_end: schema text ---------------------------------------------
FBS = {
    "calculator": open(os.path.join(ROOT, "fbs", "example", "calculator.fbs")).read(),
    "streaming": open(os.path.join(ROOT, "fbs", "test", "compile", "streaming.fbs")).read(),
    "keywords": open(os.path.join(ROOT, "fbs", "test", "compile", "keywords.fbs")).read(),
    "nested": open(os.path.join(ROOT, "fbs", "test", "compile", "nested.fbs")).read(),
    "includer": 'include "shared.fbs";\nnamespace a.b;\ntable L { x:int; }\n'
                'rpc_service Uses {\n  Remote(fuzz.shared.Ping):fuzz.shared.Pong;\n'
                '  Mixed(L):fuzz.shared.Pong (streaming: "bidi");\n}\n',
}
for name in ["bad_app", "bad_streaming", "bad_timeout", "syntax",
             "undeclared_attribute", "unknown_attribute"]:
    FBS["error-" + name] = open(os.path.join(ROOT, "fbs", "test", "errors",
                                             name + ".fbs")).read()
for name, text in FBS.items():
    write("fbs_front_end", name, text)
