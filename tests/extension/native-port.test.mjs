import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { classifyDisconnect, NativePort, PortState } from "../../extension/modules/native-port.mjs";

// A stand-in for Thunderbird's runtime.Port. `host` answers each posted request (or not).
class FakePort {
  constructor(host) {
    this.host = host;
    this.posted = [];
    this.messageListeners = [];
    this.disconnectListeners = [];
    this.onMessage = { addListener: (l) => this.messageListeners.push(l) };
    this.onDisconnect = { addListener: (l) => this.disconnectListeners.push(l) };
    this.error = null;
  }
  postMessage(request) {
    this.posted.push(request);
    queueMicrotask(() => this.host(request, this));
  }
  deliver(frame) {
    for (const l of this.messageListeners) l(frame);
  }
  die(message) {
    this.error = message ? { message } : null;
    for (const l of this.disconnectListeners) l(this);
  }
  disconnect() {
    this.disconnected = true;
  }
}

// Timers run only when the test says so.
class FakeTimers {
  constructor() { this.queue = []; this.nextId = 1; }
  setTimeout(fn, ms) { const id = this.nextId++; this.queue.push({ id, fn, ms }); return id; }
  clearTimeout(id) { this.queue = this.queue.filter((t) => t.id !== id); }
  fire(ms) {
    const due = this.queue.filter((t) => t.ms === ms);
    this.queue = this.queue.filter((t) => t.ms !== ms);
    for (const t of due) t.fn();
    return due.length;
  }
}

const HELLO = { version: "0.1.0", ops: [{ name: "hello" }, { name: "ping" }, { name: "inspect_message" }] };
const tick = () => new Promise((r) => setTimeout(r, 0));

function echoHost(request, port) {
  if (request.op === "hello") port.deliver({ id: request.id, ok: true, result: HELLO });
  else if (request.op === "ping") port.deliver({ id: request.id, ok: true, result: { echo: request.params.echo } });
  else port.deliver({ id: request.id, ok: false, error: { code: "unknown_op", message: "no" } });
}

function connected(host = echoHost) {
  const ports = [];
  const timers = new FakeTimers();
  let clock = 0;
  const port = new NativePort({ connect: () => { const p = new FakePort(host); ports.push(p); return p; }, timers, now: () => ++clock });
  return { port, ports, timers };
}

test("hello makes the port ready and tells which ops the host has", async () => {
  const { port } = connected();
  const states = [];
  port.onStateChange((s) => states.push(s));
  assert.deepEqual(await port.start(), HELLO);
  assert.equal(port.state, PortState.ready);
  assert.ok(port.supports("inspect_message"));
  assert.ok(!port.supports("frobnicate"));
  assert.deepEqual(states, [PortState.connecting, PortState.ready]);
});

test("ready starts the host and checks it has the op", async () => {
  const { port, ports } = connected();
  await port.ready("inspect_message");
  assert.equal(port.state, PortState.ready);
  await assert.rejects(port.ready("frobnicate"), (e) => e.code === "op_unavailable" && /frobnicate/.test(e.message));
  assert.equal(ports.length, 1, "one session for both");
});

test("ready passes on why the host could not start", async () => {
  const { port } = connected((request, p) => p.die("No such native application smime_companion"));
  await assert.rejects(port.ready("ping"), (e) => e.code === "host_missing");
});

test("ready with a timeout stops waiting for a host that does not say hello, and the hello goes on", async () => {
  const held = [];
  const { port, timers } = connected((request, p) => held.push(() => echoHost(request, p)));
  const waiting = port.ready("ping", { timeoutMs: 5000 });
  await tick();
  assert.deepEqual(timers.queue.map((t) => t.ms).sort((a, b) => a - b), [5000, 20000], "the caller's bound beside hello's own timeout");
  assert.equal(timers.fire(5000), 1);
  await assert.rejects(waiting, (e) => e.code === "timeout" && /5000 ms/.test(e.message));
  assert.equal(port.state, PortState.connecting, "the session is not torn down");
  held.shift()();
  await tick();
  assert.equal(port.state, PortState.ready);
  await port.ready("ping", { timeoutMs: 5000 });
  assert.equal(timers.queue.length, 0, "no timer left behind");
});

