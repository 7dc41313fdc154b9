import { z } from "zod";

/**
 * The client → server frame (legacy-contract §3.3). Like Go's decoder, a key with the wrong JSON type
 * fails the whole frame (the connection is then closed); missing keys are zero values; unknown
 * keys (send_id, send_name, send_avatar …) are ignored: the sender is always the connection's user.
 */
export const clientFrame = z.object({
  session_id: z.string().default(""),
  receive_id: z.string().default(""),
  type: z.number().int().min(-128).max(127).default(0),
  content: z.string().default(""),
  url: z.string().default(""),
  file_type: z.string().default(""),
  file_name: z.string().default(""),
  file_size: z.string().default(""),
  mentioned_user_ids: z.array(z.string()).nullish(),
  mention_all: z.boolean().nullish(),
  client_msg_id: z.string().optional(),
});
