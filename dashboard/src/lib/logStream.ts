/**
 * Follows a revision's build log (GET /api/deployments/:id/logs?revision=N, Server-Sent Events)
 * to its `end` event. Every event carries an id (its number in the log); a reconnect asks the
 * server to resume after the last one shown (`from=`), and the lines are deduplicated by id, so
 * after a dropped connection (a network blip, a laptop lid, a proxy timeout) the log resumes
 * without a duplicated line. A server that sends no ids gets the same by counting.
 */
import { SseParser, type SseEvent } from "./sse";

export type FollowState = "connecting" | "streaming" | "reconnecting" | "ended" | "error";

export interface LogFollowerOptions {
  /** Open the stream; `from` is the id of the last event already shown ("": from the start). */
  open: (signal: AbortSignal, from: string) => Promise<Response>;
  onLines: (lines: string[]) => void;
  onEnd: (finalState: string) => void;
  onState?: (state: FollowState, detail?: string) => void;
  /** Whether an error is worth another attempt (a 4xx is not); default: retry everything but 4xx. */
  retryable?: (err: unknown) => boolean;
  backoffMs?: (attempt: number) => number;
  maxAttempts?: number;
  /**
   * What was shown already, when it outlives this follower: the app log's Follow toggle stops
   * and starts followers of one stream, and a restart must not show a line twice.
   */
  dedupe?: Deduper;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export const defaultBackoff = (attempt: number): number => Math.min(500 * 2 ** attempt, 5000);

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

/** What a follower asks of its deduper: which lines are new, and where to resume. */
export interface Deduper {
  readonly delivered: number;
  /** The id to resume after ("" for none), passed to `open`. */
  readonly resumeFrom: string;
  newConnection(): void;
  take(events: readonly SseEvent[]): { lines: string[]; end: string | null };
}

/**
 * Each line once across connections: by the events' ids when the server numbers them (a resumed
 * connection starts after the last id delivered), else by dropping the first `delivered` data
 * events of a new connection (a server that sends the whole log again).
 */
export class LineDeduper implements Deduper {
  delivered = 0;
  /** The highest event id delivered (0: none, or the server sends no ids). */
  lastId = 0;
  private seenThisConnection = 0;

  get resumeFrom(): string {
    return this.lastId > 0 ? String(this.lastId) : "";
  }

  newConnection(): void {
    this.seenThisConnection = 0;
  }

  /** The lines of these events not delivered before. */
  take(events: readonly SseEvent[]): { lines: string[]; end: string | null } {
    const lines: string[] = [];
    let end: string | null = null;
    for (const ev of events) {
      if (ev.event === "end") {
        end = ev.data;
        continue;
      }
      if (ev.event !== "message") continue;
      const id = ev.id !== null && /^\d+$/.test(ev.id) ? Number(ev.id) : null;
      if (id !== null) {
        if (id <= this.lastId) continue;
        this.lastId = id;
      } else if (++this.seenThisConnection <= this.delivered) {
        continue;
      }
      lines.push(ev.data);
      this.delivered++;
    }
    return { lines, end };
  }
}

/**
 * The app log's (docs/api.md, source=app): an event's id is its line's time (RFC 3339, nine
 * digits, so text order is time order), a reconnect asks `from=<last id>` and the server sends
 * the lines after it; a line at or before the last id shown is dropped here too. A reconnect
 * without ids gets the tail again, so lines without an id are never counted away.
 */
export class TimeDeduper implements Deduper {
  delivered = 0;
  lastId = "";

  get resumeFrom(): string {
    return this.lastId;
  }

  newConnection(): void {
    /* nothing: ids alone decide */
  }

