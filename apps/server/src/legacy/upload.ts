import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import multipart, { type MultipartFile } from "@fastify/multipart";
import fastifyStatic from "@fastify/static";
import { AppError } from "@omnilink/domain";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { HttpLimiters } from "../limits.js";
import { BindError, replyFailure, success } from "./envelope.js";
import type { Caller } from "./route.js";

export interface UploadOptions {
  /** Folder of the stored files (<dataDir>/uploads); created if missing. Nothing else is ever served. */
  dir: string;
  /** Largest accepted file, in bytes. */
  maxBytes: number;
  /** The per-user upload quota (files and bytes per window). */
  limiters: HttpLimiters;
}

export const DEFAULT_UPLOAD_MAX_BYTES = 20 * 1024 * 1024;
/** Where uploads are served; the URL the upload answers is root-relative (the client prefixes its backend URL). */
const STATIC_FILES_PREFIX = "/static/files/";

/** Stored names: 32 hex characters of randomness and an optional sanitised extension. Nothing else is served. */
const STORED_NAME = /^[0-9a-f]{32}(\.[a-z0-9]{1,10})?$/;
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/** The extension of the client's name, if it is short and plain (letters and digits); else none. */
export function safeExtension(clientName: string): string {
  const base = clientName.split(/[\\/]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return "";
  const ext = base.slice(dot + 1).toLowerCase();
  return /^[a-z0-9]{1,10}$/.test(ext) ? `.${ext}` : "";
}

/** The client's file name as shown in the chat: its last path segment, without control characters, at most 255 characters. */
export function displayName(clientName: string, fallback: string): string {
  const segment = clientName.split(/[\\/]/).pop() ?? "";
  // Control characters (C0 and DEL) are dropped: they have no business in a name shown in a chat.
  const base = [...segment].filter((c) => c.charCodeAt(0) > 0x1f && c.charCodeAt(0) !== 0x7f).join("").trim();
  return [...(base || fallback)].slice(0, 255).join("");
}

interface StoredFile {
  url: string;
  file_name: string;
  /** Bytes. */
  file_size: number;
  /** The MIME type the browser declared (if it looks like one), else application/octet-stream. */
  file_type: string;
}

async function store(part: MultipartFile, dir: string): Promise<StoredFile> {
  const id = randomBytes(16).toString("hex");
  const name = `${id}${safeExtension(part.filename)}`;
  // Written under a dot name (never served), then renamed: a half-written file is never visible.
  const partial = join(dir, `.partial-${id}`);
  const out = createWriteStream(partial, { flags: "wx", mode: 0o640 });
  try {
    await pipeline(part.file, out);
    // Over the limit, the stream just ends early (the parser reports it on the next part).
    if (part.file.truncated) throw Object.assign(new Error("file over the size limit"), { code: "FST_REQ_FILE_TOO_LARGE" });
    await rename(partial, join(dir, name));
  } catch (error) {
    await unlink(partial).catch(() => {});
    throw error;
  }
  const declared = part.mimetype.toLowerCase();
  return {
    url: `${STATIC_FILES_PREFIX}${name}`,
    file_name: displayName(part.filename, `file${safeExtension(part.filename)}`),
    file_size: out.bytesWritten,
    file_type: declared.length <= 255 && MIME.test(declared) ? declared : "application/octet-stream",
  };
}

/**
 * Multipart failures in legacy terms: a file over the limit is a business error; a failure of the
 * server's own storage (a system call: disk full, permissions) stays an internal error; anything
 * else is the request's fault (a body cut short, a malformed part, a missing boundary, a client
 * gone mid-upload) and is 400 参数错误.
 */
function uploadError(error: unknown, maxBytes: number): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "FST_REQ_FILE_TOO_LARGE") {
    const limit = maxBytes >= 1024 * 1024 ? `${Math.floor(maxBytes / (1024 * 1024))} MB` : `${Math.max(1, Math.floor(maxBytes / 1024))} KB`;
    return new AppError("PAYLOAD_TOO_LARGE", `文件过大（最多 ${limit}）`);
  }
  const storage = typeof (error as { syscall?: unknown } | null)?.syscall === "string";
  return storage ? error : new BindError();
}

/**
 * Reads the parts in order and stores the first file part named `file` (the client sends exactly
 * one); other file parts are drained and dropped. No such part: 400 参数错误.
 */
async function receive(request: FastifyRequest, options: UploadOptions): Promise<StoredFile> {
  if (!request.isMultipart()) throw new BindError();
  let stored: StoredFile | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type !== "file") continue;
      if (stored || part.fieldname !== "file") {
        part.file.resume();
        continue;
      }
      stored = await store(part, options.dir);
    }
  } catch (error) {
    // A later part may still fail the request (e.g. the parser's limits): keep nothing then.
    if (stored) await unlink(join(options.dir, stored.url.slice(STATIC_FILES_PREFIX.length))).catch(() => {});
    throw uploadError(error, options.maxBytes);
  }
  if (!stored) throw new BindError();
  return stored;
}

/**
 * POST /message/uploadFile (legacy-contract §2.25, D9) and GET /static/files/<name>, in a scope of their own so
 * the multipart parser and the static handler touch nothing else. `authenticate` is the legacy
 * JWT check (run before the body is read).
 */
export async function registerUploads(
  app: FastifyInstance,
  options: UploadOptions,
  authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
  callerOf: (request: FastifyRequest) => Caller | undefined,
): Promise<void> {
  mkdirSync(options.dir, { recursive: true, mode: 0o750 });
  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: options.maxBytes, files: 4, fields: 20, fieldSize: 64 * 1024, parts: 24, headerPairs: 200 },
    });
    scope.post("/message/uploadFile", { onRequest: authenticate }, async (request, reply) => {
      try {
        const caller = callerOf(request);
        if (!caller) throw new Error("upload reached without a caller");
        // Checked before the body is read. The reservation is the declared length (at most one
        // file's limit), so uploads sent in parallel cannot all pass a quota only one of them fits.
        const declared = Number(request.headers["content-length"]);
        const reserved = Number.isSafeInteger(declared) && declared > 0 ? Math.min(declared, options.maxBytes) : options.maxBytes;
        let settle: (stored: number) => Promise<void>;
        try {
          settle = await options.limiters.reserveUpload(request, caller.uuid, reserved);
        } catch (error) {
          // The body is left unread: close the connection rather than wait for (and drop) all of it.
          reply.header("connection", "close");
          throw error;
        }
        let stored: StoredFile | undefined;
        try {
          stored = await receive(request, options);
        } finally {
          await settle(stored?.file_size ?? 0);
        }
        return success(stored);
      } catch (error) {
        return replyFailure(request, reply, error);
      }
    });
    await scope.register(fastifyStatic, {
      root: options.dir,
      prefix: STATIC_FILES_PREFIX,
      decorateReply: false,
      index: false,
      list: false,
      dotfiles: "ignore",
      serveDotFiles: false,
      redirect: false,
      // Only names this module generates, at the top of the folder: no dot files, no sub-paths, no traversal.
      allowedPath: (pathName) => STORED_NAME.test(pathName.replace(/^\//, "")),
      setHeaders: (reply) => {
        // The content type comes from the stored extension; never let a browser sniff another,
        // and never run what an upload contains (an HTML or SVG file opened directly).
        reply.header("X-Content-Type-Options", "nosniff");
        reply.header("Content-Security-Policy", "default-src 'none'; sandbox");
      },
    });
  });
}
