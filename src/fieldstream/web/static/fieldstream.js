// fieldstream.js: the browser client of fieldstream's resumable runs. One ES module, no dependencies.
//
//   import {startRun} from "/static/fieldstream.js";
//   const run = startRun("/api/runs", {input: "Write a fable"}, {
//     onDelta(path, text) { ... },          // string text arrived at path (a JSON array)
//     onField(path, value, valid) { ... },  // a value at path completed (validated)
//   });
//   const result = await run.done;          // the typed result (or throws the run's error)
//
// Protocol (docs/agents.md): POST starts a run and streams its frames (text/event-stream); the run id
// is in the `Fieldstream-Run-Id` header and in frame 1 (`run`). When the connection drops, the client
// reconnects to GET <url>/<id>/events with `Last-Event-ID: <last id seen>` (exponential backoff) and
// gets the frames after it, or one `snapshot` frame (the folded state) followed by live frames.
// Frames are folded with the same rules as the server's RunSnapshot, so `partial` is the same object
// whether it was built from frames or from a snapshot. Frames are read with fetch() streaming and a
// spec-compliant SSE parser (lines end at CR, LF or CRLF only; never at U+2028/U+2029/U+0085).

/** Server-sent events as the WHATWG HTML spec interprets them ("event stream interpretation"). */
export class SSEParser {
  /** @param {(event: {id: string, event: string, data: string}) => void} onEvent */
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buf = "";
    this.cr = false;
    this.id = "";
    this.type = "";
    this.data = [];
  }
  /** Feed decoded text (any split). */
  push(text) {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === "\n" && this.cr) { this.cr = false; start = i + 1; continue; }
      this.cr = false;
      if (c === "\n" || c === "\r") {
        this.line(this.buf + text.slice(start, i));
        this.buf = "";
        start = i + 1;
        this.cr = c === "\r";
      }
    }
    this.buf += text.slice(start);
  }
  line(line) {
    if (line === "") {
      if (this.data.length) this.onEvent({id: this.id, event: this.type || "message", data: this.data.join("\n")});
      this.type = "";
      this.data = [];
      return;
    }
    if (line[0] === ":") return;
    const i = line.indexOf(":");
    const name = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value[0] === " ") value = value.slice(1);
    if (name === "event") this.type = value;
    else if (name === "data") this.data.push(value);
    else if (name === "id" && !value.includes("\0")) this.id = value;
  }
}

/** The key of a path in the folded state: compact JSON of the array (as the server's path_key). */
export const pathKey = (path) => JSON.stringify(path);

function setPath(root, path, value) {
  if (!path.length) return value !== null && typeof value === "object" && !Array.isArray(value) ? value : root;
  let node = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    const leaf = i === path.length - 1;
    const fits = typeof key === "number" ? Array.isArray(node) : node !== null && typeof node === "object" && !Array.isArray(node);
    if (!fits) break;  // the path does not fit what is there (a retry changed shape): skip it
    if (typeof key === "number") while (node.length <= key) node.push(null);
    if (leaf) { node[key] = value; break; }
    if (node[key] === null || typeof node[key] !== "object") node[key] = typeof path[i + 1] === "number" ? [] : {};
    node = node[key];
  }
  return root;
}

/** A call's partial output from its folded texts and fields (texts first, then fields; shallow first). */
export function partialOf(call) {
  const texts = Object.entries(call.texts || {}).map(([k, v]) => [JSON.parse(k), v]);
  const fields = Object.entries(call.fields || {}).filter(([, f]) => f.valid !== false)
    .map(([k, f]) => [JSON.parse(k), f.value]);
  const byLength = (a, b) => a[0].length - b[0].length;
  let out = {};
  for (const [path, value] of [...texts.sort(byLength), ...fields.sort(byLength)]) {
    if (Array.isArray(path)) out = setPath(out, path, value);
  }
  return out;
}

const newCall = () => ({texts: {}, fields: {}, status: {}, ended: false, partial: {}});

/** One run: folds frames, reconnects, exposes the typed partial object. Create it with startRun(). */
export class Run {
  constructor(url, body, handlers = {}, options = {}) {
    this.url = url.replace(/\/+$/, "");
    this.body = body;
    this.handlers = handlers;
    this.retries = options.retries ?? 8;
    this.backoff = options.backoff ?? 250;
    this.maxBackoff = options.maxBackoff ?? 8000;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.runId = options.runId ?? null;
    this.lastEventId = options.lastEventId ?? 0;
    this.calls = {};
    this.result = undefined;
    this.hasResult = false;
    this.error = null;
    this.reconnects = 0;
    this.controller = new AbortController();
    this.done = this.loop();
    this.done.catch(() => {});  // handled by whoever awaits it; never an unhandled rejection
  }

  /** The typed partial output so far: the result once there is one, else the final_result call's
   *  partial, else what the think call carries under "final_result". */
  get partial() {
    if (this.hasResult) return this.result;
    if (this.calls.final_result) return this.calls.final_result.partial;
    const think = this.calls.think && this.calls.think.partial;
    return think && think.final_result && typeof think.final_result === "object" ? think.final_result : {};
  }

  /** Stop: abort the connection (the server keeps the run for its grace period). */
  abort() { this.controller.abort(); }

  emit(name, ...args) {
    const fn = this.handlers[name];
    if (typeof fn === "function") fn(...args);
  }

