import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** 62 * 4 = 248: bytes at or above it are rejected so every character is equally likely. */
const LIMIT = 248;

export type IdPrefix = "U" | "G" | "S" | "M" | "A";

/** A public id: the prefix and 11 base62 characters drawn from the CSPRNG (12 characters in all). */
export function newId(prefix: IdPrefix): string {
  let out = prefix;
  while (out.length < 12) {
    for (const byte of randomBytes(16)) {
      if (byte < LIMIT) out += ALPHABET[byte % 62];
      if (out.length === 12) break;
    }
  }
  return out;
}

/** The legacy routing rule: an id starting with G is a group, anything else a user. */
export const isGroupId = (id: string): boolean => id.startsWith("G");

/** The conversation of two users: the same id whoever asks. */
export function privateConversationId(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}
