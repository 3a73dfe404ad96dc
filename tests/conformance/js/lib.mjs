// Shared pieces of the JavaScript conformance suite, written from
// docs/protocol.md alone: names and subjects (sections 1, 2), headers and the
// Natsrpc-Timeout format (section 3), status codes (section 4), a minimal
// caller (section 8's client checklist) and a tiny check harness.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- protobuf

// Loads the example .proto files from the repository's proto/ folder at run
// time. google/protobuf/descriptor.proto (imported by natsrpc/options.proto)
// comes with protobufjs.
export async function loadProtos(protoDir) {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (path.isAbsolute(target)) return target;
    if (target.startsWith("google/protobuf/")) {
      return path.join(here, "node_modules", "protobufjs", target);
    }
    return path.join(protoDir, target);
  };
  await root.load(["example/v1/calculator.proto", "example/v1/streaming.proto"],
    { keepCase: true });
  // Section 4.1 (revision 3): the exact status in an error reply's body is a
  // google.rpc.Status; written here from the spec's field list.
  root.addJSON({
    google: { nested: { rpc: { nested: { Status: { fields: {
      code: { type: "int32", id: 1 },
      message: { type: "string", id: 2 },
      details: { rule: "repeated", type: "google.protobuf.Any", id: 3 },
    } } } } } },
  });
  if (!root.lookup("google.protobuf.Any")) {
    root.addJSON({ google: { nested: { protobuf: { nested: { Any: { fields: {
      type_url: { type: "string", id: 1 },
      value: { type: "bytes", id: 2 },
    } } } } } } });
  }
  root.resolveAll();
  return root;
}

// int64 fields may be given as decimal strings (fromObject converts them).
export function encode(root, type, obj) {
  const t = root.lookupType(type);
  return t.encode(t.fromObject(obj)).finish();
}

export function decode(root, type, bytes) {
  const t = root.lookupType(type);
  return t.toObject(t.decode(bytes), { longs: String, bytes: Buffer, defaults: true });
}

// ---------------------------------------------------------------- names

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// A random token of base62 characters (section 1: client ids, instance ids).
export function randomToken(n = 22) {
  let s = "";
  while (s.length < n) {
    for (const b of crypto.randomBytes(n)) {
      if (b < 248 && s.length < n) s += BASE62[b % 62]; // 248 = 4 * 62: no bias
    }
  }
  return s;
}

export const TOKEN = /^[A-Za-z0-9_-]+$/;

// ---------------------------------------------------------------- timeouts

const UNIT_NANOS = { H: 3600n * 10n ** 9n, M: 60n * 10n ** 9n, S: 10n ** 9n,
                     m: 10n ** 6n, u: 10n ** 3n, n: 1n };

// Natsrpc-Timeout (section 3): 1 to 8 digits and a unit. Returns nanoseconds
// as a BigInt, or null when malformed.
export function parseTimeout(value) {
  const m = /^([0-9]{1,8})([HMSmun])$/.exec(value ?? "");
  if (!m) return null;
  return BigInt(m[1]) * UNIT_NANOS[m[2]];
}

// The finest unit whose value fits in 8 digits, rounded up (section 3).
export function encodeTimeoutMs(ms) {
  const nanos = BigInt(Math.ceil(ms * 1e6));
  for (const unit of ["n", "u", "m", "S", "M", "H"]) {
    const per = UNIT_NANOS[unit];
    const v = (nanos + per - 1n) / per;
    if (v < 100000000n) return `${v}${unit}`;
  }
  throw new Error(`timeout ${ms} ms too large`);
}

// ---------------------------------------------------------------- headers

export const H = {
  timeout: "Natsrpc-Timeout",
  contentType: "Content-Type",
  code: "Nats-Service-Error-Code",
  error: "Nats-Service-Error",
  stream: "Natsrpc-Stream",
  seq: "Natsrpc-Seq",
  count: "Natsrpc-Count",
  credit: "Natsrpc-Credit",
  heartbeat: "Natsrpc-Heartbeat",
};
export const PROTOBUF = "application/protobuf";

// Builds NATS headers with the names exactly as given (an array of [k, v]
// pairs, or an object).
export function hdrs(pairs) {
  const h = natsHeaders();
  const list = Array.isArray(pairs) ? pairs : Object.entries(pairs);
  for (const [k, v] of list) h.append(k, String(v));
  return h;
}

// Header value (exact name) or undefined.
export function header(msg, name) {
  if (!msg?.headers) return undefined;
  return msg.headers.has(name) ? msg.headers.get(name) : undefined;
}

export function describe(msg) {
  if (!msg) return "nothing";
  const hs = [];
  if (msg.headers) {
    if (msg.headers.code) hs.push(`status ${msg.headers.code}`);
    for (const [k, v] of msg.headers) hs.push(`${k}: ${v.join(",")}`);
  }
  return `${msg.subject} [${hs.join("; ")}] ${msg.data?.length ?? 0} bytes`;
}

// Section 4.1: the google.rpc.Status body of an error reply or error end, or
// null when the body is empty (a revision-2 peer).
export function statusBody(root, msg) {
  if (!msg.data || msg.data.length === 0) return null;
  return decode(root, "google.rpc.Status", msg.data);
}

