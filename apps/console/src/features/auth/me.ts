import { createContext, useContext } from "react";
import type { StoredAuth } from "./storage";

export interface Me {
  user: StoredAuth["user"];
  logout: () => void;
}

export const MeContext = createContext<Me | null>(null);

/** The signed-in user, and how to sign out. */
export function useMe(): Me {
  const value = useContext(MeContext);
  if (!value) throw new Error("useMe outside a signed-in console");
  return value;
}
