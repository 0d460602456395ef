// Types of fieldstream.js, the browser client of fieldstream's resumable runs.

/** A path into the output: keys and list indices, as sent on the wire (a JSON array). */
export type Path = (string | number)[];

export interface SSEEvent { id: string; event: string; data: string; }

/** Spec-compliant server-sent events parser (lines end at CR, LF or CRLF only). */
export declare class SSEParser {
  constructor(onEvent: (event: SSEEvent) => void);
  push(text: string): void;
}

export type FieldStatus = "streaming" | "done" | "invalid";

export interface FieldState { value: unknown; valid: boolean; errors: unknown[]; }

/** One model call folded from its frames (keys are pathKey(path)). */
export interface CallState {
  texts: Record<string, string>;
  fields: Record<string, FieldState>;
  status: Record<string, FieldStatus>;
  ended: boolean;
  partial: Record<string, unknown>;
}

/** A failed run: an `error` frame's data, or an HTTP/network failure. */
export interface RunFailure { type: string; message: string; status?: number; error?: string; }

export interface Handlers<T = unknown> {
  onDelta?(path: Path, text: string, callType: string): void;
  onField?(path: Path, value: unknown, valid: boolean, callType: string): void;
  onFrame?(type: string, data: Record<string, unknown>, id: number): void;
  onSnapshot?(state: Record<string, unknown>): void;
  onReconnect?(attempt: number, delayMs: number): void;
  onResult?(result: T): void;
  onError?(error: RunFailure): void;
}

export interface Options {
  /** Reconnections in a row without a frame before giving up (default 8). */
  retries?: number;
  /** First backoff delay in ms (default 250), doubled per attempt up to maxBackoff (default 8000). */
  backoff?: number;
  maxBackoff?: number;
  fetch?: typeof fetch;
  runId?: string;
  lastEventId?: number;
}

export declare class Run<T = unknown> {
  readonly runId: string | null;
  readonly lastEventId: number;
  readonly calls: Record<string, CallState>;
  readonly result: T | undefined;
  readonly hasResult: boolean;
  readonly error: RunFailure | null;
  readonly reconnects: number;
  /** Resolves with the result; rejects with an Error whose `detail` is the RunFailure. */
  readonly done: Promise<T>;
  /** The typed partial output so far (the result once it arrived). */
  readonly partial: Partial<T> | Record<string, unknown>;
  abort(): void;
}

export declare function pathKey(path: Path): string;
export declare function partialOf(call: Pick<CallState, "texts" | "fields">): Record<string, unknown>;
export declare function startRun<T = unknown>(url: string, body: unknown, handlers?: Handlers<T>,
                                              options?: Options): Run<T>;
export declare function resumeRun<T = unknown>(url: string, runId: string, lastEventId?: number,
                                               handlers?: Handlers<T>, options?: Options): Run<T>;
