import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { useFriends } from "../contacts/queries";

/** Every session of mine; the live stream keeps it current (features/live). */
export function useSessions() {
  const trpc = useTRPC();
  return useQuery(trpc.sessions.list.queryOptions({ kind: "all" }));
}

/** A peer's display name: its session's, else the friend's, else its id. */
export function usePeerName(): (peerId: string) => string {
  const sessions = useSessions();
  const friends = useFriends();
  return (peerId) => sessions.data?.find((s) => s.peerId === peerId)?.peerName ?? friends.data?.find((f) => f.userId === peerId)?.name ?? peerId;
}
