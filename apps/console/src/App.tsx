import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { AuthScreen } from "./features/auth/AuthScreen";
import { MeContext, useMe, type Me } from "./features/auth/me";
import { loadAuth, saveAuth, type StoredAuth } from "./features/auth/storage";
import { ChatView } from "./features/chat/ChatView";
import { FriendsScreen } from "./features/contacts/FriendsScreen";
import { usePending } from "./features/contacts/queries";
import { RequestsScreen } from "./features/contacts/RequestsScreen";
import { JoinGroupScreen } from "./features/groups/JoinGroupScreen";
import { NewGroupScreen } from "./features/groups/NewGroupScreen";
import { LiveProvider, useLiveStatus } from "./features/live/live";
import { SearchScreen } from "./features/search/SearchBox";
import { SessionList } from "./features/sessions/SessionList";
import { Link, navigate, parseRoute, usePath } from "./router";
import { createConnection, isUnauthorized, TRPCProvider, type Connection } from "./trpc";

export function App() {
  const [auth, setAuth] = useState<StoredAuth | null>(loadAuth);
  const signIn = useCallback((next: StoredAuth) => {
    saveAuth(next);
    setAuth(next);
    navigate("/", { replace: true });
  }, []);
  const signOut = useCallback(() => {
    saveAuth(null);
    setAuth(null);
    navigate("/", { replace: true });
  }, []);
  // A fresh client, socket and cache per token.
  return (
    <Session key={auth?.token ?? ""} token={auth?.token ?? null} onUnauthorized={signOut}>
      {(connection) => (auth ? <ConsoleShell user={auth.user} connection={connection} onLogout={signOut} /> : <AuthScreen onSignedIn={signIn} />)}
    </Session>
  );
}

/** One tRPC client (trpc.ts) and one query cache for one token; the socket closes with it. */
function Session({ token, onUnauthorized, children }: { token: string | null; onUnauthorized: () => void; children: (connection: Connection) => ReactNode }) {
  const [connection] = useState(() => createConnection(token));
  const [queryClient] = useState(
    () =>
      new QueryClient({
        // A token the server no longer accepts (expired, or a new data folder): back to log in.
        queryCache: new QueryCache({ onError: (error) => isUnauthorized(error) && onUnauthorized() }),
        mutationCache: new MutationCache({ onError: (error) => isUnauthorized(error) && onUnauthorized() }),
        defaultOptions: { queries: { retry: (count, error) => !isUnauthorized(error) && count < 1, refetchOnWindowFocus: false, staleTime: 1_000 } },
      }),
  );
  useEffect(() => () => void connection.closeSocket(), [connection]);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={connection.client} queryClient={queryClient}>
        {children(connection)}
      </TRPCProvider>
    </QueryClientProvider>
  );
}

function ConsoleShell({ user, connection, onLogout }: { user: StoredAuth["user"]; connection: Connection; onLogout: () => void }) {
  const me = useMemo<Me>(() => ({ user, logout: onLogout }), [user, onLogout]);
  const route = parseRoute(usePath());
  const activePeer = route.name === "chat" ? route.param : null;
  return (
    <MeContext.Provider value={me}>
      <LiveProvider closeSocket={connection.closeSocket}>
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
      </LiveProvider>
    </MeContext.Provider>
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
  const { user } = useMe();
  return (
    <section className="panel welcome" data-testid="welcome">
      <h2>Hello, {user.nickname}</h2>
      <p>Pick a conversation on the left, add friends, or start a group.</p>
      <p>
        Your user id is <code>{user.uuid}</code>: others need it to send you a friend request.
      </p>
    </section>
  );
}

function Header() {
  const { user, logout } = useMe();
  const live = useLiveStatus();
  const count = usePending().data?.length ?? 0;
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
        <span data-testid="me-name">{user.nickname}</span>
        <code data-testid="my-id">{user.uuid}</code>
        <button type="button" data-testid="logout" onClick={logout}>
          Log out
        </button>
      </div>
    </header>
  );
}