test("pipelined requests get their own replies, even out of order", async () => {
  const held = [];
  const { port } = connected((request, p) => (request.op === "hello" ? echoHost(request, p) : held.push([request, p])));
  const a = port.request("ping", { echo: "a" });
  const b = port.request("ping", { echo: "b" });
  await tick();
  assert.equal(held.length, 2);
  for (const [request, p] of held.reverse()) echoHost(request, p);
  assert.deepEqual(await Promise.all([a, b]), [{ echo: "a" }, { echo: "b" }]);
});

test("an error reply rejects with the host's code", async () => {
  const { port } = connected();
  await assert.rejects(port.request("frobnicate"), (e) => e.code === "unknown_op");
});

test("a chunked reply arrives as one result", async () => {
  const echo = "x".repeat(3000);
  const { port } = connected((request, p) => {
    if (request.op !== "ping") return echoHost(request, p);
    const text = JSON.stringify({ id: request.id, ok: true, result: { echo } });
    const sha256 = createHash("sha256").update(text).digest("hex");
    const parts = [text.slice(0, 1000), text.slice(1000, 2000), text.slice(2000)];
    parts.forEach((slice, index) => p.deliver({ id: request.id, chunk: { count: 3, index, sha256, total_bytes: text.length, text: slice } }));
  });
  assert.deepEqual(await port.request("ping", { echo }), { echo });
});

test("a corrupt chunked reply fails only its own request", async () => {
  const { port } = connected((request, p) => {
    if (request.params?.echo !== "bad") return echoHost(request, p);
    p.deliver({ id: request.id, chunk: { count: 1, index: 0, sha256: "00", total_bytes: 2, text: "{}" } });
  });
  await assert.rejects(port.request("ping", { echo: "bad" }), (e) => e.code === "reply_corrupt");
  assert.deepEqual(await port.request("ping", { echo: "fine" }), { echo: "fine" });
});

test("a request without an answer times out; a silent host is replaced", async () => {
  const { port, ports, timers } = connected((request, p) => (request.op === "hello" ? echoHost(request, p) : null));
  await port.start();
  const pending = port.request("ping", {}, { timeoutMs: 5000 });
  await tick();
  timers.fire(5000);
  await assert.rejects(pending, (e) => e.code === "timeout");
  assert.ok(ports[0].disconnected, "the hung host is disconnected");
  assert.equal(port.state, PortState.disconnected);
  timers.fire(1000); // first backoff step
  await tick();
  assert.equal(ports.length, 2);
  assert.equal(port.state, PortState.ready);
});

test("'No such native application' means the host is missing, and requests say so", async () => {
  const { port } = connected((request, p) => p.die("No such native application smime_companion"));
  await assert.rejects(port.request("ping"), (e) => e.code === "host_missing");
  assert.equal(port.state, PortState.missing);
  assert.equal(port.lastError, "host_missing");
});

test("'An unexpected error occurred' and an exit before any answer mean the host is broken", async () => {
  assert.equal(classifyDisconnect("An unexpected error occurred", { everAnswered: false }), PortState.broken);
  assert.equal(classifyDisconnect(undefined, { everAnswered: false }), PortState.broken);
  assert.equal(classifyDisconnect(undefined, { everAnswered: true }), PortState.disconnected);
  const { port } = connected((request, p) => p.die("An unexpected error occurred"));
  await assert.rejects(port.request("ping"), (e) => e.code === "host_broken");
});

test("Chromium's reasons are told apart too: not found is missing, forbidden is broken", () => {
  assert.equal(classifyDisconnect("Specified native messaging host not found.", { everAnswered: false }), PortState.missing);
  assert.equal(classifyDisconnect("Access to the specified native messaging host is forbidden.", { everAnswered: false }), PortState.broken);
  assert.equal(classifyDisconnect("Native host has exited.", { everAnswered: true }), PortState.disconnected);
  assert.equal(classifyDisconnect("Native host has exited.", { everAnswered: false }), PortState.broken);
});

