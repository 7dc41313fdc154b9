import { createContext, useContext } from "react";
import type { Api, LiveStatus } from "./api";
import type { StoredAuth } from "./auth";
import type { MessageStore } from "./store";
import type { TypingStore } from "./typing";

export interface ConsoleContext {
  api: Api;
  me: StoredAuth["user"];
  store: MessageStore;
  /** Who is typing where (live.signals). */
  typing: TypingStore;
  /** `epoch` counts the subscription's starts without a resume point (see ChatView's catch-up). */
  live: { status: LiveStatus; detail: string | null; epoch: number };
  /** Marks a conversation read (up to `seq`, or everything) and refreshes the session list. */
  markRead: (peerId: string, seq?: number) => void;
  logout: () => void;
}

export const Ctx = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const value = useContext(Ctx);
  if (!value) throw new Error("useConsole outside the console");
  return value;
}
