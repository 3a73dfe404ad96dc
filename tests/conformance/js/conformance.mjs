// natsrpc conformance suite in JavaScript, written from docs/protocol.md.
// run.sh starts nats-server and the C++ example servers, then runs this with
//
//   NATS_URL=nats://127.0.0.1:<port> PROTO_DIR=<repo>/proto \
//   CALC_LOG=<calculator_server's log> STREAM_LOG=<streaming_server's log> \
//   CALCULATOR_CLIENT=<calculator_client> node conformance.mjs [--groups a,b]
//
// Groups: unary, stream, reverse, permissions, known-bugs (all by default; also
// CONFORMANCE_GROUPS=...). Prints one line per check and "N passed, M failed".

import { assert, check, connectNats, loadProtos, logLines, runChecks } from "./lib.mjs";
import * as unary from "./unary.mjs";
import * as streams from "./streams.mjs";
import * as reverse from "./reverse.mjs";
import * as permissions from "./permissions.mjs";

const ALL = ["unary", "stream", "reverse", "permissions", "known-bugs"];

function groupsFromArgs() {
  let spec = process.env.CONFORMANCE_GROUPS || "";
  const i = process.argv.indexOf("--groups");
  if (i >= 0) spec = process.argv[i + 1] ?? "";
  if (!spec) return ALL;
  const groups = spec.split(",").map((g) => g.trim()).filter(Boolean);
  for (const g of groups) {
    if (!ALL.includes(g)) {
      console.error(`unknown group "${g}"; groups: ${ALL.join(", ")}`);
      process.exit(2);
    }
  }
  return groups;
}

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`conformance.mjs: ${name} is not set (run it through run.sh)`);
    process.exit(2);
  }
  return v;
}

// A stray rejection (e.g. from a check that already timed out) is reported,
// not fatal: the run still ends with its summary.
process.on("unhandledRejection", (e) => console.log(`     note: unhandled rejection: ${e?.message ?? e}`));

const groups = groupsFromArgs();
const ctx = {
  url: need("NATS_URL"),
  calcLog: need("CALC_LOG"),
  streamLog: need("STREAM_LOG"),
  calculatorClient: need("CALCULATOR_CLIENT"),
  authPort: need("AUTH_NATS_PORT"),
  logLines,
  note: (s) => console.log(`     note: ${s}`),
};
ctx.root = await loadProtos(need("PROTO_DIR"));
ctx.nc = await connectNats(ctx.url, "natsrpc-conformance-js");

ctx.nc.closed().then((err) => {
  if (!done) console.log(`     note: the suite's NATS connection closed early: ${err?.message ?? "no error"}`);
});
let done = false;

unary.register(ctx);
streams.register(ctx);
reverse.register(ctx);
permissions.register(ctx);

// Last: every check above must have left the C++ servers running.
for (const [name, pid] of [["calculator_server", process.env.CALC_PID], ["streaming_server", process.env.STREAM_PID],
  ["calculator_server (as bob, with authorization)", process.env.CALC_AUTH_PID],
  ["streaming_server (as bob, with authorization)", process.env.STREAM_AUTH_PID]]) {
  if (!pid) continue;
  check("servers", `${name} (pid ${pid}) survived every check above`, async () => {
    let alive = true;
    try { process.kill(Number(pid), 0); } catch { alive = false; }
    assert(alive, `${name} is gone`);
  });
}

const { passed, failed } = await runChecks(groups);
done = true;
await Promise.race([ctx.nc.drain().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
