import { keepPreviousData, skipToken, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type UIEvent } from "react";
import { formatTime, newClientId } from "../../format";
import { errorText, useTRPC } from "../../trpc";
import { useMe } from "../auth/me";
import { GroupPanel } from "../groups/GroupPanel";
import { useGroupInfo, useGroupMembers } from "../groups/queries";
import { useNotice, useTyping } from "../live/live";
import { TYPING_REFRESH_MS } from "../live/typing";
import { SearchBox } from "../search/SearchBox";
import { usePeerName } from "../sessions/queries";
import { useMarkRead } from "../sessions/use-mark-read";
import { addMessages, historyOptions, messagesOf, peerReadSeqOf } from "./history";
import { MentionPicker, type Mentions } from "./MentionPicker";
import { ReceiptList } from "./ReceiptList";

const NO_MENTIONS: Mentions = { ids: [], all: false };

/**
 * One conversation: the newest page first, older pages when scrolled to the top (one infinite
 * query, features/chat/history.ts), live messages written into it by the stream, read marks while
 * open.
 */
export function ChatView({ peerId }: { peerId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { user: me } = useMe();
  const isGroup = peerId.startsWith("G");
  const name = usePeerName()(peerId);
  const notice = useNotice(peerId);
  // Mute-all: only the owner and admins may send; everyone sees a banner, the others a disabled composer.
  const groupInfo = useGroupInfo(isGroup ? peerId : null);
  const groupMembers = useGroupMembers(isGroup ? peerId : null);
  const roleOf = (userId: string) => groupMembers.data?.find((m) => m.userId === userId)?.role;
  const myRole = roleOf(me.uuid);
  const mutedAll = isGroup && groupInfo.data?.muteAll === true;
  const silenced = mutedAll && myRole === "member";
  const [showPanel, setShowPanel] = useState(false);
  const [showSearch, setShowSearch] = useState(false);

  const history = useInfiniteQuery(historyOptions(trpc, peerId));
  const messages = useMemo(() => messagesOf(history.data), [history.data]);
  const peerReadSeq = peerReadSeqOf(history.data);

  // Read marks: everything on opening, then up to each newer message while open.
  const markRead = useMarkRead(peerId);
  const newestSeq = messages.at(-1)?.seq;
  useEffect(() => markRead(), [markRead]);
  useEffect(() => {
    if (newestSeq !== undefined) markRead(newestSeq);
  }, [markRead, newestSeq]);

  // Who may recall others' messages here: the group's owner, or an admin (on ordinary members'
  // messages; see messages/recall.ts). The server decides; the button is offered where it may agree.
  const mayRecallOf = (senderId: string) =>
    isGroup && (myRole === "owner" || (myRole === "admin" && roleOf(senderId) !== "owner" && roleOf(senderId) !== "admin"));
  const recall = useMutation(
    trpc.messages.recall.mutationOptions({
      onSuccess: ({ message }) => {
        addMessages(queryClient, trpc, peerId, [message]);
        void queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() });
      },
    }),
  );

  // Keep the view where the reader is: after an older page, the same message stays in place;
  // a new message scrolls down when the reader was at the bottom (or sent it).
  const listRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const restore = useRef<{ height: number; top: number } | null>(null);
  const edges = useRef<{ oldest?: string; newest?: string }>({});
  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const oldest = messages[0]?.uuid;
    const newest = messages.at(-1);
    if (restore.current && oldest !== edges.current.oldest) {
      el.scrollTop = el.scrollHeight - restore.current.height + restore.current.top;
      restore.current = null;
    } else if (newest && newest.uuid !== edges.current.newest && (atBottom.current || newest.sendId === me.uuid)) {
      el.scrollTop = el.scrollHeight;
    }
    edges.current = { oldest, newest: newest?.uuid };
  }, [messages, me.uuid]);

  const loadOlder = () => {
    if (!history.hasNextPage || history.isFetchingNextPage) return;
    const el = listRef.current;
    restore.current = el ? { height: el.scrollHeight, top: el.scrollTop } : null;
    void history.fetchNextPage().then((result) => {
      if (result.isError) restore.current = null;
    });
  };
  const onScroll = (event: UIEvent<HTMLDivElement>) => {
    const el = event.currentTarget;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 40) loadOlder();
  };

  // "… is typing": the names of the others typing here (members of the group, or the friend).
  const typingNames = useTyping(peerId)
    .filter((id) => id !== me.uuid)
    .map((id) => (isGroup ? (groupMembers.data?.find((m) => m.userId === id)?.nickname ?? id) : name));

  // Typing signals: "typing" on the first keystroke and again every TYPING_REFRESH_MS while the
  // draft changes; "stopped" when the draft is emptied. A send ends it on the receivers' side.
  // Refusals (not allowed here, too frequent) only mean nobody is told.
  const typingSignal = useMutation(trpc.live.typing.mutationOptions());
  const lastTypingSignal = useRef(0);
  const signalTyping = (text: string) => {
    const now = Date.now();
    const typingNow = text.trim().length > 0;
    if (typingNow && now - lastTypingSignal.current < TYPING_REFRESH_MS) return;
    if (!typingNow && lastTypingSignal.current === 0) return;
    lastTypingSignal.current = typingNow ? now : 0;
    typingSignal.mutate({ peerId, typing: typingNow });
  };

  const [draft, setDraft] = useState("");
  const [mentions, setMentions] = useState<Mentions>(NO_MENTIONS);
  // One id per draft: a retry of the same draft is stored once.
  const clientMsgId = useRef<string | null>(null);
  const send = useMutation(
    trpc.messages.send.mutationOptions({
      onSuccess: ({ message }) => {
        addMessages(queryClient, trpc, peerId, [message]);
        clientMsgId.current = null;
        lastTypingSignal.current = 0;
        setDraft("");
        setMentions(NO_MENTIONS);
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!draft.trim() || send.isPending) return;
    clientMsgId.current ??= newClientId();
    const mention = isGroup ? { mentionedUserIds: mentions.ids, mentionAll: mentions.all } : {};
    send.mutate({ receiveId: peerId, content: draft, clientMsgId: clientMsgId.current, ...mention });
  };
  /** `id` null: @all. */
  const pickMention = (id: string | null, label: string) => {
    setMentions((m) => (id === null ? { ...m, all: true } : m.ids.includes(id) ? m : { ...m, ids: [...m.ids, id] }));
    setDraft((d) => `${d}${d && !d.endsWith(" ") ? " " : ""}@${label} `);
    clientMsgId.current = null;
  };

  // Read receipts: "read by N" on my own group messages (features/live invalidates the counts
  // when members' read positions may have moved).
  const ownSeqs = isGroup ? messages.filter((m) => m.sendId === me.uuid).map((m) => m.seq).slice(-200) : [];
  const readCounts = useQuery(
    trpc.messages.readCounts.queryOptions(ownSeqs.length > 0 ? { peerId, seqs: ownSeqs } : skipToken, { placeholderData: keepPreviousData, staleTime: 0 }),
  );
  const readBy = new Map(readCounts.data?.counts.map((c) => [c.seq, c.readCount]));
  const [receiptsOf, setReceiptsOf] = useState<string | null>(null);

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
        {notice && (
          <p className="notice" data-testid="chat-notice">
            {notice}
          </p>
        )}
        {mutedAll && (
          <p className="notice" data-testid="mute-all-banner">
            Mute-all is on: only the owner and admins can send messages in this group.
          </p>
        )}
        {history.error && (
          <p className="error" data-testid="chat-error">
            {errorText(history.error)}
          </p>
        )}
        <div className="messages" ref={listRef} onScroll={onScroll} data-testid="message-list">
          {history.isSuccess && !history.hasNextPage ? (
            <p className="muted center" data-testid="history-start">
              Beginning of the conversation
            </p>
          ) : (
            <button type="button" className="load-older" data-testid="load-older" disabled={!history.hasNextPage || history.isFetchingNextPage} onClick={loadOlder}>
              {history.isFetchingNextPage ? "Loading…" : "Load older messages"}
            </button>
          )}
          {messages.map((m) => {
            const own = m.sendId === me.uuid;
            // A recalled message shows the marker and nothing of what it said (mentions included).
            const recalled = m.recalledAt !== null;
            const mentionsMe = !own && !recalled && (m.mentionAll || m.mentionedUserIds.includes(me.uuid));
            const peerRead = peerReadSeq !== null && peerReadSeq >= m.seq;
            const readCount = readBy.get(m.seq);
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
                      onClick={() => recall.mutate({ messageId: m.uuid })}
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
                {own && !isGroup && peerReadSeq !== null && (
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
                {receiptsOf === m.uuid && <ReceiptList messageId={m.uuid} />}
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