  take(events: readonly SseEvent[]): { lines: string[]; end: string | null } {
    const lines: string[] = [];
    let end: string | null = null;
    for (const ev of events) {
      if (ev.event === "end") {
        end = ev.data;
        continue;
      }
      if (ev.event !== "message") continue;
      if (ev.id) {
        if (this.lastId && ev.id <= this.lastId) continue;
        this.lastId = ev.id;
      }
      lines.push(ev.data);
      this.delivered++;
    }
    return { lines, end };
  }
}

export class LogFollower {
  private readonly o: LogFollowerOptions;
  private readonly ctrl = new AbortController();
  private readonly dedupe: Deduper;
  private running: Promise<void> | null = null;
  private ended = false;
  /** Closes the current connection (or cuts the back-off short) so that a new one opens now. */
  private reconnectNow: (() => void) | null = null;
  private wake: AbortController | null = null;

  constructor(o: LogFollowerOptions) {
    this.o = o;
    this.dedupe = o.dedupe ?? new LineDeduper();
  }

  get linesDelivered(): number {
    return this.dedupe.delivered;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  start(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  stop(): void {
    this.ctrl.abort();
  }

  /** Drop the current connection and open a new one at once (resuming after what was shown). */
  reconnect(): void {
    if (this.reconnectNow) this.reconnectNow();
    else this.wake?.abort();
  }

  /** One connection: read until `end` or until the server closes it. */
  private async connectOnce(signal: AbortSignal, onBytes: () => void): Promise<boolean> {
    const res = await this.o.open(signal, this.dedupe.resumeFrom);
    if (!res.body) throw new Error("the log stream has no body");
    this.dedupe.newConnection();
    this.o.onState?.("streaming");
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      onBytes();
      const { lines, end } = this.dedupe.take(parser.feed(decoder.decode(value, { stream: true })));
      if (lines.length) this.o.onLines(lines);
      if (end !== null) {
        this.ended = true;
        this.o.onState?.("ended", end);
        this.o.onEnd(end);
        await reader.cancel().catch(() => undefined);
        return true;
      }
    }
    const tail = this.dedupe.take(parser.feed(decoder.decode()));
    if (tail.lines.length) this.o.onLines(tail.lines);
    return false;
  }

  private async loop(): Promise<void> {
    const stopped = () => this.ctrl.signal.aborted;
    const sleep = this.o.sleep ?? abortableSleep;
    const backoff = this.o.backoffMs ?? defaultBackoff;
    const retryable = this.o.retryable ?? defaultRetryable;
    let attempt = 0;
    for (;;) {
      if (stopped()) return;
      this.o.onState?.(attempt === 0 ? "connecting" : "reconnecting");
      const conn = new AbortController();
      const onAbort = () => conn.abort();
      this.ctrl.signal.addEventListener("abort", onAbort, { once: true });
      this.reconnectNow = () => conn.abort();
      const seen = { bytes: false };
      try {
        if (await this.connectOnce(conn.signal, () => (seen.bytes = true))) return;
      } catch (e) {
        if (stopped()) return;
        if (!conn.signal.aborted && !retryable(e)) {
          this.o.onState?.("error", e instanceof Error ? e.message : String(e));
          return;
        }
      } finally {
        this.ctrl.signal.removeEventListener("abort", onAbort);
        this.reconnectNow = null;
      }
      if (stopped()) return;
      // the connection closed before `end`: try again, at once if the user asked for it
      attempt = seen.bytes ? 1 : attempt + 1;
      if (this.o.maxAttempts !== undefined && attempt > this.o.maxAttempts) {
        this.o.onState?.("error", "the log stream keeps failing");
        return;
      }
      if (!conn.signal.aborted || !seen.bytes) {
        this.wake = new AbortController();
        await sleep(backoff(attempt - 1), AbortSignal.any([this.ctrl.signal, this.wake.signal]));
        this.wake = null;
      }
    }
  }
}

/** A 4xx (no such revision, no access) will not get better by asking again. */
function defaultRetryable(e: unknown): boolean {
  if (typeof e === "object" && e !== null && "status" in e && typeof e.status === "number") return e.status >= 500;
  return true;
}
