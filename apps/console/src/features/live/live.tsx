import type { EphemeralEvent, ReceiptUpdate, StreamEventView, StreamItem } from "@omnilink/domain";
import { useQueryClient, type QueryClient, type QueryKey } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from "react";
import { errorText, isUnauthorized, useTRPC, useTRPCClient, type Trpc } from "../../trpc";
import { useMe } from "../auth/me";
import { addMessages, recallInCache, setPeerRead, type Message } from "../chat/history";
import { TypingStore } from "./typing";

/**
 * Everything the console hears live, in this one module: the subscriptions `live.events`
 * (messages and events, tracked: resumable) and `live.signals` (typing, presence and read
 * receipts: ephemeral), both on the one client's WebSocket (trpc.ts), and what each item
 * does to the query cache. Messages, recalls and read positions are written into the cached
 * history (features/chat/history.ts); any other event invalidates only the queries it changes.
 */

export type LiveStatus = "connecting" | "online" | "offline" | "error";

interface Live {
  status: LiveStatus;
  /** Why, for "connecting" after a failure and "error". */
  detail: string | null;
  typing: TypingStore;
  /** Why a group is closed to me (left, removed, dismissed), by group id. */
  notices: ReadonlyMap<string, string>;
}

const LiveContext = createContext<Live | null>(null);

function useLive(): Live {
  const value = useContext(LiveContext);
  if (!value) throw new Error("live state outside LiveProvider");
  return value;
}

export function useLiveStatus(): { status: LiveStatus; detail: string | null } {
  const { status, detail } = useLive();
  return { status, detail };
}

/** The users typing in a conversation (a group id or the other user's id), in the order they started. */
export function useTyping(peerId: string): readonly string[] {
  const { typing } = useLive();
  return useSyncExternalStore(typing.subscribe, () => typing.get(peerId));
}

/** Why this conversation is closed to me, if it is (heard live). */
export function useNotice(peerId: string): string | null {
  return useLive().notices.get(peerId) ?? null;
}

/** What the handlers below work with. */
interface Effects {
  queryClient: QueryClient;
  trpc: Trpc;
  me: string;
  typing: TypingStore;
  /** null: the group is open to me (again). */
  setNotice: (groupId: string, notice: string | null) => void;
}

/**
 * Subscribes while the tab is signed in and online. When the browser reports `offline` the
 * subscriptions end and the socket is closed on purpose (a dead network can leave it open but
 * silent); on `online` they start again, `live.events` from the last id seen, so the server sends
 * exactly what was missed. wsLink's own reconnects (socket lost while online) resume the same way.
 * Items at or below the last id seen are dropped.
 */
export function LiveProvider({ closeSocket, children }: { closeSocket: () => Promise<void>; children: ReactNode }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const { user, logout } = useMe();
  const me = user.uuid;
  const [connection, setConnection] = useState<{ status: LiveStatus; detail: string | null }>({ status: "connecting", detail: null });
  const [notices, setNotices] = useState<ReadonlyMap<string, string>>(() => new Map());
  const [typing] = useState(() => new TypingStore());
  useEffect(() => () => typing.dispose(), [typing]);

  useEffect(() => {
    const effects: Effects = {
      queryClient,
      trpc,
      me,
      typing,
      setNotice: (groupId, notice) =>
        setNotices((current) => {
          if ((current.get(groupId) ?? null) === notice) return current;
          const next = new Map(current);
          if (notice === null) next.delete(groupId);
          else next.set(groupId, notice);
          return next;
        }),
    };
    const report = (status: LiveStatus, detail: string | null = null) => setConnection({ status, detail });
    /** A token the server no longer accepts ends the session; true when that was the case. */
    const signedOut = (error: unknown) => {
      if (!isUnauthorized(error)) return false;
      logout();
      return true;
    };
    let lastEventId: string | null = null;
    let subscriptions: { unsubscribe(): void }[] = [];
    let restartTimer: ReturnType<typeof setTimeout> | undefined;

    const start = () => {
      if (subscriptions.length > 0) return;
      report("connecting");
      const events = client.live.events.subscribe(lastEventId === null ? undefined : { lastEventId }, {
        onStarted: () => {
          report("online");
          started(effects, lastEventId !== null);
        },
        onData: ({ id, data }) => {
          if (lastEventId !== null && Number(id) <= Number(lastEventId)) return;
          lastEventId = id;
          onItem(effects, data);
        },
        onConnectionStateChange: (state) => {
          if (state.state === "connecting") report("connecting", state.error ? errorText(state.error) : null);
        },
        onError: (error) => {
          if (signedOut(error)) return;
          // The server ended the stream (e.g. this tab fell behind): start again from the last id.
          report("error", errorText(error));
          stop();
          restartTimer = setTimeout(() => {
            if (navigator.onLine) start();
          }, 500);
        },
      });
      const signals = client.live.signals.subscribe(undefined, {
        onData: (signal) => onSignal(effects, signal),
        // Ephemeral: nothing to resume; the next start subscribes again.
        onError: signedOut,
      });
      subscriptions = [events, signals];
    };
    const stop = () => {
      clearTimeout(restartTimer);
      for (const subscription of subscriptions) subscription.unsubscribe();
      subscriptions = [];
    };
    const goOffline = () => {
      stop();
      report("offline");
      void closeSocket();
    };

    window.addEventListener("online", start);
    window.addEventListener("offline", goOffline);
    if (navigator.onLine) start();
    else report("offline");
    return () => {
      window.removeEventListener("online", start);
      window.removeEventListener("offline", goOffline);
      stop();
    };
  }, [client, trpc, queryClient, me, typing, logout, closeSocket]);

  return <LiveContext.Provider value={{ ...connection, typing, notices }}>{children}</LiveContext.Provider>;
}

