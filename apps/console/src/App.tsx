import { QueryCache, QueryClient, QueryClientProvider, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { createHttpApi, isUnauthorized, LiveConnection, type LiveStatus, type StreamEventView, type StreamItem } from "./api";
import { loadAuth, saveAuth, type StoredAuth } from "./auth";
import { Ctx, useConsole, type ConsoleContext } from "./context";
import { keys, usePending } from "./queries";
import { Link, navigate, parseRoute, usePath } from "./router";
import { AuthScreen } from "./screens/AuthScreen";
import { ChatView } from "./screens/ChatView";
import { FriendsScreen } from "./screens/FriendsScreen";
import { JoinGroupScreen } from "./screens/JoinGroupScreen";
import { NewGroupScreen } from "./screens/NewGroupScreen";
import { RequestsScreen } from "./screens/RequestsScreen";
import { SessionList } from "./screens/SessionList";
import { TypingStore } from "./typing";
import { MessageStore, peerOf, peerOfConversation } from "./store";
import { SearchScreen } from "./screens/SearchScreen";

export function App() {
  const [auth, setAuth] = useState<StoredAuth | null>(loadAuth);
  const signIn = (next: StoredAuth) => {
    saveAuth(next);
    setAuth(next);
    navigate("/", { replace: true });
  };
  const signOut = useCallback(() => {
    saveAuth(null);
    setAuth(null);
    navigate("/", { replace: true });
  }, []);
  if (!auth) return <AuthScreen onSignedIn={signIn} />;
  // A fresh cache, store and connection per signed-in user.
  return <SignedIn key={auth.token} auth={auth} onLogout={signOut} />;
}

function SignedIn({ auth, onLogout }: { auth: StoredAuth; onLogout: () => void }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        // A token the server no longer accepts (expired, or a new data folder): back to log in.
        queryCache: new QueryCache({ onError: (error) => isUnauthorized(error) && onLogout() }),
        defaultOptions: { queries: { retry: (count, error) => !isUnauthorized(error) && count < 1, refetchOnWindowFocus: false, staleTime: 1_000 } },
      }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <ConsoleShell auth={auth} onLogout={onLogout} />
    </QueryClientProvider>
  );
}

/** What a membership event means for the signed-in user's view of that group, if anything. */
function noticeFor(event: StreamEventView, me: string): string | null | undefined {
  const payload = event.payload as Record<string, unknown>;
  switch (event.type) {
    case "group.dismissed":
      return "群聊已解散";
    case "member.left":
      return payload.userId === me ? "你已退出该群聊" : undefined;
    case "member.removed":
      return (payload.userIds as string[]).includes(me) ? "你已被移出群聊" : undefined;
    case "member.joined":
      return (payload.userIds as string[]).includes(me) ? null : undefined;
    default:
      return undefined;
  }
}

