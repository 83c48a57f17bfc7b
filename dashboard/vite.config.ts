import path from "node:path";
import { fileURLToPath } from "node:url";
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

const here = path.dirname(fileURLToPath(import.meta.url));

// The API URL is a build-time setting (VITE_LAUNCHPAD_API_URL, default: same origin).
// In development, `npm run dev` proxies /api to LAUNCHPAD_DEV_API (default 127.0.0.1:8080).
export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: { alias: { "@": path.join(here, "src") } },
  base: "/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
    rolldownOptions: {
      output: {
        // libraries change less often than the app: their own hashed files stay cached
        advancedChunks: {
          groups: [
            { name: "react", test: /node_modules[\\/](react|react-dom|scheduler|react-router|@tanstack)[\\/]/ },
            { name: "vendor", test: /node_modules[\\/](?!fflate[\\/])/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      "/api": { target: process.env.LAUNCHPAD_DEV_API ?? "http://127.0.0.1:8080", changeOrigin: true },
      "/healthz": { target: process.env.LAUNCHPAD_DEV_API ?? "http://127.0.0.1:8080", changeOrigin: true },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
  },
});
