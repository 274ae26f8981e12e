// Where the time of one reading goes, for the benchmark in a real Thunderbird
// (tests/e2e/bench.sh): when the message was shown, read, encoded, sent, answered and its verdict
// put on the button, with the host's own share. Off unless the host's `hello` says `timing: true`
// (the host runs with SMIME_COMPANION_TIMING=1, docs/CONFIG.md); off, a trace is null and every
// step is `trace?.mark(…)`, which costs nothing. Pure, so node's test runner imports it.

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export function epochNow() {
  return performance.timeOrigin + performance.now();
}

/** A trace when `enabled`, else null. */
export function startTrace(enabled, fields = {}, { now = epochNow, log = (line) => console.info(line) } = {}) {
  return enabled ? new Trace(fields, now, log) : null;
}

export class Trace {
  #now;
  #log;

  constructor(fields, now, log) {
    this.#now = now;
    this.#log = log;
    this.fields = { ...fields };
    this.marks = [["start", now()]];
  }

  /** Notes that step `name` ended now. */
  mark(name) {
    this.marks.push([name, this.#now()]);
  }

  /** Notes a fact about the reading (its size, the host's own times). */
  set(key, value) {
    this.fields[key] = value;
  }

  /**
   * Each step's duration in ms (from the step before), the total, and the absolute start, as one
   * object; the bench reads it from Thunderbird's console output.
   */
  summary() {
    const steps = {};
    const split = this.#replySplit();
    for (let i = 1; i < this.marks.length; i++) {
      const [name, at] = this.marks[i];
      if (name === "reply" && split) Object.assign(steps, split);
      else steps[name] = round((steps[name] ?? 0) + at - this.marks[i - 1][1]);
    }
    const start = this.marks[0][1];
    return { ...this.fields, start: round(start), total_ms: round(this.marks.at(-1)[1] - start), steps };
  }

  /**
   * The wait for the one reply, split by the host's clock (`timing.received_at_ms`, the same wall
   * clock): on the way to the host (`to_host`), the host's own time (`host`, reading the frame and
   * handling it) and on the way back (`from_host`). Null when there is no such reply.
   */
  #replySplit() {
    const host = this.fields.host;
    const replies = this.marks.filter(([name]) => name === "reply");
    const at = this.marks.findIndex(([name]) => name === "reply");
    if (replies.length !== 1 || typeof host?.received_at_ms !== "number") return null;
    const sent = this.marks[at - 1][1];
    const own = (host.read_ms ?? 0) + (host.handle_ms ?? 0);
    return {
      to_host: round(host.received_at_ms - sent),
      host: round(own),
      from_host: round(replies[0][1] - host.received_at_ms - own),
    };
  }

  /** Writes the summary to the console, one line, marked for the bench. */
  report() {
    this.#log(`smime-companion timing ${JSON.stringify(this.summary())}`);
  }
}

function round(ms) {
  return Math.round(ms * 1000) / 1000;
}
