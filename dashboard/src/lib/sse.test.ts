import { describe, expect, it } from "vitest";

import { SseParser, type SseEvent } from "./sse";

const STREAM = ": revision 1 of hello\n\ndata: step 1\n\ndata: step 2\n\nevent: end\ndata: ready\n\n";

function feedAll(chunks: string[]): SseEvent[] {
  const p = new SseParser();
  return chunks.flatMap((c) => p.feed(c));
}

describe("SSE parser", () => {
  it("parses the apiserver's log stream", () => {
    expect(feedAll([STREAM])).toEqual([
      { event: "message", data: "step 1", id: null },
      { event: "message", data: "step 2", id: null },
      { event: "end", data: "ready", id: null },
    ]);
  });

  it("gives the same events however the bytes are split", () => {
    const whole = feedAll([STREAM]);
    for (let i = 1; i < STREAM.length; i++) {
      expect(feedAll([STREAM.slice(0, i), STREAM.slice(i)])).toEqual(whole);
    }
    expect(feedAll(STREAM.split(""))).toEqual(whole);
  });

  it("handles CRLF and CR line ends, also with CR and LF in different chunks", () => {
    expect(feedAll(["data: a\r\n\r\ndata: b\r\r"])).toEqual([
      { event: "message", data: "a", id: null },
      { event: "message", data: "b", id: null },
    ]);
    expect(feedAll(["data: a\r", "\n\r", "\n"])).toEqual([{ event: "message", data: "a", id: null }]);
    // a CRLF split between chunks is one line end, not two (which would end the event early)
    expect(feedAll(["data: a\r", "\ndata: b\r\n\r\n"])).toEqual([{ event: "message", data: "a\nb", id: null }]);
  });

  it("joins multi-line data, keeps an empty data line, ignores comments and unknown fields", () => {
    expect(feedAll(["data: a\ndata: b\n\n", "data:\n\n", ": keep-alive\n\n", "foo: bar\ndata:x\n\n"])).toEqual([
      { event: "message", data: "a\nb", id: null },
      { event: "message", data: "", id: null },
      { event: "message", data: "x", id: null },
    ]);
  });

  it("removes exactly one space after the colon", () => {
    expect(feedAll(["data:  two spaces\n\n"])[0]?.data).toBe(" two spaces");
  });

  it("tracks id and retry", () => {
    const p = new SseParser();
    const ev = p.feed("id: 7\nretry: 3000\ndata: x\n\n");
    expect(ev[0]?.id).toBe("7");
    expect(p.retry).toBe(3000);
  });

  it("does not dispatch an unterminated event", () => {
    const p = new SseParser();
    expect(p.feed("data: half")).toEqual([]);
    expect(p.end()).toEqual([]);
  });

  it("keeps a long line whole across many chunks", () => {
    const long = "x".repeat(20000);
    const text = `data: ${long}\n\n`;
    const chunks = text.match(/.{1,1000}/gs) ?? [];
    expect(feedAll(chunks)[0]?.data).toBe(long);
  });
});
