import { describe, expect, it } from "vitest";

import { LineDeduper, LogFollower } from "./logStream";
import { SseParser } from "./sse";

const enc = new TextEncoder();

/** A Response whose body yields these chunks, then ends (or errors, like a dropped connection). */
function streamResponse(chunks: string[], opts: { fail?: boolean } = {}): Response {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (i < chunks.length) ctrl.enqueue(enc.encode(chunks[i++]));
      else if (opts.fail) ctrl.error(new TypeError("network error"));
      else ctrl.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

const lines = (n: number, from = 1) => Array.from({ length: n }, (_, k) => `data: line ${k + from}\n\n`).join("");

describe("LineDeduper", () => {
  it("skips, on a new connection, the lines an earlier one delivered", () => {
    const d = new LineDeduper();
    const p1 = new SseParser();
    expect(d.take(p1.feed(lines(3))).lines).toEqual(["line 1", "line 2", "line 3"]);
    d.newConnection();
    const p2 = new SseParser();
    expect(d.take(p2.feed(lines(5))).lines).toEqual(["line 4", "line 5"]);
    expect(d.take(p2.feed("event: end\ndata: ready\n\n"))).toEqual({ lines: [], end: "ready" });
    expect(d.delivered).toBe(5);
  });
});

describe("LineDeduper with event ids", () => {
  const numbered = (n: number, from = 1) =>
    Array.from({ length: n }, (_, k) => `id: ${k + from}\ndata: line ${k + from}\n\n`).join("");

  it("delivers each id once, whether the server resumes or sends everything again", () => {
    const d = new LineDeduper();
    expect(d.take(new SseParser().feed(numbered(3))).lines).toEqual(["line 1", "line 2", "line 3"]);
    expect(d.lastId).toBe(3);
    d.newConnection(); // a server that resumed after id 3
    expect(d.take(new SseParser().feed(numbered(2, 4))).lines).toEqual(["line 4", "line 5"]);
    d.newConnection(); // a server that sent it all again
    expect(d.take(new SseParser().feed(numbered(6))).lines).toEqual(["line 6"]);
    expect(d.delivered).toBe(6);
  });

  it("asks the server to resume after the last id shown", async () => {
    const froms: string[] = [];
    let opens = 0;
    const f = new LogFollower({
      open: (_s, from) => {
        froms.push(from);
        opens++;
        return Promise.resolve(
          opens === 1
            ? streamResponse([numbered(2)], { fail: true })
            : streamResponse([numbered(1, 3) + "event: end\ndata: ready\n\n"]),
        );
      },
      onLines: () => undefined,
      onEnd: () => undefined,
      sleep: () => Promise.resolve(),
    });
    await f.start();
    expect(froms).toEqual(["", "2"]);
  });
});

describe("LogFollower", () => {
  const noSleep = () => Promise.resolve();

  it("follows to the end event, in split chunks", async () => {
    const got: string[] = [];
    let end = "";
    const text = ": revision 1 of x\n\n" + lines(4) + "event: end\ndata: ready\n\n";
    const chunks = text.match(/.{1,7}/gs) ?? [];
    const f = new LogFollower({
      open: () => Promise.resolve(streamResponse(chunks)),
      onLines: (l) => got.push(...l),
      onEnd: (s) => (end = s),
      sleep: noSleep,
    });
    await f.start();
    expect(got).toEqual(["line 1", "line 2", "line 3", "line 4"]);
    expect(end).toBe("ready");
    expect(f.isEnded).toBe(true);
  });

  it("reconnects after a dropped connection without duplicating a line", async () => {
    const got: string[] = [];
    const states: string[] = [];
    let opens = 0;
    const f = new LogFollower({
      open: () => {
        opens++;
        // 1st: three lines, then the connection breaks mid-line; 2nd: closes cleanly too early;
        // 3rd: the whole file again, to the end
        if (opens === 1) return Promise.resolve(streamResponse([lines(3), "data: li"], { fail: true }));
        if (opens === 2) return Promise.resolve(streamResponse([lines(4)]));
        return Promise.resolve(streamResponse([lines(6), "event: end\ndata: failed\n\n"]));
      },
      onLines: (l) => got.push(...l),
      onEnd: () => undefined,
      onState: (s) => states.push(s),
      sleep: noSleep,
    });
    await f.start();
    expect(opens).toBe(3);
    expect(got).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5", "line 6"]);
    expect(states).toContain("reconnecting");
    expect(states.at(-1)).toBe("ended");
  });

  it("retries when the server cannot be reached, gives up on a 4xx", async () => {
    let opens = 0;
    const f = new LogFollower({
      open: () => {
        opens++;
        if (opens < 3) return Promise.reject(new TypeError("Failed to fetch"));
        return Promise.reject(Object.assign(new Error("revision 9 not found"), { status: 404 }));
      },
      onLines: () => undefined,
      onEnd: () => undefined,
      sleep: noSleep,
    });
    const states: string[] = [];
    const f2 = new LogFollower({
      open: () => Promise.reject(Object.assign(new Error("nope"), { status: 404 })),
      onLines: () => undefined,
      onEnd: () => undefined,
      onState: (s) => states.push(s),
      sleep: noSleep,
    });
    await f.start();
    await f2.start();
    expect(opens).toBe(3);
    expect(states).toEqual(["connecting", "error"]);
  });

  it("stops when told to", async () => {
    let opens = 0;
    const f = new LogFollower({
      open: (signal) =>
        new Promise<Response>((_, reject) => {
          opens++;
          signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
      onLines: () => undefined,
      onEnd: () => undefined,
    });
    const done = f.start();
    await Promise.resolve();
    f.stop();
    await done;
    expect(opens).toBe(1);
  });

  it("reconnect() reopens at once and resumes after the last line shown", async () => {
    const got: string[] = [];
    let opens = 0;
    let release: (() => void) | null = null;
    const f = new LogFollower({
      open: (signal) => {
        opens++;
        if (opens === 1) {
          // two lines, then the connection hangs (a tab in the background)
          let sent = false;
          const body = new ReadableStream<Uint8Array>({
            pull(ctrl) {
              if (!sent) {
                sent = true;
                ctrl.enqueue(enc.encode(lines(2)));
                return;
              }
              return new Promise<void>((_, reject) => {
                release = () => reject(new DOMException("aborted", "AbortError"));
                signal.addEventListener("abort", () => release?.());
              });
            },
          });
          return Promise.resolve(new Response(body));
        }
        return Promise.resolve(streamResponse([lines(3), "event: end\ndata: ready\n\n"]));
      },
      onLines: (l) => got.push(...l),
      onEnd: () => undefined,
      sleep: () => new Promise((r) => setTimeout(r, 10_000)),
    });
    const done = f.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(["line 1", "line 2"]);
    f.reconnect();
    await done;
    expect(opens).toBe(2);
    expect(got).toEqual(["line 1", "line 2", "line 3"]);
  });
});
