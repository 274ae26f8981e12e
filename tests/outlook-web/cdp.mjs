// A small Chrome DevTools Protocol client over --remote-debugging-pipe (file descriptors 3 and
// 4, NUL-separated JSON): no WebSocket, no port, nothing from npm. Flat sessions: every command
// names the target session it is for.

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";

export class Chromium {
  #next = 1;
  #pending = new Map();
  #listeners = new Set();
  #buffer = Buffer.alloc(0);
  #sessions = new Map(); // targetId -> sessionId

  constructor(child) {
    this.child = child;
    this.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    child.stdio[4].on("data", (data) => this.#receive(data));
  }

  /** Starts Chromium with the DevTools pipe; stderr goes to `log` (a writable stream) when given. */
  static launch(binary, args, { env = process.env, log = null } = {}) {
    const child = spawn(binary, ["--remote-debugging-pipe", ...args], { env, stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
    child.stdout.on("data", (d) => log?.write(d));
    child.stderr.on("data", (d) => log?.write(d));
    return new Chromium(child);
  }

  #receive(data) {
    this.#buffer = Buffer.concat([this.#buffer, data]);
    let end;
    while ((end = this.#buffer.indexOf(0)) >= 0) {
      const message = JSON.parse(this.#buffer.subarray(0, end).toString("utf8"));
      this.#buffer = this.#buffer.subarray(end + 1);
      const waiting = message.id !== undefined && this.#pending.get(message.id);
      if (waiting) {
        this.#pending.delete(message.id);
        if (message.error) waiting.reject(new Error(`${waiting.method}: ${message.error.message}`));
        else waiting.resolve(message.result);
      } else {
        for (const listener of this.#listeners) listener(message);
      }
    }
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.#next++;
    const message = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, method });
      this.child.stdio[3].write(`${JSON.stringify(message)}\0`);
    });
  }

  on(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async targets() {
    return (await this.send("Target.getTargets")).targetInfos;
  }

  async attach(targetId) {
    if (this.#sessions.has(targetId)) return this.#sessions.get(targetId);
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    this.#sessions.set(targetId, sessionId);
    return sessionId;
  }

  forget(targetId) {
    this.#sessions.delete(targetId);
  }

  /** Evaluates an expression (awaiting a promise) in a session; returns its value or throws. */
  async evaluate(sessionId, expression, { userGesture = false } = {}) {
    const r = await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true, userGesture }, sessionId);
    if (r.exceptionDetails) {
      const d = r.exceptionDetails;
      throw new Error(`evaluation failed: ${d.exception?.description ?? d.text}`);
    }
    return r.result.value;
  }

  /** A new tab at `url`, `width` × `height` CSS pixels; resolves to {targetId, sessionId}. */
  async newPage(url, { width = 1280, height = 860 } = {}) {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const sessionId = await this.attach(targetId);
    await this.send("Page.enable", {}, sessionId);
    await this.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
    if (url !== "about:blank") await this.navigate(sessionId, url);
    return { targetId, sessionId };
  }

  /** Navigates and waits for the load event (bounded); resolves to the milliseconds it took. */
  async navigate(sessionId, url, { timeoutMs = 30_000 } = {}) {
    const started = Date.now();
    const loaded = this.waitForEvent("Page.loadEventFired", sessionId, timeoutMs);
    const r = await this.send("Page.navigate", { url }, sessionId);
    if (r.errorText) throw new Error(`navigating to ${url}: ${r.errorText}`);
    await loaded;
    return Date.now() - started;
  }

  waitForEvent(method, sessionId, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on((m) => {
        if (m.method === method && m.sessionId === sessionId) {
          clearTimeout(timer);
          off();
          resolve(m.params);
        }
      });
    });
  }

  async screenshot(sessionId, path) {
    const { data } = await this.send("Page.captureScreenshot", { format: "png" }, sessionId);
    writeFileSync(path, Buffer.from(data, "base64"));
  }

  async close() {
    try {
      await Promise.race([this.send("Browser.close"), new Promise((r) => setTimeout(r, 5000))]);
    } catch {
      // already gone
    }
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** Polls `probe` until it returns a value that is not null/undefined/false, or gives up. */
export async function waitFor(probe, { timeoutMs = 20_000, intervalMs = 100, what = "a condition" } = {}) {
  const until = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < until) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last.message})` : ""}`);
}
