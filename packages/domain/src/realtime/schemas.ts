import { z } from "zod";
import { BAD_PARAMS_MESSAGE } from "../errors.js";

/**
 * The live subscription's input: resume after a stream item id (a tracked event id, decimal).
 * At most 15 digits, so the id is a safe integer the bigint column compares exactly.
 */
export const liveEventsInput = z
  .object({ lastEventId: z.string().regex(/^\d{1,15}$/, BAD_PARAMS_MESSAGE).nullish() })
  .optional();
export type LiveEventsInput = z.infer<typeof liveEventsInput>;
