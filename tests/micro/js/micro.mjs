// natsrpc's ADR-32 discovery read with NATS's own service client
// (@nats-io/services): the example servers (responder bob) after a known
// number of calls and errors (run.sh ran calculator_client and
// streaming_client once each). Prints one line per check and ends with
// "N passed, M failed".
import { connect } from "@nats-io/transport-node";
import { Svcm } from "@nats-io/services";

let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ""}`);
  }
}
function eq(name, got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  check(name, g === w, `got ${g}, want ${w}`);
}

async function collect(iterPromise) {
  const out = [];
  for await (const r of await iterPromise) out.push(r);
  return out;
}

const byName = (list) => Object.fromEntries(list.map((s) => [s.name, s]));
const endpoint = (svc, name) => (svc?.endpoints ?? []).find((e) => e.name === name);

const nc = await connect({ servers: process.env.NATS_URL, reconnect: false });
try {
  const client = new Svcm(nc).client({ strategy: "stall", maxWait: 5000, stall: 1000 });

  // PING: every service of both servers, one instance each.
  const pings = await collect(client.ping());
  eq("ping lists the services", pings.map((p) => p.name).sort(),
     ["example_v1-ChatRoom", "example_v1-Calculator", "example_v1-FileStore"].sort());
  for (const p of pings) {
    eq(`ping ${p.name}: type`, p.type, "io.nats.micro.v1.ping_response");
    check(`ping ${p.name}: id`, /^[0-9A-Za-z]{22}$/.test(p.id), p.id);
    eq(`ping ${p.name}: version`, p.version, "0.0.0");
    eq(`ping ${p.name}: responder`, p.metadata["natsrpc.responder"], "bob");
    eq(`ping ${p.name}: app`, p.metadata["natsrpc.app"], "example_v1");
  }
  const calcId = pings.find((p) => p.name === "example_v1-Calculator")?.id;
  const fsId = pings.find((p) => p.name === "example_v1-FileStore")?.id;
  const chatId = pings.find((p) => p.name === "example_v1-ChatRoom")?.id;
  eq("one server instance serves FileStore and ChatRoom", fsId, chatId);
  check("the two servers have different ids", calcId !== fsId, `${calcId} ${fsId}`);

  // INFO by name.
  const infos = byName(await collect(client.info("example_v1-Calculator")));
  const calc = infos["example_v1-Calculator"];
  eq("info by name answers one service", Object.keys(infos), ["example_v1-Calculator"]);
  eq("info: type", calc?.type, "io.nats.micro.v1.info_response");
  eq("info: description", calc?.description, "Integer arithmetic over NATS.");
  eq("info: full service name", calc?.metadata["natsrpc.service"], "example.v1.Calculator");
  eq("info: endpoints", (calc?.endpoints ?? []).map((e) => e.name), ["Add", "Divide", "Echo"]);
  const add = endpoint(calc, "Add");
  eq("info Add: subject", add?.subject, "requests.*.bob.example_v1.Calculator.Add");
  eq("info Add: queue group", add?.queue_group, "natsrpc.bob.example_v1");
  eq("info Add: metadata", add?.metadata, {
    "natsrpc.kind": "unary",
    "natsrpc.request_type": "example.v1.AddRequest",
    "natsrpc.response_type": "example.v1.AddReply",
  });

  // INFO by name and id: the streaming kinds.
  const fsInfo = (await collect(client.info("example_v1-FileStore", fsId)))[0];
  eq("info FileStore by id", fsInfo?.id, fsId);
  eq("info Download: kind", endpoint(fsInfo, "Download")?.metadata["natsrpc.kind"], "server");
  eq("info Upload: kind", endpoint(fsInfo, "Upload")?.metadata["natsrpc.kind"], "client");
  const chatInfo = (await collect(client.info("example_v1-ChatRoom", chatId)))[0];
  eq("info Chat: kind", endpoint(chatInfo, "Chat")?.metadata["natsrpc.kind"], "bidi");
  eq("info for another id answers nothing",
     (await collect(client.info("example_v1-Calculator", fsId))).length, 0);

  // STATS: calculator_client made Add x2, Divide x2 (one division by zero),
  // Echo x0; streaming_client Download x4 (NOT_FOUND and a cancel among
  // them), Upload x1, Chat x1.
  const stats = byName(await collect(client.stats()));
  const cs = stats["example_v1-Calculator"];
  eq("stats: type", cs?.type, "io.nats.micro.v1.stats_response");
  check("stats: started is a date in the past",
        !Number.isNaN(Date.parse(cs?.started)) && Date.parse(cs?.started) <= Date.now(),
        cs?.started);
  const counts = (svc, name) => {
    const e = endpoint(svc, name);
    return e && [e.num_requests, e.num_errors];
  };
  eq("stats Add: requests, errors", counts(cs, "Add"), [2, 0]);
  eq("stats Divide: requests, errors", counts(cs, "Divide"), [2, 1]);
  eq("stats Divide: last error", endpoint(cs, "Divide")?.last_error,
     "INVALID_ARGUMENT: division by zero");
  eq("stats Echo: requests, errors", counts(cs, "Echo"), [0, 0]);
  const add2 = endpoint(cs, "Add");
  check("stats Add: processing time in ns",
        add2?.processing_time > 0 &&
        add2.average_processing_time === Math.floor(add2.processing_time / 2),
        JSON.stringify(add2));
  eq("stats Add: subject and queue group", [add2?.subject, add2?.queue_group],
     ["requests.*.bob.example_v1.Calculator.Add", "natsrpc.bob.example_v1"]);
  // streaming_client's last Download is cancelled as the client exits: the
  // server counts that stream's end once its handler has seen the cancel (or,
  // if the cancel was lost, the stream's liveness timeout), which may be after
  // the client is gone. Ask again until it is counted, for at most 20 s.
  let fs = stats["example_v1-FileStore"];
  for (const until = Date.now() + 20000;
       Date.now() < until && counts(fs, "Download")?.[1] !== 2;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    fs = byName(await collect(client.stats("example_v1-FileStore")))["example_v1-FileStore"];
  }
  eq("stats Download: requests, errors", counts(fs, "Download"), [4, 2]);
  eq("stats Upload: requests, errors", counts(fs, "Upload"), [1, 0]);
  eq("stats Chat: requests, errors", counts(stats["example_v1-ChatRoom"], "Chat"), [1, 0]);
} catch (err) {
  check("no exception", false, err?.stack ?? String(err));
} finally {
  await nc.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
