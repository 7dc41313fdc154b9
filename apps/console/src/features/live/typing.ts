import type { EphemeralEvent } from "@omnilink/domain";

const NOBODY: readonly string[] = [];

/**
 * Who is typing where, as this tab heard it: per peer (a group id or the other user's id), the
 * users typing and until when. A signal holds for its `ttlMs` unless refreshed; a "stopped"
 * signal or a message from that user ends it at once.
 */
export class TypingStore {
  private typing = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();
  private snapshots = new Map<string, readonly string[]>();
  private listeners = new Set<() => void>();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The users typing in a conversation, in the order they started. */
  get(peerId: string): readonly string[] {
    return this.snapshots.get(peerId) ?? NOBODY;
  }

  apply(event: Extract<EphemeralEvent, { kind: "typing" }>): void {
    const peerId = event.groupId ?? event.userId;
    if (!event.typing) return this.clear(peerId, event.userId);
    let users = this.typing.get(peerId);
    if (!users) this.typing.set(peerId, (users = new Map<string, ReturnType<typeof setTimeout>>()));
    const existing = users.get(event.userId);
    if (existing) clearTimeout(existing);
    users.set(
      event.userId,
      setTimeout(() => this.clear(peerId, event.userId), event.ttlMs),
    );
    if (!existing) this.changed(peerId);
  }

  clear(peerId: string, userId: string): void {
    const users = this.typing.get(peerId);
    const timer = users?.get(userId);
    if (!users || timer === undefined) return;
    clearTimeout(timer);
    users.delete(userId);
    this.changed(peerId);
  }

  dispose(): void {
    for (const users of this.typing.values()) for (const timer of users.values()) clearTimeout(timer);
    this.typing.clear();
    this.snapshots.clear();
  }

  private changed(peerId: string): void {
    this.snapshots.set(peerId, [...(this.typing.get(peerId)?.keys() ?? [])]);
    for (const listener of this.listeners) listener();
  }
}

/** How often an ongoing "typing" is repeated (the receivers' hold is longer: 6 s). */
export const TYPING_REFRESH_MS = 3000;