test("in Chromium the reason comes from runtime.lastError, read while the port closes", async () => {
  const saved = globalThis.chrome;
  let lastError;
  globalThis.chrome = { runtime: { get lastError() { return lastError; } } };
  try {
    const { port } = connected((request, p) => {
      lastError = { message: "Specified native messaging host not found." };
      p.die(undefined);
      lastError = undefined;
    });
    await assert.rejects(port.request("ping"), (e) => e.code === "host_missing");
    assert.equal(port.state, PortState.missing);
  } finally {
    globalThis.chrome = saved;
  }
});

test("a host that refuses the add-on is reported as caller_not_allowed", async () => {
  const { port } = connected((request, p) => {
    p.deliver({ id: null, ok: false, error: { code: "caller_not_allowed", message: "no" } });
    p.die(null);
  });
  await assert.rejects(port.start(), (e) => e.code === "caller_not_allowed");
  assert.equal(port.state, PortState.broken);
});

test("reconnects with growing backoff until the host is back, then resets", async () => {
  let installed = false;
  const { port, ports, timers } = connected((request, p) => (installed ? echoHost(request, p) : p.die("No such native application smime_companion")));
  await port.start().catch(() => {});
  await tick();
  assert.equal(timers.fire(1000), 1);
  await tick();
  assert.equal(timers.fire(2000), 1, "second wait is twice as long");
  await tick();
  installed = true;
  assert.equal(timers.fire(4000), 1);
  await tick();
  assert.equal(port.state, PortState.ready);
  assert.equal(ports.length, 4);
  assert.equal(timers.queue.length, 0, "no reconnect left scheduled");
});

test("retryNow connects at once instead of waiting for the backoff", async () => {
  let installed = false;
  const { port } = connected((request, p) => (installed ? echoHost(request, p) : p.die("No such native application smime_companion")));
  await port.start().catch(() => {});
  installed = true;
  assert.deepEqual(await port.retryNow(), HELLO);
});

test("a large payload is uploaded as a transfer in order and named by the op", async () => {
  const chunks = [];
  const { port } = connected((request, p) => {
    const reply = (result) => p.deliver({ id: request.id, ok: true, result });
    if (request.op === "transfer_begin") reply({ transfer_id: "t1", suggested_chunk_bytes: 4 });
    else if (request.op === "transfer_chunk") { chunks.push(request.params); reply({ received_bytes: 0 }); }
    else if (request.op === "transfer_end") reply({ transfer_id: "t1" });
    else echoHost(request, p);
  });
  const bytes = new TextEncoder().encode("hello world");
  assert.equal(await port.upload(bytes), "t1");
  assert.deepEqual(chunks.map((c) => c.index), [0, 1, 2]);
  assert.equal(Buffer.concat(chunks.map((c) => Buffer.from(c.data_b64, "base64"))).toString(), "hello world");
});

test("a port can be told to upload smaller payloads, in smaller chunks, more at once", async () => {
  const seen = [];
  let open = 0;
  let most = 0;
  const ports = [];
  const host = (request, p) => {
    seen.push(request.op);
    const reply = (result) => p.deliver({ id: request.id, ok: true, result });
    if (request.op === "transfer_begin") reply({ transfer_id: "t1", suggested_chunk_bytes: 8 * 1024 * 1024 });
    else if (request.op === "transfer_chunk") {
      open++;
      most = Math.max(most, open);
      assert.equal(Buffer.from(request.params.data_b64, "base64").length, request.params.index < 9 ? 3 : 2);
      setTimeout(() => { open--; reply({ received_bytes: 0 }); }, 1);
    } else if (request.op === "transfer_end") reply({ transfer_id: "t1" });
    else if (request.op === "inspect_message") reply({ transfer: request.params.transfer });
    else echoHost(request, p);
  };
  const port = new NativePort({ connect: () => { const p = new FakePort(host); ports.push(p); return p; }, upload: { inlineBytes: 10, chunkBytes: 3, inFlight: 4 } });
  assert.deepEqual(await port.requestWithPayload("inspect_message", {}, "message", new Uint8Array(29)), { transfer: "t1" });
  assert.equal(seen.filter((op) => op === "transfer_chunk").length, 10);
  assert.equal(most, 4, "four chunks on their way at once, never more");
  const inline = await port.requestWithPayload("inspect_message", {}, "message", new Uint8Array(10));
  assert.equal(inline.transfer, undefined, "up to inlineBytes the payload goes inline");
});

