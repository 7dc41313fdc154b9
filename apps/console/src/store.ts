import { useSyncExternalStore } from "react";
import type { MessageView } from "./api";

/** One conversation as this tab knows it: messages by uuid, shown in seq order. */
export interface Conversation {
  messages: readonly MessageView[];
  /** Older messages exist before the first one held (unknown until a page was loaded). */
  hasMore: boolean | null;
  /** Why the conversation is closed for this user (left, removed, dismissed), if it is. */
  notice: string | null;
  /** Private: how far the peer has read (read receipts), when known. */
  peerReadSeq: number | null;
  /** Group: bumped whenever members' read positions may have moved (read counts are refetched). */
  receiptVersion: number;
}

const EMPTY: Conversation = { messages: [], hasMore: null, notice: null, peerReadSeq: null, receiptVersion: 0 };

/**
 * Messages per peer (a group id or the other user's id). A message may arrive more than once
 * (the send's answer, the live echo, a history page, a resume backfill): it is kept once, by uuid,
 * and each conversation stays ordered by seq whatever the arrival order.
 */
export class MessageStore {
  private conversations = new Map<string, Conversation>();
  private listeners = new Set<() => void>();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  get(peerId: string): Conversation {
    return this.conversations.get(peerId) ?? EMPTY;
  }

  /** Adds messages; returns how many were new. A copy that is recalled replaces one that is not. */
  add(peerId: string, incoming: readonly MessageView[]): number {
    const current = this.get(peerId);
    const known = new Map(current.messages.map((m) => [m.uuid, m]));
    let replaced = false;
    const fresh = incoming.filter((m) => {
      const held = known.get(m.uuid);
      if (held) {
        if (m.recalledAt && !held.recalledAt) {
          known.set(m.uuid, m);
          replaced = true;
        }
        return false;
      }
      known.set(m.uuid, m);
      return true;
    });
    if (fresh.length === 0 && !replaced) return 0;
    const messages = [...known.values()].sort((a, b) => a.seq - b.seq);
    this.set(peerId, { ...current, messages });
    return fresh.length;
  }

  /** A `message.recalled` event: the held copy (if any) loses its content and shows the marker. */
  recall(peerId: string, messageId: string, at: Date, by: string): void {
    const current = this.get(peerId);
    const held = current.messages.find((m) => m.uuid === messageId);
    if (!held || held.recalledAt) return;
    const erased: MessageView = { ...held, content: "", url: "", fileType: "", fileName: "", fileSize: "", mentionedUserIds: [], mentionAll: false, recalledAt: at, recalledBy: by };
    this.set(peerId, { ...current, messages: current.messages.map((m) => (m.uuid === messageId ? erased : m)) });
  }

  setHasMore(peerId: string, hasMore: boolean): void {
    const current = this.get(peerId);
    if (current.hasMore !== hasMore) this.set(peerId, { ...current, hasMore });
  }

  setNotice(peerId: string, notice: string | null): void {
    const current = this.get(peerId);
    if (current.notice !== notice) this.set(peerId, { ...current, notice });
  }

  /** The peer's read position only moves forward. */
  setPeerRead(peerId: string, seq: number): void {
    const current = this.get(peerId);
    if (current.peerReadSeq === null || seq > current.peerReadSeq) this.set(peerId, { ...current, peerReadSeq: seq });
  }

  bumpReceipts(peerId: string): void {
    const current = this.get(peerId);
    this.set(peerId, { ...current, receiptVersion: current.receiptVersion + 1 });
  }

  clear(): void {
    this.conversations.clear();
    this.emit();
  }

  private set(peerId: string, conversation: Conversation): void {
    this.conversations.set(peerId, conversation);
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

export function useConversation(store: MessageStore, peerId: string): Conversation {
  return useSyncExternalStore(store.subscribe, () => store.get(peerId));
}

/** Whose conversation a conversation id is, seen from `me`: the group, or the other user of "a:b". */
export function peerOfConversation(conversationId: string, me: string): string {
  if (conversationId.startsWith("G")) return conversationId;
  const [a = "", b = ""] = conversationId.split(":");
  return a === me ? b : a;
}

/** Whose conversation a message belongs to, seen from `me`: the group, or the other user. */
export function peerOf(message: MessageView, me: string): string {
  if (message.receiveId.startsWith("G")) return message.receiveId;
  return message.sendId === me ? message.receiveId : message.sendId;
}
