import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorText, useTRPC, type Outputs } from "../../trpc";
import type { StoredAuth } from "./storage";

type Session = Outputs["auth"]["login"];

/** Register or log in; the token stays in this tab only. */
export function AuthScreen({ onSignedIn }: { onSignedIn: (auth: StoredAuth) => void }) {
  const trpc = useTRPC();
  const [mode, setMode] = useState<"login" | "register">("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [nickname, setNickname] = useState("");
  const signedIn = ({ token, user }: Session) => onSignedIn({ token, user: { uuid: user.uuid, username: user.username, nickname: user.nickname } });
  const login = useMutation(trpc.auth.login.mutationOptions({ onSuccess: signedIn }));
  const register = useMutation(trpc.auth.register.mutationOptions({ onSuccess: signedIn }));
  const current = mode === "login" ? login : register;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mode === "register") register.mutate({ username, password, nickname: nickname || username });
    else login.mutate({ username, password });
  };

  return (
    <div className="auth">
      <form className="panel auth-form" onSubmit={submit} data-testid="auth-form" data-mode={mode}>
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
        {current.error && (
          <p className="error" role="alert" data-testid="auth-error">
            {errorText(current.error)}
          </p>
        )}
        <button type="submit" className="primary" data-testid="auth-submit" disabled={login.isPending || register.isPending}>
          {mode === "register" ? "Create account" : "Log in"}
        </button>
      </form>
    </div>
  );
}
