import { useState, type FormEvent } from "react";
import { createHttpApi, errorText } from "../api";
import type { StoredAuth } from "../auth";

const publicApi = createHttpApi(null);

/** Register or log in; the token stays in this tab only. */
export function AuthScreen({ onSignedIn }: { onSignedIn: (auth: StoredAuth) => void }) {
  const [mode, setMode] = useState<"login" | "register">("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [nickname, setNickname] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session =
        mode === "register"
          ? await publicApi.auth.register.mutate({ username, password, nickname: nickname || username })
          : await publicApi.auth.login.mutate({ username, password });
      const { uuid, username: name, nickname: nick } = session.user;
      onSignedIn({ token: session.token, user: { uuid, username: name, nickname: nick } });
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="auth">
      <form className="panel auth-form" onSubmit={(e) => void submit(e)} data-testid="auth-form" data-mode={mode}>
        <h1>OmniLink console</h1>
        <div className="auth-modes">
          <button type="button" className={mode === "login" ? "active" : ""} data-testid="auth-mode-login" onClick={() => setMode("login")}>
            Log in
          </button>
          <button type="button" className={mode === "register" ? "active" : ""} data-testid="auth-mode-register" onClick={() => setMode("register")}>
            Register
          </button>
        </div>
        <label>
          Username
          <input data-testid="auth-username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          Password
          <input
            data-testid="auth-password"
            type="password"
            autoComplete={mode === "login" ? "current-password" : "new-password"}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {mode === "register" && (
          <label>
            Nickname
            <input data-testid="auth-nickname" value={nickname} onChange={(e) => setNickname(e.target.value)} placeholder="defaults to the username" />
          </label>
        )}
        {error && (
          <p className="error" role="alert" data-testid="auth-error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" data-testid="auth-submit" disabled={busy}>
          {mode === "register" ? "Create account" : "Log in"}
        </button>
      </form>
    </div>
  );
}
