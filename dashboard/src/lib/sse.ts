/**
 * A Server-Sent Events parser (the WHATWG event-stream format) fed with text chunks as they arrive
 * from fetch(): a chunk may end anywhere, in the middle of a line or between the CR and LF of one.
 */

export interface SseEvent {
  event: string;
  data: string;
  id: string | null;
}

export class SseParser {
  private buf = "";
  private pendingCR = false;
  private data: string[] = [];
  private hasData = false;
  private eventType = "";
  private lastId: string | null = null;
  /** The server's `retry:` advice in ms, if it gave one. */
  retry: number | null = null;

  /** Feed a chunk; returns the events completed by it. */
  feed(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = chunk;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (text.startsWith("\n")) text = text.slice(1);
    }
    this.buf += text;
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buf.slice(start, i), out);
      if (c === 13) {
        if (i + 1 < this.buf.length) {
          if (this.buf.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  /** The stream ended: an incomplete event is dropped, as the format says. */
  end(): SseEvent[] {
    this.buf = "";
    this.data = [];
    this.hasData = false;
    this.eventType = "";
    return [];
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === "") {
      if (this.hasData) out.push({ event: this.eventType || "message", data: this.data.join("\n"), id: this.lastId });
      this.data = [];
      this.hasData = false;
      this.eventType = "";
      return;
    }
    if (line.startsWith(":")) return; // a comment (": keep-alive", ": revision 1 of x")
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        this.hasData = true;
        break;
      case "event":
        this.eventType = value;
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }
}
