import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const serverDir = fileURLToPath(new URL("..", import.meta.url));

/** Starts `src/main.ts` as the run command does and resolves with the URL from its ready log line. */
export async function spawnServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; logs: string[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never leave a half-started server behind.
      child.kill("SIGKILL");
      reject(new Error(`server did not start:\n${logs.join("")}`));
    }, 30_000);
    child.stderr?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
      logs.push(chunk.toString());
      for (const line of chunk.toString().split("\n")) {
        if (!line.includes("OmniLink server ready")) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}:\n${logs.join("")}`)));
  });
  return { child, url, logs };
}

