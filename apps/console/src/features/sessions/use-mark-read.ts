import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef } from "react";
import { useTRPC } from "../../trpc";

/**
 * Marks the conversation with `peerId` read, up to `seq` or (none given) everything so far, and
 * refreshes the session list. Calls are coalesced: a burst of messages costs one call; what is
 * pending when the chat closes is sent then. Refusals (left, dismissed) are not shown: the
 * session list says so on its own.
 */
export function useMarkRead(peerId: string): (seq?: number) => void {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { mutate } = useMutation(
    trpc.sessions.markRead.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() }),
    }),
  );
  /** What to send: `upTo` null means everything. */
  const pending = useRef<{ timer: ReturnType<typeof setTimeout>; upTo: number | null } | null>(null);

  const flush = useCallback(() => {
    const due = pending.current;
    if (!due) return;
    clearTimeout(due.timer);
    pending.current = null;
    mutate(due.upTo === null ? { peerId } : { peerId, seq: due.upTo });
  }, [mutate, peerId]);
  useEffect(() => flush, [flush]);

  return useCallback(
    (seq?: number) => {
      const previous = pending.current;
      if (previous) clearTimeout(previous.timer);
      const upTo = seq === undefined || (previous && previous.upTo === null) ? null : Math.max(seq, previous?.upTo ?? 0);
      pending.current = { timer: setTimeout(flush, 150), upTo };
    },
    [flush],
  );
}
