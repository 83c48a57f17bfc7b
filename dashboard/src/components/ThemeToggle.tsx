import { Monitor, Moon, Sun } from "lucide-react";

import { Button } from "@/components/ui/button";
import { useTheme, type ThemeChoice } from "@/hooks/use-theme";

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: "light", light: "dark", dark: "system" };

/** One button that cycles system → light → dark; it says which theme is on and what comes next. */
export function ThemeToggle() {
  const { choice, setChoice } = useTheme();
  const Icon = choice === "dark" ? Moon : choice === "light" ? Sun : Monitor;
  const label = `Theme: ${choice}. Switch to ${NEXT[choice]}`;
  return (
    <Button variant="ghost" size="icon" aria-label={label} title={label} onClick={() => setChoice(NEXT[choice])}>
      <Icon aria-hidden="true" />
    </Button>
  );
}
