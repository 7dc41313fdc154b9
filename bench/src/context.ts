import type { BenchConfig } from "./config.js";
import type { BenchDatabase, SeededUser } from "./db.js";

export interface BenchUser extends SeededUser {
  token: string;
}

export interface BenchGroup {
  id: string;
  members: BenchUser[];
}

export interface RunContext {
  db: BenchDatabase;
  config: BenchConfig;
  /** Environment of every server process of the run (database, JWT secret, limits). */
  serverEnv: Record<string, string>;
  users: BenchUser[];
  /** Prefix of every tagged message content of this run. */
  tag: string;
  profilesDir: string;
}

export const legacySocketUrl = (serverUrl: string, user: BenchUser): string =>
  `${serverUrl.replace(/^http/, "ws")}/wss?client_id=${user.uuid}&token=${user.token}`;

/** Text content `<tag>:<index>:` padded to `bytes`. */
export const taggedContent = (tag: string, index: number, bytes: number): string => `${tag}:${index}:`.padEnd(bytes, "x");