test("a stream is uploaded while it arrives; a source that fails discards the upload", async () => {
  const ops = [];
  const host = (request, p) => {
    ops.push(request.op === "transfer_chunk" ? `chunk ${Buffer.from(request.params.data_b64, "base64").length}` : request.op);
    const reply = (result) => p.deliver({ id: request.id, ok: true, result });
    if (request.op === "transfer_begin") reply({ transfer_id: "t1", suggested_chunk_bytes: 4 });
    else if (request.op === "transfer_chunk" || request.op === "transfer_end" || request.op === "transfer_discard") reply({ transfer_id: "t1" });
    else echoHost(request, p);
  };
  const port = new NativePort({ connect: () => new FakePort(host) });
  const parts = [new Uint8Array(4), new Uint8Array(4), new Uint8Array(1), new Uint8Array(0)];
  assert.equal(await port.uploadStream(9, async () => parts.shift()), "t1");
  assert.deepEqual(ops, ["hello", "transfer_begin", "chunk 4", "chunk 4", "chunk 1", "transfer_end"]);
  ops.length = 0;
  let calls = 0;
  const broken = async () => {
    if (calls++) throw Object.assign(new Error("the download broke off"), { code: "owa_network" });
    return new Uint8Array(4);
  };
  await assert.rejects(port.uploadStream(9, broken), (e) => e.code === "owa_network");
  await tick();
  assert.ok(ops.includes("transfer_discard"), ops.join());
});

test("a failed upload is discarded on the host", async () => {
  const ops = [];
  const { port } = connected((request, p) => {
    ops.push(request.op);
    if (request.op === "transfer_begin") p.deliver({ id: request.id, ok: true, result: { transfer_id: "t9", suggested_chunk_bytes: 8 } });
    else if (request.op === "transfer_chunk") p.deliver({ id: request.id, ok: false, error: { code: "transfer_overflow" } });
    else echoHost(request, p);
  });
  await assert.rejects(port.upload(new Uint8Array(20)), (e) => e.code === "transfer_overflow");
  await tick();
  assert.ok(ops.includes("transfer_discard"));
});

test("small payloads travel inline as base64", async () => {
  let seen = null;
  const { port } = connected((request, p) => {
    if (request.op === "inspect_message") { seen = request.params; p.deliver({ id: request.id, ok: true, result: {} }); }
    else echoHost(request, p);
  });
  await port.requestWithPayload("inspect_message", { return_content: false }, "message", new TextEncoder().encode("abc"));
  assert.deepEqual(seen, { return_content: false, message_b64: "YWJj" });
});

// A host whose op table takes binary strings (`*_latin1`), as its `hello` lists them.
const LATIN1_HELLO = {
  version: "0.2.0",
  ops: [
    { name: "hello", params: "{}" },
    { name: "inspect_message", params: "{message_b64, message_latin1 or transfer, at?}" },
    { name: "transfer_chunk", params: "{transfer_id, index, data_b64 or data_latin1}" },
  ],
};

