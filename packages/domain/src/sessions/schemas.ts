import { z } from "zod";

export const peerInput = z.object({ peerId: z.string().trim().min(1, "参数错误").max(20, "参数错误") });
export type PeerInput = z.infer<typeof peerInput>;

export const listSessionsInput = z.object({ kind: z.enum(["all", "private", "group"]).default("all") }).default({ kind: "all" });
export type ListSessionsInput = z.infer<typeof listSessionsInput>;

export const deleteSessionInput = z.object({ sessionId: z.string().trim().min(1, "参数错误").max(20, "参数错误") });
export type DeleteSessionInput = z.infer<typeof deleteSessionInput>;

export const markReadInput = z.object({
  peerId: z.string().trim().min(1, "参数错误").max(20, "参数错误"),
  /** Read up to this seq; absent: everything so far. Never moves backwards. */
  seq: z.number().int().min(0).optional(),
});
export type MarkReadInput = z.infer<typeof markReadInput>;
