import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

/** A very small router over the History API: the server answers index.html for these paths. */
const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
  };
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === location.pathname) return;
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  for (const listener of listeners) listener();
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => location.pathname);
}

export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}

/** `/chat/G123` → { name: "chat", param: "G123" }. */
export function parseRoute(path: string): { name: string; param: string | null } {
  const [, first = "", second] = path.split("/");
  if (first === "groups" && second) return { name: `groups/${second}`, param: null };
  return { name: first, param: second ? decodeURIComponent(second) : null };
}
