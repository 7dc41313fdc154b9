import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent, type UIEvent } from "react";
import { errorText } from "../api";
import { useConsole } from "../context";
import { formatTime, newClientId } from "../format";
import { keys, useFriends, useGroupInfo, useGroupMembers, useSessions } from "../queries";
import { useConversation } from "../store";
import { GroupPanel } from "./GroupPanel";
import { SearchBox } from "./SearchScreen";

const PAGE = 30;

/**
 * One conversation: the newest page first, older pages when scrolled to the top (cursor:
 * beforeSeq), live messages from the stream, read marks while open.
 */
export function ChatView({ peerId }: { peerId: string }) {
  const { api, store, me, markRead, live } = useConsole();
  const conversation = useConversation(store, peerId);
  const isGroup = peerId.startsWith("G");
  const sessions = useSessions();
  const friends = useFriends();
  const session = sessions.data?.find((s) => s.peerId === peerId);
  const name = session?.peerName ?? friends.data?.find((f) => f.userId === peerId)?.name ?? peerId;
  // Mute-all: only the owner and admins may send; everyone sees a banner, the others a disabled composer.
  const groupInfo = useGroupInfo(peerId, isGroup);
  const groupMembers = useGroupMembers(peerId, isGroup);
  const myRole = groupMembers.data?.find((m) => m.userId === me.uuid)?.role;
  const mutedAll = isGroup && groupInfo.data?.muteAll === true;
  const silenced = mutedAll && myRole === "member";

  const [loadError, setLoadError] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [showPanel, setShowPanel] = useState(false);
  const [showSearch, setShowSearch] = useState(false);
  const queryClient = useQueryClient();
  // Who may recall others' messages here: the group's owner, or an admin (on ordinary members'
  // messages; see messages/recall.ts). The server decides; the button is offered where it may agree.
  const roleOf = (userId: string) => groupMembers.data?.find((m) => m.userId === userId)?.role;
  const mayRecallOf = (senderId: string) =>
    isGroup && (myRole === "owner" || (myRole === "admin" && roleOf(senderId) !== "owner" && roleOf(senderId) !== "admin"));
  const recall = useMutation({
    mutationFn: (messageId: string) => api.messages.recall.mutate({ messageId }),
    onSuccess: (result) => {
      store.add(peerId, [result.message]);
      void queryClient.invalidateQueries({ queryKey: keys.sessions });
    },
  });
  const listRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const restore = useRef<{ height: number; top: number } | null>(null);
  const lastUuid = useRef<string | null>(null);

  // The newest page, and a read mark for everything so far.
  useEffect(() => {
    let cancelled = false;
    api.messages.history
      .query({ peerId, limit: PAGE })
      .then((page) => {
        if (cancelled) return;
        store.add(peerId, page.items);
        // Messages heard live before this page may reach further back than it: seqs start at 1.
        const oldest = store.get(peerId).messages[0];
        const first = page.items[0];
        store.setHasMore(peerId, !oldest || !first || oldest.seq >= first.seq ? page.hasMore : oldest.seq > 1);
        setLoadError(null);
      })
      .catch((e: unknown) => {
        if (!cancelled) setLoadError(errorText(e));
      });
    markRead(peerId);
    return () => {
      cancelled = true;
    };
  }, [api, store, peerId, markRead]);

  // A stream started without a resume point only hears what comes after it: catch up on what
  // was sent between the page above and that start. (A resumed stream backfills by itself.)
  useEffect(() => {
    if (live.epoch === 0) return;
    const newest = store.get(peerId).messages.at(-1);
    if (!newest) return;
    api.messages.history
      .query({ peerId, afterSeq: newest.seq, limit: 200 })
      .then((page) => store.add(peerId, page.items))
      .catch(() => {});
  }, [api, store, peerId, live.epoch]);

  const loadOlder = async () => {
    const oldest = store.get(peerId).messages[0];
    if (loadingOlder || !oldest || store.get(peerId).hasMore === false) return;
    setLoadingOlder(true);
    const el = listRef.current;
    restore.current = el ? { height: el.scrollHeight, top: el.scrollTop } : null;
    try {
      const page = await api.messages.history.query({ peerId, beforeSeq: oldest.seq, limit: PAGE });
      if (store.add(peerId, page.items) === 0) restore.current = null;
      store.setHasMore(peerId, page.hasMore);
    } catch (e) {
      restore.current = null;
      setLoadError(errorText(e));
    } finally {
      setLoadingOlder(false);
    }
  };

  // Keep the view where the reader is: after an older page, the same message stays in place;
  // a new message scrolls down when the reader was at the bottom (or sent it).
  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const newest = conversation.messages.at(-1);
    if (restore.current) {
      el.scrollTop = el.scrollHeight - restore.current.height + restore.current.top;
      restore.current = null;
    } else if (newest && newest.uuid !== lastUuid.current && (atBottom.current || newest.sendId === me.uuid)) {
      el.scrollTop = el.scrollHeight;
    }
    lastUuid.current = newest?.uuid ?? null;
  }, [conversation.messages, me.uuid]);

  const onScroll = (event: UIEvent<HTMLDivElement>) => {
    const el = event.currentTarget;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 40 && conversation.hasMore !== false) void loadOlder();
  };

  const [draft, setDraft] = useState("");
  const clientMsgId = useRef<string | null>(null);
  const send = useMutation({
    mutationFn: (content: string) => {
      clientMsgId.current ??= newClientId();
      return api.messages.send.mutate({ receiveId: peerId, content, clientMsgId: clientMsgId.current });
    },
    onSuccess: (result) => {
      store.add(peerId, [result.message]);
      clientMsgId.current = null;
      setDraft("");
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!draft.trim() || send.isPending) return;
    send.mutate(draft);
  };

  return (
    <div className="chat-layout">
      <section className="panel chat" data-testid="chat-view" data-peer-id={peerId}>
        <div className="chat-header">
          <div>
            <h2 data-testid="chat-title">
              {isGroup && <span className="tag">group</span>}
              {name}
            </h2>
            <code data-testid="chat-peer-id">{peerId}</code>
          </div>
          <button type="button" data-testid="chat-search-toggle" onClick={() => setShowSearch((v) => !v)}>
            {showSearch ? "Hide search" : "Search"}
          </button>
          {isGroup && (
            <button type="button" data-testid="group-panel-toggle" onClick={() => setShowPanel((v) => !v)}>
              {showPanel ? "Hide group panel" : "Group panel"}
            </button>
          )}
        </div>
        {showSearch && <SearchBox peerId={peerId} />}
        {conversation.notice && (
          <p className="notice" data-testid="chat-notice">
            {conversation.notice}
          </p>
        )}
        {mutedAll && (
          <p className="notice" data-testid="mute-all-banner">
            Mute-all is on: only the owner and admins can send messages in this group.
          </p>
        )}
        {loadError && (
          <p className="error" data-testid="chat-error">
            {loadError}
          </p>
        )}
        <div className="messages" ref={listRef} onScroll={onScroll} data-testid="message-list">
          {conversation.hasMore !== false ? (
            <button type="button" className="load-older" data-testid="load-older" disabled={loadingOlder} onClick={() => void loadOlder()}>
              {loadingOlder ? "Loading…" : "Load older messages"}
            </button>
          ) : (
            <p className="muted center" data-testid="history-start">
              Beginning of the conversation
            </p>
          )}
          {conversation.messages.map((m) => {
            const own = m.sendId === me.uuid;
            const recalled = m.recalledAt !== null;
            // The server has the last word (window, roles); the button is offered where it may say yes.
            const mayRecall = !recalled && (own || mayRecallOf(m.sendId));
            return (
              <div
                key={m.uuid}
                className={`${own ? "message own" : "message"}${recalled ? " recalled" : ""}`}
                data-testid="message"
                data-uuid={m.uuid}
                data-seq={m.seq}
                data-own={own ? "true" : "false"}
                data-recalled={recalled ? "true" : "false"}
              >
                <div className="message-meta">
                  <span data-testid="message-sender">{own ? "me" : m.sendName}</span>
                  <time dateTime={m.createdAt.toISOString()}>{formatTime(m.createdAt)}</time>
                  <span className="muted">#{m.seq}</span>
                  {mayRecall && (
                    <button
                      type="button"
                      className="link"
                      data-testid="message-recall"
                      disabled={recall.isPending}
                      onClick={() => recall.mutate(m.uuid)}
                    >
                      Recall
                    </button>
                  )}
                </div>
                {recalled ? (
                  <div className="message-body recalled-marker" data-testid="message-recalled">
                    {m.recalledBy === m.sendId ? (own ? "You recalled a message" : `${m.sendName} recalled a message`) : m.recalledBy === me.uuid ? "You recalled this message" : "This message was recalled by a group manager"}
                  </div>
                ) : (
                  <div className="message-body" data-testid="message-content">
                    {m.type === 0 ? m.content : m.fileName || m.url || m.content}
                  </div>
                )}
              </div>
            );
          })}
        </div>
        {recall.error && (
          <p className="error" role="alert" data-testid="recall-error">
            {errorText(recall.error)}
          </p>
        )}
        <form className="composer" onSubmit={submit}>
          <input
            data-testid="composer-input"
            value={draft}
            disabled={silenced}
            placeholder={silenced ? "Mute-all is on: only the owner and admins can send" : "Write a message"}
            onChange={(e) => {
              setDraft(e.target.value);
              clientMsgId.current = null;
            }}
          />
          <button type="submit" className="primary" data-testid="composer-send" disabled={silenced || send.isPending || !draft.trim()}>
            Send
          </button>
        </form>
        {silenced && (
          <p className="muted" data-testid="composer-disabled-reason">
            You cannot send: the group is muted for everyone but the owner and admins.
          </p>
        )}
        {send.error && (
          <p className="error" role="alert" data-testid="send-error">
            {errorText(send.error)}
          </p>
        )}
      </section>
      {isGroup && showPanel && <GroupPanel groupId={peerId} />}
    </div>
  );
}