function latin1Host(seen, { chunkDelayMs = 0 } = {}) {
  const state = { open: 0, most: 0 };
  const host = (request, p) => {
    seen.push(request);
    const reply = (result) => p.deliver({ id: request.id, ok: true, result });
    if (request.op === "hello") reply(LATIN1_HELLO);
    else if (request.op === "transfer_begin") reply({ transfer_id: "t1", suggested_chunk_bytes: 8 * 1024 * 1024 });
    else if (request.op === "transfer_chunk") {
      state.open++;
      state.most = Math.max(state.most, state.open);
      setTimeout(() => { state.open--; reply({ received_bytes: 0 }); }, chunkDelayMs);
    } else if (request.op === "transfer_end") reply({ transfer_id: "t1" });
    else reply({ params: request.params });
  };
  return { host, state };
}

test("a binary string travels inline as it is, to a host that takes *_latin1", async () => {
  const seen = [];
  const port = new NativePort({ connect: () => new FakePort(latin1Host(seen).host) });
  await port.start();
  const raw = "Subject: caf\u00e9\r\n\r\n\u0000\u00ff";
  const { params } = await port.requestWithPayload("inspect_message", { return_content: false }, "message", raw);
  assert.deepEqual(params, { return_content: false, message_latin1: raw });
});

test("a binary string goes as base64 to a host older than *_latin1", async () => {
  let seen = null;
  const { port } = connected((request, p) => {
    if (request.op === "inspect_message") { seen = request.params; p.deliver({ id: request.id, ok: true, result: {} }); }
    else echoHost(request, p);
  });
  await port.start();
  await port.requestWithPayload("inspect_message", {}, "message", "ab\u00ff");
  assert.deepEqual(seen, { message_b64: Buffer.from([0x61, 0x62, 0xff]).toString("base64") });
});