function ConsoleShell({ auth, onLogout }: { auth: StoredAuth; onLogout: () => void }) {
  const queryClient = useQueryClient();
  const api = useMemo(() => createHttpApi(auth.token), [auth.token]);
  const [store] = useState(() => new MessageStore());
  const [typing] = useState(() => new TypingStore());
  const [live, setLive] = useState<ConsoleContext["live"]>({ status: "connecting", detail: null, epoch: 0 });
  const path = usePath();
  const route = parseRoute(path);
  const activePeer = route.name === "chat" ? route.param : null;
  const activePeerRef = useRef(activePeer);
  activePeerRef.current = activePeer;
  const me = auth.user;

  // Mark-read calls are coalesced per conversation: a burst of messages costs one call.
  const readTimers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const markRead = useCallback(
    (peerId: string, seq?: number) => {
      const timers = readTimers.current;
      const pending = timers.get(peerId);
      if (pending) clearTimeout(pending);
      timers.set(
        peerId,
        setTimeout(() => {
          timers.delete(peerId);
          api.sessions.markRead
            .mutate(seq === undefined ? { peerId } : { peerId, seq })
            .then(() => queryClient.invalidateQueries({ queryKey: keys.sessions }))
            .catch(() => {
              // Not readable any more (left, dismissed): the session list says so on its own.
            });
        }, 150),
      );
    },
    [api, queryClient],
  );

  useEffect(() => {
    const onItem = (item: StreamItem) => {
      if (item.kind === "message") {
        const peer = peerOf(item.message, me.uuid);
        store.add(peer, [item.message]);
        // A message ends its sender's "typing".
        typing.clear(peer, item.message.sendId);
        // Someone else's message means their read position moved up to it: read counts may change.
        if (item.message.sendId !== me.uuid) {
          if (peer.startsWith("G")) store.bumpReceipts(peer);
          else store.setPeerRead(peer, item.message.seq);
        }
        if (peer === activePeerRef.current) markRead(peer, item.message.seq);
        void queryClient.invalidateQueries({ queryKey: keys.sessions });
        return;
      }
      const event = item.event;
      if (event.type === "message.recalled") {
        const p = event.payload as { messageId: string; conversationId: string; by: string };
        store.recall(peerOfConversation(p.conversationId, me.uuid), p.messageId, event.createdAt, p.by);
        void queryClient.invalidateQueries({ queryKey: keys.sessions });
        return;
      }
      const notice = event.groupId ? noticeFor(event, me.uuid) : undefined;
      if (event.groupId && notice !== undefined) store.setNotice(event.groupId, notice);
      // Membership, approval and friend events are rare: refresh every list.
      void queryClient.invalidateQueries();
    };
    const connection = new LiveConnection(auth.token, {
      onItem,
      onSignal: (event) => {
        if (event.kind === "typing") typing.apply(event);
        // Someone of my groups came or went: ask again who is online (only shown groups are asked).
        else void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] === "group" && q.queryKey[2] === "presence" });
      },
      onStarted: (resumed) => {
        if (!resumed) setLive((l) => ({ ...l, epoch: l.epoch + 1 }));
        void queryClient.invalidateQueries();
      },
      onStatus: (status: LiveStatus, detail?: string) => setLive((l) => ({ ...l, status, detail: detail ?? null })),
      onUnauthorized: onLogout,
      onReceipt: (update) => {
        if (update.peerId.startsWith("G")) store.bumpReceipts(update.peerId);
        else store.setPeerRead(update.peerId, update.upToSeq);
      },
    });
    const goOnline = () => connection.start();
    const goOffline = () => connection.stop("offline");
    window.addEventListener("online", goOnline);
    window.addEventListener("offline", goOffline);
    if (navigator.onLine) connection.start();
    else setLive((l) => ({ ...l, status: "offline" }));
    return () => {
      window.removeEventListener("online", goOnline);
      window.removeEventListener("offline", goOffline);
      connection.dispose();
    };
  }, [auth.token, me.uuid, store, typing, queryClient, markRead, onLogout]);
  useEffect(() => () => typing.dispose(), [typing]);

  const context = useMemo<ConsoleContext>(() => ({ api, me, store, typing, live, markRead, logout: onLogout }), [api, me, store, typing, live, markRead, onLogout]);

  return (
    <Ctx.Provider value={context}>
      <div className="app">
        <Header />
        <div className="layout">
          <aside className="sidebar">
            <SessionList activePeer={activePeer} />
          </aside>
          <main className="main">
            <Screen route={route} />
          </main>
        </div>
      </div>
    </Ctx.Provider>
  );
}

function Screen({ route }: { route: ReturnType<typeof parseRoute> }) {
  switch (route.name) {
    case "chat":
      return route.param ? <ChatView key={route.param} peerId={route.param} /> : <Welcome />;
    case "friends":
      return <FriendsScreen />;
    case "requests":
      return <RequestsScreen />;
    case "groups/new":
      return <NewGroupScreen />;
    case "groups/join":
      return <JoinGroupScreen />;
    case "search":
      return <SearchScreen />;
    default:
      return <Welcome />;
  }
}

function Welcome() {
  const { me } = useConsole();
  return (
    <section className="panel welcome" data-testid="welcome">
      <h2>Hello, {me.nickname}</h2>
      <p>Pick a conversation on the left, add friends, or start a group.</p>
      <p>
        Your user id is <code>{me.uuid}</code>: others need it to send you a friend request.
      </p>
    </section>
  );
}

function Header() {
  const { me, live, logout } = useConsole();
  const pending = usePending();
  const count = pending.data?.length ?? 0;
  const path = usePath();
  const tab = (to: string, label: string, testId: string, extra?: ReactNode) => (
    <Link to={to} className={path === to ? "tab active" : "tab"} data-testid={testId}>
      {label}
      {extra}
    </Link>
  );
  return (
    <header className="header">
      <div className="brand">OmniLink console</div>
      <nav className="tabs">
        {tab("/", "Chats", "nav-chats")}
        {tab("/friends", "Friends", "nav-friends")}
        {tab(
          "/requests",
          "Requests",
          "nav-requests",
          count > 0 ? (
            <span className="badge" data-testid="pending-count">
              {count}
            </span>
          ) : null,
        )}
        {tab("/groups/new", "New group", "nav-new-group")}
        {tab("/groups/join", "Join group", "nav-join-group")}
        {tab("/search", "Search", "nav-search")}
      </nav>
      <div className="me">
        <span className={`live live-${live.status}`} data-testid="live-status" data-status={live.status} title={live.detail ?? ""}>
          {live.status}
        </span>
        <span data-testid="me-name">{me.nickname}</span>
        <code data-testid="my-id">{me.uuid}</code>
        <button type="button" data-testid="logout" onClick={logout}>
          Log out
        </button>
      </div>
    </header>
  );
}

