// Section 2's permission grants, used as written: run.sh starts a second
// nats-server with the spec's authorization block (alice may publish
// requests.alice.> and subscribe responses.alice.>; bob publishes
// responses.*.bob.> and subscribes requests.*.bob.>; dave the same for
// responder dave) and the C++ example servers as bob. A JS client as alice and a JS server as bob must need
// nothing else, and the C++ client reports a refused publish as
// PERMISSION_DENIED (section 4).

import { connect } from "@nats-io/transport-node";
import {
  assert, bounded, Caller, check, CODES, decode, describe, encode, H, header, once, statusOf,
} from "./lib.mjs";
import { StreamCall } from "./streams.mjs";
import { runClient, startCalculatorServer } from "./reverse.mjs";

// A connection as `user` that records every permission error NATS reports.
async function connectAs(port, user) {
  const nc = await connect({ servers: `nats://127.0.0.1:${port}`, user, pass: `${user}-secret`,
    name: `conformance-js-${user}`, reconnect: false });
  const errors = [];
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error") errors.push(String(s.error?.message ?? s.error));
    }
  })().catch(() => {});
  return { nc, errors };
}

export function register(ctx) {
  const G = "permissions";
  const port = ctx.authPort;
  const alice = once(async () => {
    const a = await connectAs(port, "alice");
    a.caller = await new Caller(a.nc, "alice").start();
    return a;
  });
  const noErrors = async (a, what) => {
    await bounded(a.nc.flush(), 3000, "flush");
    assert(a.errors.length === 0, `${what}: NATS reported ${a.errors.join(" | ")}`);
  };

  check(G, "alice's grants suffice for unary calls: JS alice -> C++ calculator_server (bob's grants): Add OK, Divide(1, 0) -> 3", async () => {
    const a = await alice();
    const add = await a.caller.call("Add", encode(ctx.root, "example.v1.AddRequest", { a: "20", b: "22" }));
    assert(add.msg && statusOf(add.msg).ok, `Add: ${describe(add.msg)}`);
    assert(BigInt(decode(ctx.root, "example.v1.AddReply", add.msg.data).sum) === 42n, "wrong sum");
    const div = await a.caller.call("Divide", encode(ctx.root, "example.v1.DivideRequest", { dividend: "1", divisor: "0" }));
    assert(div.msg && statusOf(div.msg).code === CODES.INVALID_ARGUMENT, `Divide(1, 0): ${describe(div.msg)}`);
    await noErrors(a, "unary calls");
  });

  check(G, "alice's grants suffice for streams: Download to its end, credit, and a cancel on the cancel subject", async () => {
    const a = await alice();
    const req = (name, chunk) => encode(ctx.root, "example.v1.DownloadRequest", { name, chunk_size: chunk });
    const call = new StreamCall(a.caller, "FileStore", "Download").open(req("sample.bin", 131072), { credit: 2 });
    await call.accept();
    let n = 0;
    for (;;) {
      const m = await call.next(3000);
      assert(m, `stream stalled after ${n} msgs`);
      const k = header(m, H.stream);
      if (k === "msg") {
        n++;
        call.grant(n + 2);
      } else if (k === "end") {
        assert(statusOf(m).ok && header(m, H.count) === String(n), `end: ${describe(m)}`);
        break;
      } else if (k !== "ping") {
        throw new Error(`unexpected ${describe(m)}`);
      }
    }
    assert(n === 8, `${n} chunks of 128 KiB`);
    const c2 = new StreamCall(a.caller, "FileStore", "Download").open(req("sample.bin", 1024), { credit: 1 });
    await c2.accept();
    c2.cancelOnCancelSubject();
    await noErrors(a, "streams");
  });

  check(G, "a responder's grants suffice for a JS server: C++ calculator_client as alice -> JS server as dave prints the README's lines", async () => {
    // dave has bob's grants for responder dave (run.sh's auth.conf), so the
    // JS server is the only instance and gets every call.
    const d = await connectAs(port, "dave");
    const server = startCalculatorServer(d.nc, ctx.root, "dave", "normal");
    await server.ready();
    let run;
    try {
      run = await runClient(ctx.calculatorClient, `nats://alice:alice-secret@127.0.0.1:${port}`, "dave");
    } finally {
      server.stop();
    }
    const want = [
      "Add(2, 3) = 5",
      "Divide(17, 5) = 3 remainder 2",
      "Divide(1, 0) -> INVALID_ARGUMENT: division by zero (as expected)",
      "AddAsync(40, 2) = 42",
    ];
    assert(JSON.stringify(run.lines) === JSON.stringify(want), `client printed ${JSON.stringify(run.lines)}`);
    assert(server.requests.length === 4, `the JS server got ${server.requests.length} requests`);
    await bounded(d.nc.flush(), 3000, "flush");
    assert(d.errors.length === 0, `dave's connection: ${d.errors.join(" | ")}`);
    await d.nc.close();
  });

  // Control for the checks above: a violation is seen by connectAs().
  check(G, "control: a publish outside alice's grant (requests.carol.>) is reported as a permission error", async () => {
    const x = await connectAs(port, "alice");
    x.nc.publish("requests.carol.bob.example_v1.Calculator.Add", new Uint8Array(0));
    await bounded(x.nc.flush(), 3000, "flush");
    const end = Date.now() + 2000;
    while (x.errors.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await x.nc.close();
    assert(x.errors.some((e) => /permission/i.test(e)), `errors seen: ${JSON.stringify(x.errors)}`);
  });

  check(G, "C++ client: acting as another requester (alice's credentials, requester carol) -> PERMISSION_DENIED, not a timeout", async () => {
    const run = await runClient(ctx.calculatorClient, `nats://alice:alice-secret@127.0.0.1:${port}`, "bob", 15000, "carol");
    // NATS refuses carol's reply subscription (the client then fails at
    // once, naming it) or, if that goes unnoticed, the request's publish.
    const l = run.lines.find((x) => x.startsWith("Add(2, 3)") ||
                                    x.startsWith("bad client options"));
    assert(l?.startsWith("Add(2, 3) -> PERMISSION_DENIED") ||
           (l?.includes("PERMISSION_DENIED") && l.includes("responses.carol.")),
           `client printed ${JSON.stringify(run.lines)}`);
    assert(run.ms < 4000, `the client took ${run.ms} ms (Add's timeout is 5 s)`);
  });
}
