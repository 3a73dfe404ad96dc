// The reverse direction: a JavaScript server of example.v1.Calculator,
// written from docs/protocol.md (sections 2, 3, 5 and 8's server checklist),
// called by the C++ calculator_client example. Also the client-decided rows
// of the section 4 table, as the C++ client reports them.

import { spawn } from "node:child_process";
import {
  assert, bounded, Caller, check, CODES, decode, encode, H, hdrs, header, once, parseTimeout, PROTOBUF,
  sleep, TOKEN,
} from "./lib.mjs";

const INT64_MIN = -(2n ** 63n);

// A JavaScript natsrpc server of example.v1.Calculator for `responder`.
// mode "normal" implements the service; mode "faults" answers the C++
// client's four calls wrongly on purpose (see below). Every request it gets
// is kept in `requests`.
export function startCalculatorServer(nc, root, responder, mode = "normal") {
  const app = "example_v1";
  const service = "Calculator";
  const requests = [];
  const cancels = [];
  const dropped = [];

  const reply = (m, pairs, payload) =>
    nc.publish(m.reply, payload ?? new Uint8Array(0), { headers: hdrs(pairs) });
  const fail = (m, code, message) =>
    reply(m, [[H.code, String(code)], [H.error, message.replace(/[\r\n]/g, " ")]]);
  const ok = (m, type, obj) =>
    reply(m, [[H.contentType, PROTOBUF]], encode(root, type, obj));

  const handlers = {
    Add: ["example.v1.AddRequest", (r) => {
      const sum = BigInt(r.a) + BigInt(r.b);
      if (sum >= 2n ** 63n || sum < INT64_MIN) return { code: CODES.OUT_OF_RANGE, message: "sum overflows int64" };
      return { type: "example.v1.AddReply", obj: { sum: sum.toString() } };
    }],
    Divide: ["example.v1.DivideRequest", (r) => {
      const a = BigInt(r.dividend), b = BigInt(r.divisor);
      if (b === 0n) return { code: CODES.INVALID_ARGUMENT, message: "division by zero" };
      if (a === INT64_MIN && b === -1n) return { code: CODES.OUT_OF_RANGE, message: "quotient overflows int64" };
      return { type: "example.v1.DivideReply", obj: { quotient: (a / b).toString(), remainder: (a % b).toString() } };
    }],
    Echo: ["example.v1.EchoMessage", (r) => ({ type: "example.v1.EchoMessage", obj: { payload: r.payload } })],
  };

  function onRequest(m) {
    const t = m.subject.split(".");
    // Section 5, 1: reply-to responses.<R>.<P>.<A>.<client id>.<seq>.
    const r = (m.reply ?? "").split(".");
    if (t.length !== 6 || r.length !== 6 || r[0] !== "responses" || r[1] !== t[1] ||
        r[2] !== t[2] || r[3] !== t[3] || !r.every((x) => TOKEN.test(x))) {
      dropped.push(m);
      return;
    }
    requests.push({ at: Date.now(), subject: m.subject, reply: m.reply, method: t[5],
      timeout: header(m, H.timeout), contentType: header(m, H.contentType),
      stream: header(m, H.stream), data: Buffer.from(m.data) });
    if (header(m, H.stream) !== undefined) {
      // A stream open on a server without streams (section 8, server 5),
      // refused as 9.3.2 says.
      reply(m, [[H.stream, "end"], [H.count, "0"], [H.code, String(CODES.UNIMPLEMENTED)],
        [H.error, "this server has no streams"]]);
      return;
    }
    // 2. Deadline.
    const to = header(m, H.timeout);
    if (to !== undefined) {
      const ns = parseTimeout(to);
      if (ns === null) return fail(m, CODES.INVALID_ARGUMENT, `malformed Natsrpc-Timeout "${to}"`);
      if (ns === 0n) return fail(m, CODES.DEADLINE_EXCEEDED, "the request arrived after its deadline");
    }
    // 3. Method.
    const h = handlers[t[5]];
    if (!h) return fail(m, CODES.UNIMPLEMENTED, `no method ${t[5]}`);
    // 5. Payload.
    let req;
    try {
      req = decode(root, h[0], m.data);
    } catch (e) {
      return fail(m, CODES.INVALID_ARGUMENT, `bad request: ${e.message}`);
    }
    if (mode === "faults") return faults(m, t[5], req);
    const out = h[1](req);
    if (out.code) return fail(m, out.code, out.message);
    return ok(m, out.type, out.obj);
  }

  // The C++ client's calls, answered wrongly:
  //   Add(2, 3): an OK reply whose payload does not decode  -> INTERNAL
  //   Divide(17, 5): no answer                              -> DEADLINE_EXCEEDED
  //   Divide(1, 0): Nats-Service-Error-Code 99              -> UNKNOWN
  //   Add(40, 2): the right answer twice, and one for an unknown seq
  function faults(m, method, req) {
    if (method === "Add" && req.a === "2") {
      return reply(m, [[H.contentType, PROTOBUF]], Uint8Array.from([0xff, 0xff, 0xff]));
    }
    if (method === "Divide" && req.divisor === "5") return undefined;
    if (method === "Divide" && req.divisor === "0") return fail(m, 99, "code from the future");
    if (method === "Add" && req.a === "40") {
      const r = m.reply.split(".");
      r[5] = String(Number(r[5]) + 1000);
      nc.publish(r.join("."), encode(root, "example.v1.AddReply", { sum: "7" }),
        { headers: hdrs([[H.contentType, PROTOBUF]]) });
      ok(m, "example.v1.AddReply", { sum: "42" });
      return ok(m, "example.v1.AddReply", { sum: "42" });
    }
    return fail(m, CODES.INTERNAL, "unexpected call");
  }

  const sub = nc.subscribe(`requests.*.${responder}.${app}.${service}.*`, {
    queue: `natsrpc.${responder}.${app}`,
    callback: (err, m) => {
      if (err) return;
      try {
        onRequest(m);
      } catch (e) {
        // A bug here must not close the suite's connection.
        console.log(`     JS server error on ${m.subject}: ${e?.stack ?? e}`);
      }
    },
  });
  // Section 8, server 4: the cancel subject; handlers here are synchronous,
  // so a cancel only gets recorded.
  const cancelSub = nc.subscribe(`requests.*.${responder}.${app}.${service}.*.cancel.*.*`, {
    callback: (err, m) => { if (!err) cancels.push(m.subject); },
  });
  return {
    requests, cancels, dropped,
    ready: () => bounded(nc.flush(), 3000, "flush after the JS server subscribed"),
    stop: () => { sub.unsubscribe(); cancelSub.unsubscribe(); },
  };
}

