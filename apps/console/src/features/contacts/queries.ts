import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";

export function useFriends() {
  const trpc = useTRPC();
  return useQuery(trpc.contacts.friends.queryOptions());
}

/** Friend requests to me and join requests for groups I own or administer (live: features/live). */
export function usePending() {
  const trpc = useTRPC();
  return useQuery(trpc.contacts.pending.queryOptions());
}
