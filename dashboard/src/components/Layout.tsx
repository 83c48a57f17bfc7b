import { LogOut, Plus, Rocket } from "lucide-react";
import { Link, NavLink, Outlet } from "react-router";

import { useSession } from "@/api/context";
import { Button } from "@/components/ui/button";
import { ThemeToggle } from "@/components/ThemeToggle";
import { cn } from "@/lib/utils";

export function Brand() {
  return (
    <span className="flex items-center gap-2 font-semibold tracking-tight">
      <span className="bg-primary text-primary-foreground grid size-7 place-items-center rounded-md">
        <Rocket aria-hidden="true" className="size-4" />
      </span>
      LaunchPad
    </span>
  );
}

export function Layout() {
  const { logOut } = useSession();
  return (
    <div className="min-h-dvh">
      <a
        href="#main"
        className="focus:bg-background sr-only focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50 focus:rounded-md focus:px-3 focus:py-2 focus:shadow"
      >
        Skip to content
      </a>
      <header className="bg-background/80 sticky top-0 z-40 border-b backdrop-blur">
        <div className="mx-auto flex h-14 max-w-6xl items-center gap-2 px-4 sm:gap-4">
          <Link to="/" className="rounded-md" aria-label="LaunchPad home">
            <Brand />
          </Link>
          <nav aria-label="Main" className="ml-2 hidden items-center gap-1 sm:flex">
            <NavLink
              to="/"
              end
              className={({ isActive }) =>
                cn(
                  "rounded-md px-3 py-1.5 text-sm font-medium",
                  isActive ? "bg-accent text-accent-foreground" : "text-muted-foreground hover:text-foreground",
                )
              }
            >
              Sites
            </NavLink>
          </nav>
          <div className="ml-auto flex items-center gap-1 sm:gap-2">
            <Button asChild size="sm">
              <Link to="/new">
                <Plus aria-hidden="true" />
                New site
              </Link>
            </Button>
            <ThemeToggle />
            <Button variant="ghost" size="icon" aria-label="Sign out" title="Sign out" onClick={logOut}>
              <LogOut aria-hidden="true" />
            </Button>
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto max-w-6xl px-4 py-6 outline-none sm:py-8">
        <Outlet />
      </main>
    </div>
  );
}