// Runs the C++ calculator_client; resolves with its output, exit code and
// time taken. Killed after limitMs.
export function runClient(bin, url, responder, limitMs = 15000, requester = "alice") {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const p = spawn(bin, ["--url", url, "--requester", requester, "--responder", responder],
      { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const lines = [];
    p.stdout.on("data", (d) => {
      out += d;
      for (const l of d.toString().split("\n")) if (l) lines.push({ t: Date.now() - t0, l });
    });
    p.stderr.on("data", (d) => { err += d; });
    const timer = setTimeout(() => p.kill("SIGKILL"), limitMs);
    p.on("error", (e) => { clearTimeout(timer); reject(e); });
    p.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ out, err, code, signal, ms: Date.now() - t0, lines: out.split("\n").filter((l) => l) });
    });
  });
}

export function register(ctx) {
  const G = "reverse";
  const bin = ctx.calculatorClient;

  const normal = once(async () => {
    const server = startCalculatorServer(ctx.nc, ctx.root, "jsbob", "normal");
    await server.ready();
    try {
      const run = await runClient(bin, ctx.url, "jsbob");
      return { server, run };
    } finally {
      server.stop();
    }
  });

  check(G, "C++ calculator_client -> JS server: prints the README's four lines and exits 0", async () => {
    const { run } = await normal();
    const want = [
      "Add(2, 3) = 5",
      "Divide(17, 5) = 3 remainder 2",
      "Divide(1, 0) -> INVALID_ARGUMENT: division by zero (as expected)",
      "AddAsync(40, 2) = 42",
    ];
    assert(JSON.stringify(run.lines) === JSON.stringify(want),
      `client printed ${JSON.stringify(run.lines)} (stderr ${JSON.stringify(run.err.slice(0, 300))})`);
    assert(run.code === 0, `client exit status ${run.code} ${run.signal ?? ""}`);
  });

  check(G, "C++ client's requests: subject, reply-to (22-char client id, rising seq), Content-Type, one queue-group delivery each", async () => {
    const { server } = await normal();
    const rs = server.requests;
    assert(rs.length === 4, `JS server got ${rs.length} requests: ${rs.map((r) => r.subject).join(", ")}`);
    const methods = rs.map((r) => r.method).join(",");
    assert(methods === "Add,Divide,Divide,Add", `methods in order: ${methods}`);
    const ids = new Set();
    let lastSeq = 0;
    for (const r of rs) {
      assert(r.subject.startsWith("requests.alice.jsbob.example_v1.Calculator."), `subject ${r.subject}`);
      const t = r.reply.split(".");
      assert(t.length === 6 && t.slice(0, 4).join(".") === "responses.alice.jsbob.example_v1", `reply-to ${r.reply}`);
      assert(/^[0-9A-Za-z]{22}$/.test(t[4]), `client id "${t[4]}" is not 22 base62 characters`);
      ids.add(t[4]);
      assert(/^[0-9]+$/.test(t[5]) && Number(t[5]) > lastSeq, `seq ${t[5]} after ${lastSeq}`);
      lastSeq = Number(t[5]);
      assert(r.contentType === PROTOBUF, `Content-Type ${r.contentType}`);
      assert(r.stream === undefined, "Natsrpc-Stream on a unary request");
    }
    assert(ids.size === 1, `${ids.size} client ids in one client`);
    assert(server.dropped.length === 0, "the JS server dropped a request of the C++ client (bad reply-to)");
    assert(server.cancels.length === 0, `the client published cancels: ${server.cancels.join(", ")}`);
  });

  check(G, "C++ client's Natsrpc-Timeout: file option 5 s (Add), call option 2 s, method option 1 s (Divide(1, 0)); finest unit, rounded up", async () => {
    const { server } = await normal();
    const limits = [5000, 2000, 1000, 5000]; // ms: proto/example/v1/calculator.proto, examples/calculator/client.cc
    server.requests.forEach((r, i) => {
      const ns = parseTimeout(r.timeout);
      assert(ns !== null, `request ${i + 1}: Natsrpc-Timeout "${r.timeout}" malformed`);
      const max = BigInt(limits[i]) * 1000000n;
      assert(ns <= max && ns > max - 500000000n,
        `request ${i + 1} (${r.method}): Natsrpc-Timeout ${r.timeout} not within 500 ms below ${limits[i]} ms`);
      // The finest unit that fits in 8 digits (section 3): these fit in u.
      assert(/^[0-9]{1,8}[un]$/.test(r.timeout) || /^[0-9]{7,8}m$/.test(r.timeout),
        `request ${i + 1}: ${r.timeout} is not in the finest unit that fits`);
    });
  });

  const faulty = once(async () => {
    const server = startCalculatorServer(ctx.nc, ctx.root, "jsfaulty", "faults");
    await server.ready();
    try {
      const run = await runClient(bin, ctx.url, "jsfaulty");
      return { server, run };
    } finally {
      server.stop();
    }
  });
  const lineOf = (run, prefix) => run.lines.find((l) => l.startsWith(prefix));

  check(G, "C++ client: an OK reply whose payload does not decode -> INTERNAL", async () => {
    const { run } = await faulty();
    const l = lineOf(run, "Add(2, 3)");
    assert(l?.startsWith("Add(2, 3) -> INTERNAL"), `client printed: ${l ?? JSON.stringify(run.lines)}`);
  });

  check(G, "C++ client: no reply by the deadline -> DEADLINE_EXCEEDED after its 2 s timeout", async () => {
    const { run, server } = await faulty();
    const l = lineOf(run, "Divide(17, 5)");
    assert(l?.startsWith("Divide(17, 5) -> DEADLINE_EXCEEDED"), `client printed: ${l ?? JSON.stringify(run.lines)}`);
    const r = server.requests.find((x) => x.method === "Divide");
    const rAfter = server.requests[server.requests.indexOf(r) + 1];
    assert(rAfter, "the client made no call after the timed-out one");
    const waited = rAfter.at - r.at;
    assert(waited >= 1900 && waited <= 3500, `the client gave up after ${waited} ms, its timeout is 2000 ms`);
  });

  check(G, "C++ client: Nats-Service-Error-Code 99 (not 1..16) -> UNKNOWN, raw value kept in the message", async () => {
    const { run } = await faulty();
    const l = lineOf(run, "Divide(1, 0)");
    assert(l?.startsWith("Divide(1, 0) -> UNKNOWN:") && l.includes("99") && l.includes("code from the future"),
      `client printed: ${l ?? JSON.stringify(run.lines)}`);
  });

  check(G, "C++ client: a duplicate reply and a reply for an unknown seq are dropped; the call gets its answer", async () => {
    const { run } = await faulty();
    assert(lineOf(run, "AddAsync(40, 2)") === "AddAsync(40, 2) = 42", `client printed: ${JSON.stringify(run.lines)}`);
    assert(run.code === 1, `client exit status ${run.code}, expected 1 (three calls failed)`);
  });

  // Section 2 and 8 (server 1): a foreign instance in queue group
  // natsrpc.<responder>.<app> shares the calls of the C++ instance.
  check(G, "queue group natsrpc.bob.example_v1: a JS instance beside the C++ calculator_server shares its calls, each answered once", async () => {
    const server = startCalculatorServer(ctx.nc, ctx.root, "bob", "normal");
    await server.ready();
    const c = await new Caller(ctx.nc, "qg").start();
    const N = 40;
    const base = 7000000 + Math.floor(Math.random() * 1000000);
    try {
      const seqs = [];
      for (let i = 0; i < N; i++) {
        seqs.push(c.send("Add", encode(ctx.root, "example.v1.AddRequest", { a: String(base + i), b: "1" })));
      }
      for (const [i, seq] of seqs.entries()) {
        const m = await c.queue(seq).next(3000);
        assert(m, `call ${i} not answered`);
        assert(BigInt(decode(ctx.root, "example.v1.AddReply", m.data).sum) === BigInt(base + i + 1), `call ${i}: wrong sum`);
      }
      await sleep(200);
      for (const seq of seqs) assert(c.queue(seq).all.length === 1, `call ${seq} answered ${c.queue(seq).all.length} times`);
    } finally {
      server.stop();
    }
    const byJs = server.requests.length;
    const byCpp = ctx.logLines(ctx.calcLog).filter((l) => l.startsWith(`qg: Add(`)).length;
    assert(byJs + byCpp === N, `JS served ${byJs}, C++ served ${byCpp}, ${N} calls`);
    assert(byJs > 0 && byCpp > 0, `JS served ${byJs} and C++ ${byCpp} of ${N}: not shared (queue group name differs?)`);
  });

  check(G, "C++ client: a requester that is not a token (a.b) -> INVALID_ARGUMENT, nothing published", async () => {
    const seen = [];
    const watch = ctx.nc.subscribe("requests.>", { callback: (err, m) => { if (!err) seen.push(m.subject); } });
    await bounded(ctx.nc.flush(), 3000, "flush");
    let run;
    try {
      run = await runClient(bin, ctx.url, "jsbob", 15000, "a.b");
      await bounded(ctx.nc.flush(), 3000, "flush");
    } finally {
      watch.unsubscribe();
    }
    assert(run.lines.length === 1 && /INVALID_ARGUMENT/.test(run.lines[0]) && run.lines[0].includes("requester"),
      `client printed ${JSON.stringify(run.lines)}`);
    assert(run.code === 1, `client exit status ${run.code}`);
    assert(seen.length === 0, `published: ${seen.join(", ")}`);
  });

  check(G, "C++ client: no responders -> UNAVAILABLE at once, not at the deadline", async () => {
    const run = await runClient(bin, ctx.url, "nobody");
    const l = lineOf(run, "Add(2, 3)");
    assert(l?.startsWith("Add(2, 3) -> UNAVAILABLE"), `client printed: ${l ?? JSON.stringify(run.lines)}`);
    assert(run.lines.every((x) => !x.includes("DEADLINE_EXCEEDED")), `client printed: ${JSON.stringify(run.lines)}`);
    assert(run.ms < 3000, `the client took ${run.ms} ms for four calls without responders`);
    assert(run.code === 1, `client exit status ${run.code}`);
  });
}
