import type { Db } from "@omnilink/db";
import type { ScryptCost } from "./auth/password.js";
import type { TokenService } from "./auth/tokens.js";

/** Everything a domain function needs, built once at start-up and passed in (no singletons). */
export interface DomainContext {
  db: Db;
  tokens: TokenService;
  /** Password hashing cost; tests may pass a cheaper one. */
  scryptCost?: ScryptCost;
}
