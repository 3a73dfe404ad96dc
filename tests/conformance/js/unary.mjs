// Unary calls from JavaScript to the C++ calculator_server (responder bob):
// every server-decided row of the status table of docs/protocol.md section 4
// that the example can produce, the reply-to check of section 5, the
// Natsrpc-Timeout format of section 3, and unary cancel (section 9.8).

import crypto from "node:crypto";
import {
  assert, bounded, Caller, check, CODES, decode, describe, encode, H, hdrs, header, logLines,
  MsgQueue, PROTOBUF, sleep, statusBody, statusOf, waitLog,
} from "./lib.mjs";

const INT64_MAX = "9223372036854775807";
const INT64_MIN = "-9223372036854775808";

// Distinct operands per check, so that the server's log lines can be told apart.
let operand = 1000 + crypto.randomInt(1000000);
const fresh = () => ++operand;

export function register(ctx) {
  const { root } = ctx;
  const G = "unary";
  let caller;
  const alice = async () => (caller ??= await new Caller(ctx.nc, "alice").start());
  const add = (a, b) => encode(root, "example.v1.AddRequest", { a: String(a), b: String(b) });
  const div = (a, b) => encode(root, "example.v1.DivideRequest",
    { dividend: String(a), divisor: String(b) });
  // The calculator_server logs "<requester>: Add(a, b) = ..." for each call it runs.
  const ranAdd = (a, b) => (l) => l.startsWith(`alice: Add(${a}, ${b})`);

  function expectOk(msg, what) {
    assert(msg, `${what}: no reply within the wait`);
    const st = statusOf(msg);
    assert(st.ok, `${what}: expected OK, got ${describe(msg)}`);
    assert(header(msg, H.contentType) === PROTOBUF,
      `${what}: OK reply without Content-Type: ${PROTOBUF}: ${describe(msg)}`);
  }

  function expectError(msg, code, what, messageRe) {
    assert(msg, `${what}: no reply within the wait`);
    const st = statusOf(msg);
    assert(st.code === code,
      `${what}: expected Nats-Service-Error-Code ${code}, got ${describe(msg)}`);
    assert(header(msg, H.error) !== undefined, `${what}: error reply without Nats-Service-Error`);
    // Revision 3 (4.1): the body is the exact status, same code, and the
    // header is its message with CR and LF replaced by spaces.
    const body = statusBody(root, msg);
    assert(body !== null, `${what}: error reply without the status body (4.1)`);
    assert(body.code === code, `${what}: status body code ${body.code}, header ${code}`);
    assert(body.message.replace(/[\r\n]/g, " ") === st.message,
      `${what}: status body message "${body.message}" vs header "${st.message}"`);
    if (messageRe) {
      assert(messageRe.test(st.message),
        `${what}: Nats-Service-Error "${st.message}" does not match ${messageRe}`);
    }
  }

  async function expectHandlerNotRun(pred, what) {
    // The handler of a later call has been logged by then; give a wrongly run
    // one a little longer.
    await sleep(200);
    const line = logLines(ctx.calcLog).find(pred);
    assert(line === undefined, `${what}: the handler ran (server log: "${line}")`);
  }

  check(G, "worked example (section 7): Add payload 08 02 10 03 -> Content-Type + payload 08 05", async () => {
    const c = await alice();
    const { msg } = await c.call("Add", Uint8Array.from([0x08, 0x02, 0x10, 0x03]),
      { headers: [[H.timeout, "5000000u"], [H.contentType, PROTOBUF]] });
    expectOk(msg, "Add(2, 3)");
    assert(Buffer.from(msg.data).equals(Buffer.from([0x08, 0x05])),
      `payload ${Buffer.from(msg.data).toString("hex")}, expected 0805`);
  });

  check(G, "OK: Add and Divide of random operands decode to the right AddReply/DivideReply", async () => {
    const c = await alice();
    for (let i = 0; i < 5; i++) {
      const a = crypto.randomInt(-1e9, 1e9), b = crypto.randomInt(-1e9, 1e9);
      const r1 = await c.call("Add", add(a, b));
      expectOk(r1.msg, `Add(${a}, ${b})`);
      const sum = decode(root, "example.v1.AddReply", r1.msg.data).sum;
      assert(BigInt(sum) === BigInt(a) + BigInt(b), `Add(${a}, ${b}) = ${sum}`);
      const d = b === 0 ? 7 : b;
      const r2 = await c.call("Divide", div(a, d));
      expectOk(r2.msg, `Divide(${a}, ${d})`);
      const q = decode(root, "example.v1.DivideReply", r2.msg.data);
      // C++ integer division truncates toward zero, as BigInt division does.
      assert(BigInt(q.quotient) === BigInt(a) / BigInt(d) && BigInt(q.remainder) === BigInt(a) % BigInt(d),
        `Divide(${a}, ${d}) = ${q.quotient} remainder ${q.remainder}`);
    }
  });

  check(G, "OK: Echo returns every byte value unchanged", async () => {
    const c = await alice();
    const bytes = Buffer.from([...Array(256).keys()]);
    const { msg } = await c.call("Echo", encode(root, "example.v1.EchoMessage", { payload: bytes }));
    expectOk(msg, "Echo");
    const out = decode(root, "example.v1.EchoMessage", msg.data).payload;
    assert(Buffer.from(out).equals(bytes), "Echo changed its payload");
  });

  check(G, "handler status: Divide(x, 0) -> 3 INVALID_ARGUMENT \"division by zero\", empty payload", async () => {
    const c = await alice();
    const x = fresh();
    const { msg } = await c.call("Divide", div(x, 0));
    expectError(msg, CODES.INVALID_ARGUMENT, `Divide(${x}, 0)`, /^division by zero$/);
  });

  check(G, "handler status: Add(INT64_MAX, 1) -> 11 OUT_OF_RANGE", async () => {
    const c = await alice();
    const { msg } = await c.call("Add", add(INT64_MAX, 1));
    expectError(msg, CODES.OUT_OF_RANGE, "Add(INT64_MAX, 1)", /overflow/);
  });

  check(G, "handler status: Divide(INT64_MIN, -1) -> 11 OUT_OF_RANGE", async () => {
    const c = await alice();
    const { msg } = await c.call("Divide", div(INT64_MIN, -1));
    expectError(msg, CODES.OUT_OF_RANGE, "Divide(INT64_MIN, -1)", /overflow/);
  });

  check(G, "payload that does not decode (ff ff) -> 3 INVALID_ARGUMENT, handler not run", async () => {
    const c = await alice();
    const { msg } = await c.call("Add", Uint8Array.from([0xff, 0xff]));
    expectError(msg, CODES.INVALID_ARGUMENT, "Add with payload ff ff");
  });

  check(G, "unknown method token -> 12 UNIMPLEMENTED", async () => {
    const c = await alice();
    const { msg } = await c.call("Nope", add(1, 2));
    expectError(msg, CODES.UNIMPLEMENTED, "Calculator.Nope");
  });

  check(G, "unary request to a streaming method (FileStore.Download) -> 12 UNIMPLEMENTED", async () => {
    const c = await alice();
    const { msg } = await c.call("Download",
      encode(root, "example.v1.DownloadRequest", { name: "sample.bin" }), { service: "FileStore" });
    expectError(msg, CODES.UNIMPLEMENTED, "unary FileStore.Download");
  });

  check(G, "no responders (responder eve) -> NATS status 503 on the reply subject, at once", async () => {
    const c = await alice();
    const t0 = Date.now();
    const { msg } = await c.call("Add", add(1, 2), { responder: "eve" });
    assert(msg, "no message at all on the reply subject");
    assert(statusOf(msg).noResponders, `expected a 503 status, got ${describe(msg)}`);
    assert(Date.now() - t0 < 1000, `503 took ${Date.now() - t0} ms`);
  });

  for (const zero of ["0n", "0S", "00H"]) {
    check(G, `Natsrpc-Timeout ${zero} -> 4 DEADLINE_EXCEEDED, handler not run`, async () => {
      const c = await alice();
      const a = fresh();
      const { msg } = await c.call("Add", add(a, 1),
        { headers: [[H.timeout, zero], [H.contentType, PROTOBUF]] });
      expectError(msg, CODES.DEADLINE_EXCEEDED, `Add with Natsrpc-Timeout ${zero}`);
      await expectHandlerNotRun(ranAdd(a, 1), `Natsrpc-Timeout ${zero}`);
    });
  }

  check(G, "Natsrpc-Timeout 1n: deadline passes before the handler -> 4 DEADLINE_EXCEEDED, handler not run", async () => {
    const c = await alice();
    const a = fresh();
    const { msg } = await c.call("Add", add(a, 2),
      { headers: [[H.timeout, "1n"], [H.contentType, PROTOBUF]] });
    expectError(msg, CODES.DEADLINE_EXCEEDED, "Add with Natsrpc-Timeout 1n");
    await expectHandlerNotRun(ranAdd(a, 2), "Natsrpc-Timeout 1n");
  });

  const good = ["2H", "3M", "5S", "5000m", "5000000u", "99999999n", "00000005S", "99999999S"];
  check(G, `Natsrpc-Timeout accepted in every unit: ${good.join(" ")}`, async () => {
    const c = await alice();
    for (const t of good) {
      const a = fresh();
      const { msg } = await c.call("Add", add(a, 3), { headers: [[H.timeout, t], [H.contentType, PROTOBUF]] });
      expectOk(msg, `Natsrpc-Timeout ${t}`);
      assert(BigInt(decode(root, "example.v1.AddReply", msg.data).sum) === BigInt(a + 3),
        `Natsrpc-Timeout ${t}: wrong sum`);
    }
  });

  check(G, "no Natsrpc-Timeout header: no deadline, answered OK", async () => {
    const c = await alice();
    const { msg } = await c.call("Add", add(20, 22), { headers: [[H.contentType, PROTOBUF]] });
    expectOk(msg, "Add without Natsrpc-Timeout");
  });

  check(G, "no headers at all (plain PUB): answered OK", async () => {
    const c = await alice();
    const { msg } = await c.call("Add", add(20, 23), { headers: null });
    expectOk(msg, "Add without headers");
    assert(BigInt(decode(root, "example.v1.AddReply", msg.data).sum) === 43n, "wrong sum");
  });

  const bad = ["5x", "5s", "S", "123456789u", "-5S", "1.5S", "5", "+5S", "5SS"];
  check(G, `malformed Natsrpc-Timeout -> 3 INVALID_ARGUMENT, handler not run: ${bad.join(" ")}`, async () => {
    const c = await alice();
    for (const t of bad) {
      const a = fresh();
      const { msg } = await c.call("Add", add(a, 4), { headers: [[H.timeout, t], [H.contentType, PROTOBUF]] });
      expectError(msg, CODES.INVALID_ARGUMENT, `Natsrpc-Timeout "${t}"`);
      await expectHandlerNotRun(ranAdd(a, 4), `Natsrpc-Timeout "${t}"`);
    }
  });

  check(G, "header names match exactly: natsrpc-timeout: 0n (lower case) is not Natsrpc-Timeout", async () => {
    const c = await alice();
    const { msg } = await c.call("Add", add(1, 1),
      { headers: [["natsrpc-timeout", "0n"], [H.contentType, PROTOBUF]] });
    expectOk(msg, "Add with natsrpc-timeout: 0n");
  });

  check(G, "application metadata headers do not disturb the call; none echoed on the reply", async () => {
    const c = await alice();
    const { msg } = await c.call("Add", add(5, 6), {
      headers: [[H.timeout, "5S"], [H.contentType, PROTOBUF], ["x-trace", "abc"], ["x-trace", "def"],
        ["X-Other", "v"]],
    });
    expectOk(msg, "Add with metadata");
    assert(BigInt(decode(root, "example.v1.AddReply", msg.data).sum) === 11n, "wrong sum");
    assert(header(msg, "x-trace") === undefined, "request metadata came back on the reply");
  });

  check(G, "reply larger than max_payload -> 8 RESOURCE_EXHAUSTED", async () => {
    const c = await alice();
    const max = ctx.nc.info.max_payload;
    // A request without headers of exactly max_payload bytes fits; the same
    // message echoed with a Content-Type header does not.
    const data = Buffer.alloc(max - 4, 0x61); // 1 tag byte + 3 length bytes
    const payload = encode(root, "example.v1.EchoMessage", { payload: data });
    assert(payload.length === max, `request is ${payload.length} bytes, max_payload ${max}`);
    const { msg } = await c.call("Echo", payload, { headers: null, waitMs: 5000 });
    expectError(msg, CODES.RESOURCE_EXHAUSTED, "Echo of max_payload bytes");
  });

  // Section 5: a reply-to that does not match is dropped without an answer.
  check(G, "reply-to check (section 5): mismatching reply-to dropped unanswered, handler not run; next call answered", async () => {
    const c = await alice();
    const id = c.clientId;
    const variants = [
      ["other requester", `responses.carol.bob.example_v1.${id}.1`],
      ["other responder", `responses.alice.eve.example_v1.${id}.2`],
      ["other app", `responses.alice.bob.other_app.${id}.3`],
      ["_INBOX", `_INBOX.${id}.4`],
      ["5 tokens", `responses.alice.bob.example_v1.${id}`],
      ["7 tokens", `responses.alice.bob.example_v1.${id}.6.7`],
      ["not responses", `replies.alice.bob.example_v1.${id}.8`],
    ];
    // Everything published anywhere outside requests.> is seen here.
    const seen = new MsgQueue();
    const watch = ctx.nc.subscribe(">", {
      callback: (err, m) => { if (!err && !m.subject.startsWith("requests.")) seen.push(m); },
    });
    await bounded(ctx.nc.flush(), 3000, "flush");
    try {
      const ops = [];
      for (const [, reply] of variants) {
        const a = fresh();
        ops.push(a);
        ctx.nc.publish(c.subject("bob", "example_v1", "Calculator", "Add"), add(a, 5),
          { reply, headers: hdrs([[H.timeout, "5S"], [H.contentType, PROTOBUF]]) });
      }
      const a0 = fresh();
      ops.push(a0);
      ctx.nc.publish(c.subject("bob", "example_v1", "Calculator", "Add"), add(a0, 5),
        { headers: hdrs([[H.timeout, "5S"], [H.contentType, PROTOBUF]]) }); // no reply-to
      const { msg } = await c.call("Add", add(40, 2));
      expectOk(msg, "valid Add after the spoofed ones");
      await sleep(300);
      const stray = seen.all.filter((m) => variants.some(([, r]) => r === m.subject));
      assert(stray.length === 0, `answered: ${stray.map(describe).join(" | ")}`);
      for (const a of ops) await expectHandlerNotRun(ranAdd(a, 5), `spoofed Add(${a}, 5)`);
    } finally {
      watch.unsubscribe();
    }
  });

  // Section 9.8 for unary calls.
  check(G, "unary cancel (9.8): a cancel for an unknown call is dropped; nothing sent, server answers after", async () => {
    const c = await alice();
    const seen = new MsgQueue();
    const watch = ctx.nc.subscribe("responses.>", { callback: (err, m) => { if (!err) seen.push(m); } });
    await bounded(ctx.nc.flush(), 3000, "flush");
    try {
      ctx.nc.publish(`requests.alice.bob.example_v1.Calculator.Add.cancel.${c.clientId}.999999`);
      ctx.nc.publish(`requests.alice.bob.example_v1.Calculator.Add.cancel.${c.clientId}.${c.seq}`);
      const { seq, msg } = await c.call("Add", add(1, 2));
      expectOk(msg, "Add after cancels of unknown calls");
      await sleep(200);
      const other = seen.all.filter((m) => !m.subject.endsWith(`.${c.clientId}.${seq}`));
      assert(other.length === 0, `unexpected: ${other.map(describe).join(" | ")}`);
    } finally {
      watch.unsubscribe();
    }
  });

  check(G, "unary cancel (9.8): request + cancel back to back, 20 calls: never an error reply, at most one reply each", async () => {
    // The example's handlers are instantaneous, so whether the cancel beats
    // the handler is a race; what the spec forbids in every outcome is any
    // answer other than the call's normal reply (no CANCELLED reply), and
    // more than one answer.
    const c = await alice();
    const seqs = [];
    for (let i = 0; i < 20; i++) {
      const a = fresh();
      const seq = c.send("Add", add(a, 6));
      ctx.nc.publish(`requests.alice.bob.example_v1.Calculator.Add.cancel.${c.clientId}.${seq}`);
      seqs.push([seq, a]);
    }
    const { msg } = await c.call("Add", add(2, 2));
    expectOk(msg, "Add after the cancelled calls");
    await sleep(300);
    let answered = 0;
    for (const [seq, a] of seqs) {
      const q = c.queue(seq);
      assert(q.all.length <= 1, `call ${seq} got ${q.all.length} replies`);
      if (q.all.length === 1) {
        answered++;
        expectOk(q.all[0], `cancelled Add(${a}, 6)`);
      }
    }
    ctx.note?.(`unary cancel race: ${20 - answered} of 20 calls were cancelled before their reply`);
  });

  // Known bug (a), unary form (issue 10): a cancel that reaches the server
  // before its call (two subscriptions, two delivery threads) is lost today.
  // Issue 10 asks for it to be remembered for a bounded time and applied when
  // the call arrives. Made deterministic by letting the cancels reach the
  // server first (flush + 100 ms) before the requests are published.
  check("known-bugs", "known bug (a, unary): a cancel that reaches the server before its request is applied: 10 calls, no reply, handler not run", async () => {
    const c = await alice();
    const calls = [];
    for (let i = 0; i < 10; i++) {
      const seq = c.nextSeq();
      calls.push({ seq, a: fresh() });
      ctx.nc.publish(`requests.alice.bob.example_v1.Calculator.Add.cancel.${c.clientId}.${seq}`);
    }
    await bounded(ctx.nc.flush(), 3000, "flush");
    await sleep(100);
    for (const { seq, a } of calls) {
      ctx.nc.publish(c.subject("bob", "example_v1", "Calculator", "Add"), add(a, 7), {
        reply: c.replyTo("bob", "example_v1", seq),
        headers: hdrs([[H.timeout, "5S"], [H.contentType, PROTOBUF]]),
      });
    }
    const { msg } = await c.call("Add", add(3, 4));
    expectOk(msg, "Add after the cancelled calls");
    await sleep(300);
    const answered = calls.filter(({ seq }) => c.queue(seq).all.length > 0);
    const ran = calls.filter(({ a }) => logLines(ctx.calcLog).some(ranAdd(a, 7)));
    assert(answered.length === 0 && ran.length === 0,
      `${answered.length} of 10 cancelled calls answered, ${ran.length} handlers ran (cancel before the call lost)`);
  });
}
