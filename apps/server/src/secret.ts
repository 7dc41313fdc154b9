import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type SecretSource = "env" | "file" | "generated";

/**
 * JWT_SECRET when set; otherwise a random secret generated once and kept in the data folder, so
 * tokens survive restarts. The file appears atomically (written aside, then hard-linked into
 * place), so two processes starting together agree on one secret.
 */
export function resolveJwtSecret(configured: string | undefined, dataDir: string): { secret: string; source: SecretSource } {
  if (configured) return { secret: configured, source: "env" };
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, "jwt-secret");
  const draft = join(dataDir, `.jwt-secret.${process.pid}.${randomBytes(4).toString("hex")}`);
  let source: SecretSource = "generated";
  writeFileSync(draft, randomBytes(48).toString("base64url"), { mode: 0o600 });
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    source = "file";
  } finally {
    rmSync(draft, { force: true });
  }
  const secret = readFileSync(file, "utf8").trim();
  if (secret.length < 16) throw new Error(`${file} holds no usable secret; delete it to generate a new one`);
  return { secret, source };
}
