import { z } from "zod";
import { BAD_PARAMS_MESSAGE } from "./errors.js";

/**
 * Text the database stores as it is given: PostgreSQL `text`/`varchar` refuse NUL, and a lone
 * UTF-16 surrogate has no UTF-8 form (it would be stored as U+FFFD, or refused inside JSON). Such
 * strings are refused at the boundary (400 参数错误), never repaired silently.
 */
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isStorableText = (value: string): boolean => !UNSTORABLE.test(value);

/** A string the database can store, at most `max` UTF-16 units (never more characters than a varchar(max) takes). */
export const storableText = (max?: number) => {
  const base = max === undefined ? z.string() : z.string().max(max, BAD_PARAMS_MESSAGE);
  return base.refine(isStorableText, BAD_PARAMS_MESSAGE);
};

/** A public id (user, group, session, message): printable ASCII, no spaces, at most 20 characters. */
export const publicIdText = () =>
  z.string().trim().min(1, BAD_PARAMS_MESSAGE).max(20, BAD_PARAMS_MESSAGE).regex(/^[\x21-\x7e]+$/, BAD_PARAMS_MESSAGE);