test("a large binary string is uploaded in small data_latin1 chunks, several at once, in order", async () => {
  const seen = [];
  const { host, state } = latin1Host(seen, { chunkDelayMs: 1 });
  const port = new NativePort({ connect: () => new FakePort(host), upload: { inlineText: 10, textChunkBytes: 3, textInFlight: 3 } });
  await port.start();
  const raw = Array.from({ length: 29 }, (_, i) => String.fromCharCode(i * 9 % 256)).join("");
  const { params } = await port.requestWithPayload("inspect_message", {}, "message", raw);
  assert.deepEqual(params, { transfer: "t1" });
  const begin = seen.find((r) => r.op === "transfer_begin");
  assert.deepEqual(begin.params, { total_bytes: 29 });
  const chunks = seen.filter((r) => r.op === "transfer_chunk").map((r) => r.params);
  assert.deepEqual(chunks.map((c) => c.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(chunks.map((c) => c.data_latin1).join(""), raw);
  assert.equal(state.most, 3, "three chunks on their way at once, never more");
  const inline = await port.requestWithPayload("inspect_message", {}, "message", raw.slice(0, 10));
  assert.deepEqual(inline.params, { message_latin1: raw.slice(0, 10) }, "up to inlineText the string goes inline");
});

const NAMING_HELLO = {
  ...LATIN1_HELLO,
  ops: [...LATIN1_HELLO.ops, { name: "transfer_begin", params: "{total_bytes, sha256?, transfer_id?}" }],
};

// A host that takes binary strings and named transfers, and answers nothing until the op that
// uses the upload has arrived (then everything, in order): an add-on that waited for an answer
// before sending the op would wait for ever. `fail` answers one op with an error, and every
// request after it that depends on it with the error the real host would give.
function holdingHost(seen, { fail = null } = {}) {
  const held = [];
  let failed = false;
  return (request, p) => {
    seen.push(request);
    if (request.op === "hello") return p.deliver({ id: request.id, ok: true, result: NAMING_HELLO });
    let answer;
    if (fail && request.op === fail.op) {
      failed = true;
      answer = { id: request.id, ok: false, error: { code: fail.code, message: "no" } };
    } else if (failed) {
      answer = { id: request.id, ok: false, error: { code: "unknown_transfer", message: "no" } };
    } else {
      answer = { id: request.id, ok: true, result: request.op === "inspect_message" ? { params: request.params } : { transfer_id: request.params.transfer_id } };
    }
    held.push(answer);
    if (request.op === "inspect_message" || request.op === "transfer_discard") for (const a of held.splice(0)) p.deliver(a);
  };
}

test("a large binary string goes as a named transfer, posted with the op at once, without waiting for answers", async () => {
  const seen = [];
  const port = new NativePort({ connect: () => new FakePort(holdingHost(seen)), upload: { inlineText: 10, textChunkBytes: 4, textInFlight: 16 } });
  await port.start();
  const raw = Array.from({ length: 26 }, (_, i) => String.fromCharCode(250 - i * 7)).join("");
  const pending = port.requestWithPayload("inspect_message", { harvest: false }, "message", raw);
  await tick();
  assert.ok(seen.some((r) => r.op === "inspect_message"), "the op is on its way before any answer came back");
  const { params } = await pending;
  const requests = seen.slice(1).map((r) => [r.op, r.params]);
  assert.deepEqual(requests[0], ["transfer_begin", { total_bytes: 26, transfer_id: "a1" }]);
  assert.deepEqual(requests.slice(1, -2).map(([op, p]) => [op, p.transfer_id, p.index]), Array.from({ length: 7 }, (_, i) => ["transfer_chunk", "a1", i]));
  assert.equal(requests.slice(1, -2).map(([, p]) => p.data_latin1).join(""), raw);
  assert.deepEqual(requests.slice(-2), [["transfer_end", { transfer_id: "a1" }], ["inspect_message", { harvest: false, transfer: "a1" }]]);
  assert.deepEqual(params, { harvest: false, transfer: "a1" });
  const again = await port.requestWithPayload("inspect_message", {}, "message", raw);
  assert.deepEqual(again.params, { transfer: "a2" }, "each upload has a name of its own");
});

test("a named upload that fails gives the first error in order and is discarded", async () => {
  const seen = [];
  const port = new NativePort({ connect: () => new FakePort(holdingHost(seen, { fail: { op: "transfer_begin", code: "transfer_too_large" } })), upload: { inlineText: 10, textChunkBytes: 4, textInFlight: 16 } });
  await port.start();
  await assert.rejects(port.requestWithPayload("inspect_message", {}, "message", "x".repeat(26)), (e) => e.code === "transfer_too_large");
  assert.deepEqual(seen.at(-1), { id: seen.at(-1).id, op: "transfer_discard", params: { transfer_id: "a1" } });
});

test("a named upload keeps at most textInFlight requests unanswered, transfer_begin among them", async () => {
  const seen = [];
  const { host, state } = latin1Host(seen, { chunkDelayMs: 1 });
  const naming = (request, p) => (request.op === "hello" ? p.deliver({ id: request.id, ok: true, result: NAMING_HELLO }) : host(request, p));
  const port = new NativePort({ connect: () => new FakePort(naming), upload: { inlineText: 10, textChunkBytes: 3, textInFlight: 3 } });
  await port.start();
  const raw = "y".repeat(29);
  const { params } = await port.requestWithPayload("inspect_message", {}, "message", raw);
  assert.deepEqual(params, { transfer: "a1" });
  assert.equal(seen.filter((r) => r.op === "transfer_chunk").map((r) => r.params.data_latin1).join(""), raw);
  assert.ok(state.most <= 3, `at most three chunks on their way at once, not ${state.most}`);
});

test("a traced request notes when it was encoded, posted and answered, with the host's own times", async () => {
  const marks = [];
  const trace = { mark: (name) => marks.push(name), set: (key, value) => marks.push([key, value]) };
  const { port } = connected((request, p) => {
    if (request.op === "inspect_message") p.deliver({ id: request.id, ok: true, result: {}, timing: { read_ms: 1, handle_ms: 2 } });
    else echoHost(request, p);
  });
  await port.start();
  await port.requestWithPayload("inspect_message", {}, "message", new Uint8Array(3), { trace });
  assert.deepEqual(marks, ["encode", "post", "reply", ["host", { read_ms: 1, handle_ms: 2 }]]);
  assert.equal(port.timing, false, "timing is on only when hello says so");
});
