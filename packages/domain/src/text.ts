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

/** Longest public id: the width of every id column (ids we make have 12 characters; older data up to 20). */
export const PUBLIC_ID_MAX = 20;
/** Most ids one request may list (members to add or remove): keeps every statement far below PostgreSQL's 65,535 parameters. */
export const MAX_LISTED_IDS = 5000;
/** Longest message text in UTF-16 units, past any body the server accepts; Limits.maxMessageBytes is the real bound. */
export const MAX_CONTENT_UNITS = 1024 * 1024;

export interface TextRule {
  /** Trim before the length checks (the stored value is the trimmed one). */
  trim?: boolean;
  /** Fewest UTF-16 units (after trimming); 0 by default. */
  min?: number;
  /** Messages for too short / too long; 参数错误 by default. */
  tooShort?: string;
  tooLong?: string;
}

/**
 * A string the database can store, at most `max` UTF-16 units (never more characters than a
 * varchar(max) takes). Every free-text input field is one of these.
 */
export function storableText(max: number, rule: TextRule = {}) {
  let text = z.string();
  if (rule.trim) text = text.trim();
  if (rule.min) text = text.min(rule.min, rule.tooShort ?? BAD_PARAMS_MESSAGE);
  return text.max(max, rule.tooLong ?? BAD_PARAMS_MESSAGE).refine(isStorableText, BAD_PARAMS_MESSAGE);
}

const PUBLIC_ID = /^[\x21-\x7e]+$/;

/**
 * A public id (user, group, session, message, apply): printable ASCII, no spaces, 1 to 20
 * characters after trimming. `empty` is the message for an empty one (参数错误 by default).
 */
export const publicIdText = (empty: string = BAD_PARAMS_MESSAGE) =>
  z.string().trim().min(1, empty).max(PUBLIC_ID_MAX, BAD_PARAMS_MESSAGE).regex(PUBLIC_ID, BAD_PARAMS_MESSAGE);

/** A public id or the empty string ("not given"; lists may carry empties, which the legacy server dropped). */
export const optionalIdText = () => z.string().trim().max(PUBLIC_ID_MAX, BAD_PARAMS_MESSAGE).regex(/^[\x21-\x7e]*$/, BAD_PARAMS_MESSAGE);

/** A list of ids (possibly with empties), at most MAX_LISTED_IDS long. */
export const idList = () => z.array(optionalIdText()).max(MAX_LISTED_IDS, BAD_PARAMS_MESSAGE);
