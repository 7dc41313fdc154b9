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
}

/** HS256 tokens with the legacy claims: uuid, username, iss, exp, nbf, iat (no sub, no jti). */
export function createTokenService(config: TokenConfig): TokenService {
  const key = new TextEncoder().encode(config.secret);
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
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ["HS256", "HS384", "HS512"],
          issuer: config.issuer,
          requiredClaims: ["exp"],
        });
        if (typeof payload.uuid !== "string" || !payload.uuid || typeof payload.username !== "string") {
          throw unauthorized();
        }
        return { uuid: payload.uuid, username: payload.username };
      } catch (error) {
        if (error instanceof errors.JOSEError || error instanceof TypeError) throw unauthorized();
        throw error;
      }
    },
  };
}
