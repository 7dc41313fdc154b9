import { errors, jwtVerify, SignJWT } from "jose";
import { unauthorized } from "../errors.js";

export interface TokenConfig {
  secret: string;
  issuer: string;
  /** Lifetime in hours; the legacy default is 24. */
  expireHours: number;
}

export interface Identity {
  uuid: string;
  username: string;
}

export interface TokenService {
  sign(identity: Identity): Promise<string>;
  /** The identity in a valid token; throws UNAUTHORIZED for anything else. */
  verify(token: string): Promise<Identity>;
  /** `verify`, and when the token expires (ms since the epoch): a socket outlives its handshake. */
  verifyUntil(token: string): Promise<{ identity: Identity; expiresAt: number }>;
}

/** setTimeout's longest wait (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `onExpired` once `expiresAt` (ms since the epoch) has passed, in steps for an expiry
 * further off than one timer can wait. Returns the cancel function.
 */
export function whenExpired(expiresAt: number, onExpired: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = expiresAt - Date.now();
    timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(onExpired, Math.max(0, left));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

/** HS256 tokens with the legacy claims: uuid, username, iss, exp, nbf, iat (no sub, no jti). */
export function createTokenService(config: TokenConfig): TokenService {
  const key = new TextEncoder().encode(config.secret);
  const verifyUntil: TokenService["verifyUntil"] = async (token) => {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ["HS256", "HS384", "HS512"],
        issuer: config.issuer,
        requiredClaims: ["exp"],
      });
      if (typeof payload.uuid !== "string" || !payload.uuid || typeof payload.username !== "string") {
        throw unauthorized();
      }
      // requiredClaims guarantees a numeric exp.
      return { identity: { uuid: payload.uuid, username: payload.username }, expiresAt: (payload.exp as number) * 1000 };
    } catch (error) {
      if (error instanceof errors.JOSEError || error instanceof TypeError) throw unauthorized();
      throw error;
    }
  };
  return {
    async sign({ uuid, username }) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ uuid, username })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setIssuer(config.issuer)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + Math.round(config.expireHours * 3600))
        .sign(key);
    },
    verify: async (token) => (await verifyUntil(token)).identity,
    verifyUntil,
  };
}
