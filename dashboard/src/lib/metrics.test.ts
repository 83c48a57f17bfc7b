import { describe, expect, it } from "vitest";

import { chartLabel, formatBytes, formatSeconds, slotsOf } from "./metrics";

const classes = (c2 = 0, c4 = 0, c5 = 0) => ({ "1xx": 0, "2xx": c2, "3xx": 0, "4xx": c4, "5xx": c5 });

describe("slotsOf", () => {
  it("puts each point in its step and fills the steps without requests with zeros", () => {
    const slots = slotsOf({
      from: "2026-12-01T10:00:00Z",
      to: "2026-12-01T10:59:30Z",
      stepSeconds: 60,
      series: [
        { time: "2026-12-01T10:00:00Z", requests: 3, byClass: classes(3), bytesOut: 0, meanLatencySeconds: 0 },
        { time: "2026-12-01T10:42:30Z", requests: 9, byClass: classes(5, 3, 1), bytesOut: 0, meanLatencySeconds: 0 },
      ],
    });
    expect(slots).toHaveLength(60);
    expect(slots[0]?.total).toBe(3);
    expect(slots[42]?.byClass).toEqual(classes(5, 3, 1));
    expect(slots[42]?.total).toBe(9);
    expect(slots.filter((s) => s.total === 0)).toHaveLength(58);
    expect(slots[1]?.start).toBe(Date.parse("2026-12-01T10:01:00Z"));
  });

  it("keeps a point past the end in the last step, and survives a nonsense answer", () => {
    const s = slotsOf({
      from: "2026-12-01T10:00:00Z",
      to: "2026-12-01T10:02:00Z",
      stepSeconds: 60,
      series: [{ time: "2026-12-01T10:05:00Z", requests: 1, byClass: classes(1), bytesOut: 0, meanLatencySeconds: 0 }],
    });
    expect(s.map((x) => x.total)).toEqual([0, 1]);
    expect(slotsOf({ from: "x", to: "y", stepSeconds: 60, series: [] })).toEqual([]);
    expect(slotsOf({ from: "2026-12-01T10:00:00Z", to: "2036-12-01T10:00:00Z", stepSeconds: 1, series: [] })).toHaveLength(1000);
  });
});

describe("chartLabel", () => {
  it("says the window, the total and every class that had requests", () => {
    const totals = { requests: 32, byClass: classes(25, 7), bytesIn: 0, bytesOut: 0, latency: { meanSeconds: 0, p50Seconds: 0, p99Seconds: 0, buckets: [] } };
    expect(chartLabel({ window: "1h", totals })).toBe("Requests in the last 1h: 32 total, 25 2xx, 7 4xx");
    expect(chartLabel({ window: "7d", totals: { ...totals, requests: 0, byClass: classes() } })).toBe("Requests in the last 7d: 0 total");
  });
});

describe("formatting", () => {
  it("latency bounds and bytes", () => {
    expect(formatSeconds(0.005)).toBe("5 ms");
    expect(formatSeconds(0.0025)).toBe("2.5 ms");
    expect(formatSeconds(2.5)).toBe("2.5 s");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(4100)).toBe("4.1 kB");
    expect(formatBytes(12_345_678)).toBe("12.3 MB");
  });
});
