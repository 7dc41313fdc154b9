/**
 * Ephemeral live events: typing, presence and read receipts. They are never stored and have no
 * stream position; they travel between nodes on the bus (`BusMessage.signals`) and reach a
 * subscriber through one subscription (userSignals). Typing and presence are handed out by each
 * node's dispatcher, which decides the audience from its own membership view; read positions are
 * coalesced and throttled per conversation by the ReceiptRelay (receipts.ts) first.
 */

/** How long a typing signal holds on the receiver's side without a refresh. */
export const TYPING_TTL_MS = 6000;

/** Most groups a presence change names on the bus (a user in more is announced to the first ones; the rest poll). */
export const MAX_PRESENCE_GROUPS = 500;

/** What a subscriber receives. */
export type EphemeralEvent =
  /** `groupId` set: typing in that group; null: typing in the private chat with `userId`. */
  | { kind: "typing"; groupId: string | null; userId: string; typing: boolean; ttlMs: number }
  | { kind: "presence"; userId: string; online: boolean }
  /**
   * Read receipts moved. Group: some members' positions moved over (fromSeq, upToSeq]; the sender
   * of a message in that range asks for its receipts again (no reader is named: only the sender
   * may see who read). Private: the peer (`peerId`) has now read up to `upToSeq`.
   */
  | {
      kind: "receipt";
      conversationId: string;
      /** The group, or (private) the peer whose position moved. */
      peerId: string;
      fromSeq: number;
      upToSeq: number;
    };

export type ReceiptUpdate = Extract<EphemeralEvent, { kind: "receipt" }>;

/**
 * What travels between nodes. Typing and presence: `id` is unique per publication (a node hears its own publications
 * twice on a Redis bus); `after` is a tick: the receiving node hands the signal out only once it
 * has handed out that tick, so its membership view includes every change committed before the
 * signal was admitted.
 */
export type BusSignal =
  | { kind: "typing"; id: string; from: string; to: string; typing: boolean; after: number }
  | { kind: "presence"; id: string; userId: string; online: boolean; groupIds: string[]; after: number }
  | ReadSignal;

/**
 * A reader's position moved in a conversation: (fromSeq, toSeq] is what they have now read. Not
 * gated by a tick: it names no audience (the relay delivers it to the conversation's local
 * members or the pair), and whoever may read the positions may ask for them at any time.
 */
export interface ReadSignal {
  kind: "read";
  conversationId: string;
  readerId: string;
  fromSeq: number;
  toSeq: number;
  /** The node that published it, so its own copy coming back from Redis is not counted twice. */
  origin?: string;
}