/**
 * The stream (re)started. Resumed from an id, it delivers everything missed itself; only the
 * ephemeral signals may have been lost meanwhile (presence, read positions). Otherwise (the first
 * start, or a restart from nothing) whatever happened before it began is read again: every query.
 */
function started({ queryClient, trpc }: Effects, resumed: boolean): void {
  if (!resumed) {
    void queryClient.invalidateQueries();
    return;
  }
  invalidate(queryClient, trpc.groups.presence.queryKey(), trpc.messages.readCounts.queryKey(), trpc.messages.receipts.queryKey());
}

function invalidate(queryClient: QueryClient, ...queryKeys: QueryKey[]): void {
  for (const queryKey of queryKeys) void queryClient.invalidateQueries({ queryKey });
}

/** Whose conversation a message is, seen from `me`: the group, or the other user. */
function peerOf(message: Message, me: string): string {
  if (message.receiveId.startsWith("G")) return message.receiveId;
  return message.sendId === me ? message.receiveId : message.sendId;
}

/** Whose conversation a conversation id is, seen from `me`: the group, or the other user of "a:b". */
function peerOfConversation(conversationId: string, me: string): string {
  if (conversationId.startsWith("G")) return conversationId;
  const [a = "", b = ""] = conversationId.split(":");
  return a === me ? b : a;
}

function onItem(effects: Effects, item: StreamItem): void {
  const { queryClient, trpc, me, typing } = effects;
  if (item.kind === "event") return onEvent(effects, item.event);
  const message = item.message;
  const peer = peerOf(message, me);
  addMessages(queryClient, trpc, peer, [message]);
  // A message ends its sender's "typing".
  typing.clear(peer, message.sendId);
  // Someone else's message: their read position moved up to it.
  if (message.sendId !== me) {
    if (peer.startsWith("G")) invalidate(queryClient, trpc.messages.readCounts.queryKey({ peerId: peer }), trpc.messages.receipts.queryKey());
    else setPeerRead(queryClient, trpc, peer, message.seq);
  }
  // Last message, unread and mention counts; a first message opens a session.
  invalidate(queryClient, trpc.sessions.list.queryKey());
}

/** What a membership event means for my view of its group: a notice, null (open again), or nothing. */
function noticeFor(event: StreamEventView, me: string): string | null | undefined {
  switch (event.type) {
    case "group.dismissed":
      return "群聊已解散";
    case "member.left":
      return event.payload.userId === me ? "你已退出该群聊" : undefined;
    case "member.removed":
      return event.payload.userIds.includes(me) ? "你已被移出群聊" : undefined;
    case "member.joined":
      return event.payload.userIds.includes(me) ? null : undefined;
    default:
      return undefined;
  }
}

function onEvent(effects: Effects, event: StreamEventView): void {
  const { queryClient, trpc, me } = effects;
  const groupId = event.groupId;
  const sessions = trpc.sessions.list.queryKey();
  // The group's own queries (none when the event names no group).
  const group = (...parts: ("info" | "members" | "presence")[]): QueryKey[] => (groupId ? parts.map((part) => trpc.groups[part].queryKey({ groupId })) : []);
  switch (event.type) {
    case "message.recalled": {
      const recall = event.payload;
      recallInCache(queryClient, trpc, peerOfConversation(recall.conversationId, me), { messageId: recall.messageId, at: event.createdAt, by: recall.by });
      // The session's last message may be the recalled one.
      return invalidate(queryClient, sessions);
    }
    case "group.created":
      return invalidate(queryClient, sessions);
    case "group.updated":
      return invalidate(queryClient, sessions, ...group("info"));
    case "group.muteAll":
      return invalidate(queryClient, ...group("info"));
    case "owner.transferred":
    case "member.role":
    case "member.muted":
    case "member.unmuted":
      return invalidate(queryClient, ...group("info", "members"));
    case "member.joined":
    case "member.left":
    case "member.removed":
    case "group.dismissed": {
      const notice = noticeFor(event, me);
      if (groupId && notice !== undefined) effects.setNotice(groupId, notice);
      return invalidate(queryClient, sessions, ...group("info", "members", "presence"));
    }
    case "request.created":
      return invalidate(queryClient, trpc.contacts.pending.queryKey());
    case "request.decided":
      // An approved friend request adds a friend (and a session); a join request is followed by member.joined.
      return invalidate(queryClient, trpc.contacts.pending.queryKey(), trpc.contacts.friends.queryKey(), sessions);
    case "friend.removed":
    case "contact.blocked":
    case "contact.unblocked":
      return invalidate(queryClient, trpc.contacts.friends.queryKey(), sessions);
  }
}

function onSignal(effects: Effects, signal: EphemeralEvent): void {
  const { queryClient, trpc, typing } = effects;
  switch (signal.kind) {
    case "typing":
      return typing.apply(signal);
    case "presence":
      // Someone of my groups came or went: the shown groups ask again who is online.
      return invalidate(queryClient, trpc.groups.presence.queryKey());
    case "receipt":
      return onReceipt(effects, signal);
  }
}

function onReceipt({ queryClient, trpc }: Effects, update: ReceiptUpdate): void {
  if (update.peerId.startsWith("G")) invalidate(queryClient, trpc.messages.readCounts.queryKey({ peerId: update.peerId }), trpc.messages.receipts.queryKey());
  else setPeerRead(queryClient, trpc, update.peerId, update.upToSeq);
}
