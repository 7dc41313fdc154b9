import type { Outputs } from "../../trpc";

/** The signed-in user of this tab: sessionStorage, so each tab can be someone else. */
export interface StoredAuth {
  token: string;
  user: Pick<Outputs["auth"]["me"], "uuid" | "username" | "nickname">;
}

const KEY = "omnilink.console.auth";

export function loadAuth(): StoredAuth | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<StoredAuth>;
    return typeof parsed.token === "string" && parsed.user?.uuid ? (parsed as StoredAuth) : null;
  } catch {
    return null;
  }
}

export function saveAuth(auth: StoredAuth | null): void {
  if (auth) sessionStorage.setItem(KEY, JSON.stringify(auth));
  else sessionStorage.removeItem(KEY);
}
