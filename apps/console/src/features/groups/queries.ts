import { skipToken, useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";

/** A group's info (muteAll included); `null`: not a group, nothing asked. */
export function useGroupInfo(groupId: string | null) {
  const trpc = useTRPC();
  return useQuery(trpc.groups.info.queryOptions(groupId ? { groupId } : skipToken));
}

/** A group's members with their role ("owner" | "admin" | "member"); `null`: nothing asked. */
export function useGroupMembers(groupId: string | null) {
  const trpc = useTRPC();
  return useQuery(trpc.groups.members.queryOptions(groupId ? { groupId } : skipToken));
}

/** Which members are online: asked when shown, again on every presence signal (features/live) and every 30 s. */
export function useGroupPresence(groupId: string) {
  const trpc = useTRPC();
  return useQuery(trpc.groups.presence.queryOptions({ groupId }, { refetchInterval: 30_000 }));
}
