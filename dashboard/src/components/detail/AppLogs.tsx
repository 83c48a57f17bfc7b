import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { CircleAlert, LoaderCircle, Pause, WifiOff } from "lucide-react";

import { useApi } from "@/api/context";
import { LogLine } from "@/components/detail/BuildLog";
import { Card, CardAction, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { Switch } from "@/components/ui/switch";
import { APP_LOG_MAX_LINES, appendBounded } from "@/lib/app";
import { LogFollower, TimeDeduper, type FollowState } from "@/lib/logStream";

/**
 * Follows the app's stdout/stderr (GET .../logs?source=app&follow=1, SSE read over fetch so the
 * token goes in a header) while `follow` is on. One deduper outlives the followers, so turning
 * Follow off and on again resumes after the last line shown: an event's id is its line's time,
 * sent back as `from=` (docs/api.md), and anything at or before it is dropped.
 */
function useAppLog(siteId: string, follow: boolean) {
  const api = useApi();
  const [lines, setLines] = useState<string[]>([]);
  const [dropped, setDropped] = useState(0);
  const [state, setState] = useState<FollowState>("connecting");
  const [detail, setDetail] = useState<string | null>(null);
  const dedupe = useRef(new TimeDeduper());
  // the server ends a followed stream after an hour (timeout) or when it stops (shutdown):
  // each such end opens a new one, resuming after the last line shown
  const [round, setRound] = useState(0);
  const followerRef = useRef<LogFollower | null>(null);

  useEffect(() => {
    if (!follow) return;
    const f = new LogFollower({
      open: (signal, from) => api.openAppLog(siteId, signal, from),
      dedupe: dedupe.current,
      onLines: (l) =>
        setLines((prev) => {
          const next = appendBounded(prev, l);
          const cut = prev.length + l.length - next.length;
          if (cut > 0) setDropped((d) => d + cut);
          return next;
        }),
      onEnd: (why) => {
        if (why === "timeout" || why === "shutdown") setTimeout(() => setRound((r) => r + 1), why === "timeout" ? 0 : 2000);
      },
      onState: (s, d) => {
        setState(s);
        setDetail(d ?? null);
      },
    });
    followerRef.current = f;
    void f.start();
    return () => {
      f.stop();
      followerRef.current = null;
    };
  }, [api, siteId, follow, round]);

  // back from another tab or from offline: a stream that died resumes at once
  useEffect(() => {
    const wake = () => {
      const f = followerRef.current;
      if (document.visibilityState === "visible" && f && !f.isEnded) f.reconnect();
    };
    document.addEventListener("visibilitychange", wake);
    window.addEventListener("online", wake);
    return () => {
      document.removeEventListener("visibilitychange", wake);
      window.removeEventListener("online", wake);
    };
  }, []);

  return { lines, dropped, state: follow ? state : ("paused" as const), detail };
}

function StreamState({ state, detail }: { state: FollowState | "paused"; detail: string | null }) {
  const cls = "inline-flex items-center gap-1 text-xs";
  switch (state) {
    case "paused":
      return (
        <span className={`${cls} text-muted-foreground`}>
          <Pause aria-hidden="true" className="size-3.5" /> Paused
        </span>
      );
    case "ended":
      return (
        <span className={`${cls} text-muted-foreground`}>
          <CircleAlert aria-hidden="true" className="size-3.5" /> Stream ended{detail ? `: ${detail}` : ""}
        </span>
      );
    case "reconnecting":
    case "error":
      return (
        <span className={`${cls} text-warning`}>
          <WifiOff aria-hidden="true" className="size-3.5" />
          {state === "error" ? `Stopped: ${detail ?? "error"}` : "Reconnecting…"}
        </span>
      );
    default:
      return (
        <span className={`${cls} text-muted-foreground`}>
          <LoaderCircle aria-hidden="true" className="size-3.5 motion-safe:animate-spin" />
          {state === "streaming" ? "Following" : "Connecting…"}
        </span>
      );
  }
}

/** The app's own output, live; "Follow" streams and keeps the newest line in view. */
export function AppLogs({ siteId }: { siteId: string }) {
  const [follow, setFollow] = useState(true);
  const { lines, dropped, state, detail } = useAppLog(siteId, follow);
  const boxRef = useRef<HTMLDivElement>(null);
  const [stick, setStick] = useState(true);

  useLayoutEffect(() => {
    const el = boxRef.current;
    if (el && follow && stick) el.scrollTop = el.scrollHeight;
  }, [lines, follow, stick]);

  const onScroll = useCallback(() => {
    const el = boxRef.current;
    if (el) setStick(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
  }, []);

  return (
    <Card className="gap-3 overflow-hidden pb-0" role="region" aria-labelledby="app-logs-title">
      <CardHeader>
        <CardTitle>
          <h2 id="app-logs-title">App logs</h2>
        </CardTitle>
        <CardAction className="flex items-center gap-2">
          <Switch
            id="app-log-follow"
            checked={follow}
            onCheckedChange={(on) => {
              setFollow(on);
              if (on) setStick(true);
            }}
          />
          <Label htmlFor="app-log-follow">Follow</Label>
        </CardAction>
      </CardHeader>
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 text-sm sm:px-6">
        <StreamState state={state} detail={detail} />
        {dropped > 0 && (
          <span className="text-muted-foreground text-xs" data-testid="app-log-dropped">
            {dropped} older {dropped === 1 ? "line" : "lines"} dropped (the last {APP_LOG_MAX_LINES} are kept)
          </span>
        )}
      </div>
      <div
        ref={boxRef}
        onScroll={onScroll}
        tabIndex={0}
        role="log"
        aria-live="off"
        aria-label="Output of the app"
        data-testid="app-log-lines"
        data-state={state}
        className="bg-log-background text-log-foreground h-72 overflow-y-auto py-3 font-mono text-xs leading-5 outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50 sm:h-80"
      >
        {lines.length === 0 && (
          <div className="px-3 text-zinc-400">{follow ? "Waiting for the app to write…" : "Turn on Follow to stream the app's output."}</div>
        )}
        {lines.map((l, i) => (
          <LogLine key={i} text={l} />
        ))}
      </div>
    </Card>
  );
}
