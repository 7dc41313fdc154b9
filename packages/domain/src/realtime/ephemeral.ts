/**
 * Ephemeral live events: typing and presence. They are never stored and have no stream position;
 * they travel between nodes on the bus (`BusMessage.signals`) and are handed to subscribers by
 * each node's dispatcher, which decides the audience from its own membership view.
 */

/** How long a typing signal holds on the receiver's side without a refresh. */
export const TYPING_TTL_MS = 6000;

/** Most groups a presence change names on the bus (a user in more is announced to the first ones; the rest poll). */
export const MAX_PRESENCE_GROUPS = 500;

/** What a subscriber receives. */
export type EphemeralEvent =
  /** `groupId` set: typing in that group; null: typing in the private chat with `userId`. */
  | { kind: "typing"; groupId: string | null; userId: string; typing: boolean; ttlMs: number }
  | { kind: "presence"; userId: string; online: boolean };

/**
 * What travels between nodes. `id` is unique per publication (a node hears its own publications
 * twice on a Redis bus); `after` is a tick: the receiving node hands the signal out only once it
 * has handed out that tick, so its membership view includes every change committed before the
 * signal was admitted.
 */
export type BusSignal =
  | { kind: "typing"; id: string; from: string; to: string; typing: boolean; after: number }
  | { kind: "presence"; id: string; userId: string; online: boolean; groupIds: string[]; after: number };
