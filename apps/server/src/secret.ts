import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { claimServerSecret, type DomainContext } from "@omnilink/domain";

export type SecretSource = "env" | "database" | "generated";

const JWT_SECRET_NAME = "jwt";

/**
 * JWT_SECRET when set. Otherwise the secret is kept in the database, so every node of one
 * database signs and verifies with the same key without an operator setting it: the first node to
 * start stores its candidate (the data folder's `jwt-secret` if one exists from an earlier
 * version, else a fresh random one), and every node uses whatever the database holds. The
 * effective secret is mirrored to `<data>/jwt-secret` (mode 0600) for the operator.
 */
export async function resolveJwtSecret(configured: string | undefined, dataDir: string, db: DomainContext["db"]): Promise<{ secret: string; source: SecretSource }> {
  if (configured) return { secret: configured, source: "env" };
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, "jwt-secret");
  const candidate = readCandidate(file) ?? randomBytes(48).toString("base64url");
  const claimed = await claimServerSecret(db, JWT_SECRET_NAME, candidate);
  const secret = claimed.value?.trim() ?? "";
  if (secret.length < 16) throw new Error("the database holds no usable JWT secret (table server_secret, name 'jwt'); delete the row to generate a new one");
  if (readCandidate(file) !== secret) writeAtomically(file, secret);
  return { secret, source: claimed.stored && candidate === secret ? "generated" : "database" };
}

function readCandidate(file: string): string | undefined {
  try {
    const text = readFileSync(file, "utf8").trim();
    return text.length >= 16 ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Written aside, then renamed into place: a reader never sees half a secret. */
function writeAtomically(file: string, secret: string): void {
  const draft = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(draft, secret, { mode: 0o600 });
  try {
    renameSync(draft, file);
  } finally {
    rmSync(draft, { force: true });
  }
}
