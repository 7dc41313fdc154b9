import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent, type UIEvent } from "react";
import { errorText } from "../api";
import { useConsole } from "../context";
import { formatTime, newClientId } from "../format";
import { keys, useFriends, useGroupInfo, useGroupMembers, useSessions } from "../queries";
import { useConversation } from "../store";
import { TYPING_REFRESH_MS, useTyping } from "../typing";
import { GroupPanel } from "./GroupPanel";
import { SearchBox } from "./SearchScreen";

const PAGE = 30;

/**
 * One conversation: the newest page first, older pages when scrolled to the top (cursor:
 * beforeSeq), live messages from the stream, read marks while open.
 */
export function ChatView({ peerId }: { peerId: string }) {
  const { api, store, typing, me, markRead, live } = useConsole();
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
        if (page.peerReadSeq !== null) store.setPeerRead(peerId, page.peerReadSeq);
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

  // "… is typing": the names of the others typing here (members of the group, or the friend).
  const typingIds = useTyping(typing, peerId);
  const typingNames = typingIds
    .filter((id) => id !== me.uuid)
    .map((id) => (isGroup ? (groupMembers.data?.find((m) => m.userId === id)?.nickname ?? id) : name));

  // Typing signals: "typing" on the first keystroke and again every TYPING_REFRESH_MS while the
  // draft changes; "stopped" when the draft is emptied. A send ends it on the receivers' side.
  const lastTypingSignal = useRef(0);
  const signalTyping = (text: string) => {
    const now = Date.now();
    const typingNow = text.trim().length > 0;
    if (typingNow && now - lastTypingSignal.current < TYPING_REFRESH_MS) return;
    if (!typingNow && lastTypingSignal.current === 0) return;
    lastTypingSignal.current = typingNow ? now : 0;
    // Refusals (not allowed here, too frequent) only mean nobody is told.
    api.live.typing.mutate({ peerId, typing: typingNow }).catch(() => {});
  };

  const [draft, setDraft] = useState("");
  const [mentions, setMentions] = useState<{ ids: string[]; all: boolean }>({ ids: [], all: false });
  const clientMsgId = useRef<string | null>(null);
  const send = useMutation({
    mutationFn: (content: string) => {
      clientMsgId.current ??= newClientId();
      const mention = isGroup ? { mentionedUserIds: mentions.ids, mentionAll: mentions.all } : {};
      return api.messages.send.mutate({ receiveId: peerId, content, clientMsgId: clientMsgId.current, ...mention });
    },
    onSuccess: (result) => {
      store.add(peerId, [result.message]);
      clientMsgId.current = null;
      lastTypingSignal.current = 0;
      setDraft("");
      setMentions({ ids: [], all: false });
    },
  });
  /** `id` null: @all. */
  const pickMention = (id: string | null, label: string) => {
    setMentions((m) => (id === null ? { ...m, all: true } : m.ids.includes(id) ? m : { ...m, ids: [...m.ids, id] }));
    setDraft((d) => `${d}${d && !d.endsWith(" ") ? " " : ""}@${label} `);
    clientMsgId.current = null;
  };

  // Read receipts: "read by N" on my own group messages (refetched when positions may have moved).
  const ownSeqs = isGroup ? conversation.messages.filter((m) => m.sendId === me.uuid).map((m) => m.seq).slice(-200) : [];
  const readCounts = useQuery({
    queryKey: ["readCounts", peerId, conversation.receiptVersion, ownSeqs.join(",")],
    queryFn: () => api.messages.readCounts.query({ peerId, seqs: ownSeqs }),
    enabled: isGroup && ownSeqs.length > 0,
    placeholderData: (previous) => previous,
    staleTime: 0,
  });
  const readBy = new Map(readCounts.data?.counts.map((c) => [c.seq, c.readCount]));
  const [receiptsOf, setReceiptsOf] = useState<string | null>(null);
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
            const mentionsMe = !own && (m.mentionAll || m.mentionedUserIds.includes(me.uuid));
            const peerRead = conversation.peerReadSeq !== null && conversation.peerReadSeq >= m.seq;
            const readCount = readBy.get(m.seq);
            const recalled = m.recalledAt !== null;
            // The server has the last word (window, roles); the button is offered where it may say yes.
            const mayRecall = !recalled && (own || mayRecallOf(m.sendId));
            return (
              <div
                key={m.uuid}
                className={["message", own ? "own" : "", mentionsMe ? "mentions-me" : "", recalled ? "recalled" : ""].filter(Boolean).join(" ")}
                data-testid="message"
                data-uuid={m.uuid}
                data-seq={m.seq}
                data-own={own ? "true" : "false"}
                data-mentions-me={mentionsMe ? "true" : "false"}
                data-recalled={recalled ? "true" : "false"}
              >
                <div className="message-meta">
                  <span data-testid="message-sender">{own ? "me" : m.sendName}</span>
                  <time dateTime={m.createdAt.toISOString()}>{formatTime(m.createdAt)}</time>
                  <span className="muted">#{m.seq}</span>
                  {mentionsMe && (
                    <span className="mention-tag" data-testid="mention-tag">
                      {m.mentionAll ? "@all" : "@ you"}
                    </span>
                  )}
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
                {own && !isGroup && conversation.peerReadSeq !== null && (
                  <div className={peerRead ? "receipt read" : "receipt"} data-testid="receipt" data-read={peerRead ? "true" : "false"}>
                    {peerRead ? "已读" : "未读"}
                  </div>
                )}
                {own && isGroup && readCount !== undefined && (
                  <button
                    type="button"
                    className="receipt link"
                    data-testid="read-by"
                    data-read-count={readCount}
                    onClick={() => setReceiptsOf((cur) => (cur === m.uuid ? null : m.uuid))}
                  >
                    {readCounts.data && readCount >= readCounts.data.members ? "read by all" : `read by ${readCount}`}
                  </button>
                )}
                {receiptsOf === m.uuid && <ReceiptList messageId={m.uuid} version={conversation.receiptVersion} />}
              </div>
            );
          })}
        </div>
        <p className="typing muted" data-testid="typing-indicator" aria-live="polite">
          {typingNames.length === 1 && `${typingNames[0]} is typing…`}
          {typingNames.length > 1 && `${typingNames.join(", ")} are typing…`}
        </p>
        {isGroup && <MentionPicker groupId={peerId} onPick={pickMention} picked={mentions} mayMentionAll={myRole === "owner" || myRole === "admin"} />}
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
              signalTyping(e.target.value);
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

