import { QueryClientProvider } from "@tanstack/react-query";
import { createBrowserRouter, RouterProvider } from "react-router";

import { SessionProvider } from "@/api/context";
import { makeQueryClient } from "@/api/queryClient";
import { routes } from "@/routes";
import { Toaster } from "@/components/ui/sonner";
import { ThemeProvider } from "@/hooks/use-theme";

const router = createBrowserRouter(routes);
const queryClient = makeQueryClient();

export function App() {
  return (
    <ThemeProvider>
      <QueryClientProvider client={queryClient}>
        <SessionProvider>
          <RouterProvider router={router} />
          <Toaster position="bottom-right" richColors closeButton />
        </SessionProvider>
      </QueryClientProvider>
    </ThemeProvider>
  );
}
