import { useQuery } from "@tanstack/react-query";
import { useConsole } from "./context";

/** Query keys shared by the screens and the live event handler. */
export const keys = {
  sessions: ["sessions"] as const,
  friends: ["friends"] as const,
  pending: ["pending"] as const,
  group: (groupId: string) => ["group", groupId] as const,
  groupInfo: (groupId: string) => ["group", groupId, "info"] as const,
  groupMembers: (groupId: string) => ["group", groupId, "members"] as const,
};

export function useSessions() {
  const { api } = useConsole();
  return useQuery({ queryKey: keys.sessions, queryFn: () => api.sessions.list.query({ kind: "all" }) });
}

export function useFriends() {
  const { api } = useConsole();
  return useQuery({ queryKey: keys.friends, queryFn: () => api.contacts.friends.query() });
}

export function usePending() {
  const { api } = useConsole();
  return useQuery({ queryKey: keys.pending, queryFn: () => api.contacts.pending.query() });
}

/** A group's info (muteAll included); shared by the chat view and the group panel. */
export function useGroupInfo(groupId: string, enabled = true) {
  const { api } = useConsole();
  return useQuery({ queryKey: keys.groupInfo(groupId), queryFn: () => api.groups.info.query({ groupId }), enabled });
}

/** A group's members with their role ("owner" | "admin" | "member"). */
export function useGroupMembers(groupId: string, enabled = true) {
  const { api } = useConsole();
  return useQuery({ queryKey: keys.groupMembers(groupId), queryFn: () => api.groups.members.query({ groupId }), enabled });
}
