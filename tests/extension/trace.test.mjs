import { test } from "node:test";
import assert from "node:assert/strict";
import { startTrace } from "../../extension/modules/trace.mjs";

test("no trace when timing is off", () => {
  assert.equal(startTrace(false, { messageId: 1 }), null);
});

test("a trace reports each step's duration, the total and its facts as one console line", () => {
  let clock = 1000;
  const lines = [];
  const trace = startTrace(true, { messageId: 7 }, { now: () => clock, log: (line) => lines.push(line) });
  clock += 5;
  trace.mark("getRaw");
  trace.set("bytes", 42);
  clock += 2.5;
  trace.mark("post");
  clock += 10;
  trace.mark("reply");
  trace.report();
  assert.equal(lines.length, 1);
  const [prefix, json] = lines[0].split(/ (?=\{)/);
  assert.equal(prefix, "smime-companion timing");
  assert.deepEqual(JSON.parse(json), {
    messageId: 7, bytes: 42, start: 1000, total_ms: 17.5, steps: { getRaw: 5, post: 2.5, reply: 10 },
  });
});

test("with the host's clock, the wait for the reply is split into the way there, the host and the way back", () => {
  let clock = 5000;
  const lines = [];
  const trace = startTrace(true, {}, { now: () => clock, log: (line) => lines.push(line) });
  clock += 4;
  trace.mark("post");
  clock += 100;
  trace.set("host", { received_at_ms: 5030, read_ms: 5, handle_ms: 20 });
  trace.mark("reply");
  clock += 8;
  trace.mark("shown");
  trace.report();
  const summary = JSON.parse(lines[0].split(/ (?=\{)/)[1]);
  assert.deepEqual(summary.steps, { post: 4, to_host: 26, host: 25, from_host: 49, shown: 8 });
  assert.equal(summary.total_ms, 112);
});