/** Who has read one of my messages, and who has not (sender only; capped lists). */
function ReceiptList({ messageId, version }: { messageId: string; version: number }) {
  const { api } = useConsole();
  const receipts = useQuery({
    queryKey: ["receipts", messageId, version],
    queryFn: () => api.messages.receipts.query({ messageId, limit: 100 }),
    placeholderData: (previous) => previous,
  });
  const r = receipts.data;
  if (receipts.error) return <p className="error">{errorText(receipts.error)}</p>;
  if (!r) return null;
  return (
    <div className="receipt-list" data-testid="receipt-list">
      <div>
        <strong>Read ({r.readCount})</strong>
        <ul data-testid="receipt-readers">
          {r.readers.map((u) => (
            <li key={u.userId} data-user-id={u.userId}>
              {u.name}
            </li>
          ))}
        </ul>
      </div>
      <div>
        <strong>Unread ({r.unreadCount})</strong>
        <ul data-testid="receipt-unread">
          {r.unread.map((u) => (
            <li key={u.userId} data-user-id={u.userId}>
              {u.name}
            </li>
          ))}
        </ul>
      </div>
      {r.truncated && <p className="muted">…</p>}
    </div>
  );
}

/** "@" in a group: pick members to mention; @all for the owner and admins (the server decides). */
function MentionPicker({
  groupId,
  onPick,
  picked,
  mayMentionAll,
}: {
  groupId: string;
  onPick: (id: string | null, label: string) => void;
  picked: { ids: string[]; all: boolean };
  mayMentionAll: boolean;
}) {
  const { me } = useConsole();
  const [open, setOpen] = useState(false);
  const members = useGroupMembers(groupId, open);
  const count = picked.ids.length + (picked.all ? 1 : 0);
  return (
    <div className="mention-picker">
      <button type="button" data-testid="mention-toggle" onClick={() => setOpen((v) => !v)}>
        @ mention{count > 0 ? ` (${count})` : ""}
      </button>
      {open && (
        <ul className="mention-options" data-testid="mention-options">
          {mayMentionAll && (
            <li>
              <button type="button" data-testid="mention-all" onClick={() => onPick(null, "all")}>
                @all
              </button>
            </li>
          )}
          {members.data
            ?.filter((m) => m.userId !== me.uuid)
            .map((m) => (
              <li key={m.userId}>
                <button type="button" data-testid="mention-option" data-user-id={m.userId} onClick={() => onPick(m.userId, m.nickname || m.username)}>
                  @{m.nickname || m.username}
                </button>
              </li>
            ))}
        </ul>
      )}
    </div>
  );
}