// Section 4: what a reply says. {noResponders} | {code, message} | {ok}.
export function statusOf(msg) {
  if (msg.headers && msg.headers.code === 503 && msg.data.length === 0) {
    return { noResponders: true };
  }
  const code = header(msg, H.code);
  if (code !== undefined) {
    return { code: Number(code), rawCode: code, message: header(msg, H.error) ?? "" };
  }
  return { ok: true };
}

export const CODES = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12,
  INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

// ---------------------------------------------------------------- misc

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// A promise that rejects with `what` if p has not settled after ms.
export function bounded(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// Memoizes an async function: several checks share one scenario.
export function once(fn) {
  let p;
  return () => (p ??= fn());
}

// A queue of messages with bounded waits.
export class MsgQueue {
  constructor() {
    this.items = [];
    this.waiters = [];
    this.all = [];
  }
  push(m) {
    this.all.push(m);
    const w = this.waiters.shift();
    if (w) w(m);
    else this.items.push(m);
  }
  // The next message, or null after ms.
  next(ms) {
    if (this.items.length) return Promise.resolve(this.items.shift());
    return new Promise((resolve) => {
      const w = (m) => { clearTimeout(timer); resolve(m); };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      }, ms);
      this.waiters.push(w);
    });
  }
  // The next message for which pred holds, skipping (and keeping in `skipped`)
  // the others; null after ms in total.
  async nextMatching(pred, ms, skipped = []) {
    const end = Date.now() + ms;
    for (;;) {
      const left = end - Date.now();
      if (left <= 0) return null;
      const m = await this.next(left);
      if (m === null) return null;
      if (pred(m)) return m;
      skipped.push(m);
    }
  }
}

// ---------------------------------------------------------------- caller

// A client instance (section 8, client checklist): one response wildcard
// subscription, messages routed by the last token (seq).
export class Caller {
  constructor(nc, requester) {
    assert(TOKEN.test(requester), `bad requester ${requester}`);
    this.nc = nc;
    this.requester = requester;
    this.clientId = randomToken(22);
    this.seq = 0;
    this.queues = new Map();
  }

  async start() {
    this.sub = this.nc.subscribe(`responses.${this.requester}.*.*.${this.clientId}.*`, {
      callback: (err, m) => {
        if (err) return;
        this.queue(m.subject.split(".").pop()).push(m);
      },
    });
    await bounded(this.nc.flush(), 3000, "flush after subscribing");
    return this;
  }

  queue(seq) {
    seq = String(seq);
    if (!this.queues.has(seq)) this.queues.set(seq, new MsgQueue());
    return this.queues.get(seq);
  }

  nextSeq() {
    return String(++this.seq);
  }

  replyTo(responder, app, seq) {
    return `responses.${this.requester}.${responder}.${app}.${this.clientId}.${seq}`;
  }

  subject(responder, app, service, method) {
    return `requests.${this.requester}.${responder}.${app}.${service}.${method}`;
  }

  // Publishes a unary request; returns its seq. opts: responder, app,
  // service, headers (pairs; default timeout + content type), reply (override).
  send(method, payload, opts = {}) {
    const { responder = "bob", app = "example_v1", service = "Calculator" } = opts;
    const seq = this.nextSeq();
    // opts.headers === null: no headers at all (a plain PUB).
    const headerPairs = "headers" in opts ? opts.headers
      : [[H.timeout, "5S"], [H.contentType, PROTOBUF]];
    const pubOpts = { reply: opts.reply ?? this.replyTo(responder, app, seq) };
    if (headerPairs !== null) pubOpts.headers = hdrs(headerPairs);
    this.nc.publish(opts.subject ?? this.subject(responder, app, service, method),
      payload ?? new Uint8Array(0), pubOpts);
    return seq;
  }

  // A unary call: the one reply, or null after waitMs.
  async call(method, payload, opts = {}) {
    const seq = this.send(method, payload, opts);
    const msg = await this.queue(seq).next(opts.waitMs ?? 3000);
    return { seq, msg };
  }
}

export async function connectNats(url, name) {
  return connect({ servers: url, name, reconnect: false });
}

// ---------------------------------------------------------------- logs

// Lines of a server's log file (the C++ example servers print one per call).
export function logLines(file) {
  try {
    return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.length);
  } catch {
    return [];
  }
}

// Waits up to ms for a log line for which pred holds; returns it or null.
export async function waitLog(file, pred, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const line = logLines(file).find(pred);
    if (line !== undefined) return line;
    if (Date.now() >= end) return null;
    await sleep(25);
  }
}

// ---------------------------------------------------------------- harness

const registered = [];

export function check(group, name, fn, { timeoutMs = 15000 } = {}) {
  registered.push({ group, name, fn, timeoutMs });
}

export async function runChecks(groups) {
  let passed = 0;
  let failed = 0;
  // Group by group, in the order given; "servers" (always run) last.
  const order = [...groups.filter((g) => g !== "servers"), "servers"];
  const selected = order.flatMap((g) => registered.filter((c) => c.group === g));
  for (const c of selected) {
    const started = Date.now();
    let timer;
    try {
      await Promise.race([
        c.fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`check did not finish in ${c.timeoutMs} ms`)),
            c.timeoutMs);
        }),
      ]);
      passed++;
      console.log(`ok   [${c.group}] ${c.name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL [${c.group}] ${c.name}: ${e?.message ?? e}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return { passed, failed };
}