  apply(id, type, data) {
    if (type === "snapshot") {
      this.calls = {};
      for (const [ct, call] of Object.entries(data.calls || {})) {
        this.calls[ct] = {texts: call.texts || {}, fields: call.fields || {}, status: call.status || {},
                          ended: !!call.ended, partial: call.partial || partialOf(call)};
      }
      if (data.has_result) { this.result = data.result; this.hasResult = true; }
      if (data.error) this.error = data.error;
      this.lastEventId = id;
      this.emit("onSnapshot", data);
      return;
    }
    if (id <= this.lastEventId) return;  // already applied (never happens with a correct server)
    this.lastEventId = id;
    const ct = data.call_type;
    if (type === "run") {
      this.runId = data.run_id;
    } else if (type === "result") {
      this.result = data.result;
      this.hasResult = true;
    } else if (type === "error") {
      this.error = data;
    } else if (typeof ct === "string") {
      if (type === "stream_start" && data.continued && this.calls[ct]) {
        // a continuation retry: what was written stands; the rejected fields are written again
        const call = this.calls[ct];
        for (const [key, status] of Object.entries(call.status)) {
          if (status !== "invalid") continue;
          delete call.fields[key];
          call.status[key] = "streaming";
          if (key in call.texts) {
            call.texts[key] = "";
            if (key.startsWith("[")) call.partial = setPath(call.partial, JSON.parse(key), "");
          }
        }
        call.ended = false;
        return;
      }
      if (type === "stream_start") { delete this.calls[ct]; this.calls[ct] = newCall(); }  // a retry starts over
      const call = this.calls[ct] || (this.calls[ct] = newCall());
      const key = Array.isArray(data.path) ? pathKey(data.path) : JSON.stringify(data.json_path || "");
      if (type === "chunk") {
        const text = (call.texts[key] || "") + (data.delta || "");
        call.texts[key] = text;
        if (!(key in call.status)) call.status[key] = "streaming";
        if (Array.isArray(data.path) && !call.fields[key]) call.partial = setPath(call.partial, data.path, text);
        this.emit("onDelta", data.path, data.delta || "", ct);
      } else if (type === "field") {
        const valid = data.valid !== false;
        call.fields[key] = {value: data.value, valid, errors: data.errors || []};
        call.status[key] = valid ? "done" : "invalid";
        // omitted: a huge container's value is not repeated in its field frame (its members were sent)
        if (valid && !data.omitted && Array.isArray(data.path)) call.partial = setPath(call.partial, data.path, data.value);
        this.emit("onField", data.path, data.value, valid, ct);
      } else if (type === "stream_end") {
        call.ended = true;
        for (const k of Object.keys(call.status)) if (call.status[k] === "streaming") call.status[k] = "done";
      }
    }
    this.emit("onFrame", type, data, id);
  }

  async loop() {
    let attempt = 0;
    for (;;) {
      let resp = null;
      let failure = null;
      try {
        resp = await this.connect();
      } catch (e) {
        if (this.controller.signal.aborted) throw e;
        failure = e;
      }
      if (resp && !resp.ok) {
        let info = {};
        try { info = await resp.json(); } catch (e) { /* not JSON */ }
        failure = {type: "HTTPError", status: resp.status, error: info.error, message: info.message || "HTTP " + resp.status};
        if (resp.status < 500) return this.fail(failure);  // 404 unknown run, 410 expired or future id
        resp = null;
      }
      if (resp) {
        if (!this.runId) this.runId = resp.headers.get("Fieldstream-Run-Id");
        try {
          if (await this.read(resp)) attempt = 0;
        } catch (e) {
          if (this.controller.signal.aborted) throw e;
          failure = e;
        }
        if (this.error) return this.fail(this.error);
        if (this.hasResult) { this.emit("onResult", this.result); return this.result; }
      }
      if (!this.runId && this.lastEventId === 0 && resp) {
        return this.fail({type: "ProtocolError", message: "the server sent no run id"});
      }
      if (attempt >= this.retries) return this.fail({type: "NetworkError", message: String(failure && failure.message || failure || "the stream ended early")});
      const delay = Math.min(this.maxBackoff, this.backoff * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      this.reconnects += 1;
      this.emit("onReconnect", attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  connect() {
    const signal = this.controller.signal;
    const accept = {Accept: "text/event-stream"};
    if (!this.runId) {
      return this.fetch(this.url, {method: "POST", signal, body: JSON.stringify(this.body),
                                   headers: {...accept, "Content-Type": "application/json"}});
    }
    return this.fetch(this.url + "/" + encodeURIComponent(this.runId) + "/events",
                      {signal, cache: "no-store", headers: {...accept, "Last-Event-ID": String(this.lastEventId)}});
  }

  /** Read one response to its end; true when at least one frame arrived. */
  async read(resp) {
    let got = false;
    const parser = new SSEParser(({id, event, data}) => {
      let value;
      try { value = JSON.parse(data); } catch (e) { return; }  // not one of our frames
      if (value === null || typeof value !== "object") return;
      got = true;
      this.apply(Number(id) || 0, event, value);
    });
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        parser.push(value);
        if (this.hasResult || this.error) break;
      }
    } finally {
      reader.cancel().catch(() => {});
    }
    return got;
  }

  fail(error) {
    this.error = error;
    this.emit("onError", error);
    const e = new Error((error.type || "Error") + ": " + (error.message || ""));
    e.detail = error;
    throw e;
  }
}

/** Start a run: POST `body` (JSON) to `url`, stream and fold its frames, resume on disconnect. */
export function startRun(url, body, handlers = {}, options = {}) {
  return new Run(url, body, handlers, options);
}

/** Resume a known run after `lastEventId` (0: from the start), e.g. after a page reload. */
export function resumeRun(url, runId, lastEventId = 0, handlers = {}, options = {}) {
  return new Run(url, null, handlers, {...options, runId, lastEventId});
}
