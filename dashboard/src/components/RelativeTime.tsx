import { useEffect, useState } from "react";

import { absoluteTime, relativeTime } from "@/lib/time";

/** "3 minutes ago", kept current; the exact time on hover and for screen readers via <time>. */
export function RelativeTime({ iso, className }: { iso: string | null | undefined; className?: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);
  if (!iso) return <span className={className}>never</span>;
  return (
    <time dateTime={iso} title={absoluteTime(iso)} className={className}>
      {relativeTime(iso, now)}
    </time>
  );
}
