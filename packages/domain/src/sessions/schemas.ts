import { z } from "zod";
import { publicIdText } from "../text.js";

export const peerInput = z.object({ peerId: publicIdText() });
export type PeerInput = z.infer<typeof peerInput>;

export const listSessionsInput = z.object({ kind: z.enum(["all", "private", "group"]).default("all") }).default({ kind: "all" });
export type ListSessionsInput = z.infer<typeof listSessionsInput>;

export const deleteSessionInput = z.object({ sessionId: publicIdText() });
export type DeleteSessionInput = z.infer<typeof deleteSessionInput>;

export const markReadInput = z.object({
  peerId: publicIdText(),
  /** Read up to this seq; absent: everything so far. Never moves backwards. */
  seq: z.number().int().min(0).optional(),
});
export type MarkReadInput = z.infer<typeof markReadInput>;
