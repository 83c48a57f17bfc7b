/**
 * The real platform for the browser tests: build/tests/tools/lp_platform starts the apiserver and
 * the controller (real Docker), prints one JSON line when they are up, and removes everything
 * (containers, networks, temp dir) when its stdin closes.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import readline from "node:readline";

export function repoPaths() {
  const bin = process.env.LAUNCHPAD_TEST_BIN;
  const src = process.env.LAUNCHPAD_TEST_SRC;
  if (!bin || !src) {
    throw new Error(
      "LAUNCHPAD_TEST_BIN and LAUNCHPAD_TEST_SRC must be set (e.g. LAUNCHPAD_TEST_BIN=$PWD/build/bin " +
        "LAUNCHPAD_TEST_SRC=$PWD, after make -j2 all test-tools)",
    );
  }
  const tool = path.join(src, "build/tests/tools/lp_platform");
  if (!existsSync(tool)) throw new Error(`${tool} is missing: run make -C ${src} -j2 all test-tools`);
  return { bin, src, tool };
}

/**
 * Start the platform; resolves with {url, token, instance, data_dir, root, stop()}.
 * @param {{ distDir: string, env?: Record<string,string>, timeoutMs?: number }} o
 */
export function startPlatform(o) {
  const { bin, src, tool } = repoPaths();
  // --edge: the platform's own Traefik, so sites are reached at their real URL
  const args = ["--edge", "--env", `LAUNCHPAD_DASHBOARD_DIR=${o.distDir}`];
  for (const [k, v] of Object.entries(o.env ?? {})) args.push("--env", `${k}=${v}`);
  const child = spawn(tool, args, {
    env: { ...process.env, LAUNCHPAD_TEST_BIN: bin, LAUNCHPAD_TEST_SRC: src },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
    if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
    if (process.env.E2E_VERBOSE) process.stderr.write(d);
  });
  const exited = new Promise((resolve) => child.on("exit", (code, sig) => resolve({ code, sig })));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`lp_platform did not come up in ${o.timeoutMs ?? 60000} ms: ${stderr.slice(-2000)}`));
    }, o.timeoutMs ?? 60000);
    const rl = readline.createInterface({ input: child.stdout });
    rl.once("line", (line) => {
      clearTimeout(timer);
      let info;
      try {
        info = JSON.parse(line);
      } catch {
        reject(new Error(`lp_platform printed something else than JSON: ${line}`));
        return;
      }
      let stopping = null;
      info.stop = (graceMs = 60000) => {
        stopping ??= (async () => {
          child.stdin.end();
          const t = setTimeout(() => child.kill("SIGTERM"), graceMs);
          const r = await exited;
          clearTimeout(t);
          return r;
        })();
        return stopping;
      };
      info.stderrTail = () => stderr.slice(-4000);
      resolve(info);
    });
    exited.then(({ code, sig }) => {
      clearTimeout(timer);
      reject(new Error(`lp_platform exited (${code ?? sig}) before it was ready: ${stderr.slice(-2000)}`));
    });
  });
}
