import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { connect as netConnect } from "node:net";
import { appRouter } from "@omnilink/api";
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { handshakeStatus } from "./wss-client.js";
import { legacyRoutes } from "../src/legacy/routes.js";
import { clientFrame } from "../src/wss/client-frame.js";
import { registerUser, useTestServer, type LegacyUser as User } from "./helpers.js";

/*
 * Hostile input at every boundary: every legacy POST route (from the route table), every tRPC
 * procedure (from the router) and the /wss frame, each field in turn given every value of a fixed
 * corpus while the other fields hold valid values, plus hostile whole bodies. Called as the owner
 * of a group with a friend and anonymously. Nothing may answer as a server failure (HTTP 5xx,
 * legacy code 500, tRPC INTERNAL_SERVER_ERROR, a /wss error frame with code 500), and the server
 * must still be healthy afterwards. Deterministic: the corpus and the order are fixed.
 */

// Cheap password hashing: the corpus reaches register and login many times, and hashing is not what is tested here.
const server = useTestServer({ logLevel: "fatal", scryptCost: { N: 1024, r: 8, p: 1 } });
/** Each walk takes seconds; on a busy machine many more. */
const WALK_TIMEOUT_MS = 180_000;

/** JSON text of a value (so raw fragments such as deep nesting or a `__proto__` key survive). */
type Raw = string;
const json = (value: unknown): Raw => JSON.stringify(value);

const DEPTH = 10_000;
const DEEP_LIST = "[".repeat(DEPTH) + "]".repeat(DEPTH);
const DEEP_OBJECT = '{"a":'.repeat(DEPTH) + "1" + "}".repeat(DEPTH);

type Kind = "string" | "number" | "list" | "other";
/**
 * Values put into one field at a time, as JSON text (so the escapes \u0000 and \ud800 reach the
 * server as sent). Every field gets the wrong types and the deep values; the edge values of a type
 * go where the field's valid value has that type (a 1 MB string in a number field would only be
 * one more wrong type, and the large values cost most of the run).
 */
const CORPUS: ReadonlyArray<readonly [label: string, raw: Raw, kind: Kind | "any"]> = [
  // Wrong types and nesting, everywhere.
  ["a number", "12345", "any"],
  ["a numeric string", json("12345"), "any"],
  ["true", "true", "any"],
  ["null", "null", "any"],
  ["an object", json({ a: "b" }), "any"],
  ["a __proto__ object", '{"__proto__":{"polluted":true}}', "any"],
  ["a constructor object", '{"constructor":{"prototype":{"polluted":true}}}', "any"],
  ["an empty list", "[]", "any"],
  ["deep list", DEEP_LIST, "any"],
  ["deep object", DEEP_OBJECT, "any"],
  // Strings.
  ["empty string", json(""), "string"],
  ["blank", json("   "), "string"],
  ["NUL inside", json("a\u0000b"), "string"],
  ["NUL only", json("\u0000"), "string"],
  ["lone high surrogate", json("\ud800"), "string"],
  ["lone low surrogate", json("x\udc00y"), "string"],
  ["reversed surrogate pair", json("\udc00\ud800"), "string"],
  ["300 characters", json("x".repeat(300)), "string"],
  ["1 MB string", json("x".repeat(1_000_000)), "string"],
  ["SQL text", json("' OR '1'='1"), "string"],
  ["digits past bigint", json("99999999999999999999999"), "string"],
  ["__proto__ string", json("__proto__"), "string"],
  ["constructor string", json("constructor"), "string"],
  // Numbers.
  ["negative", "-1", "number"],
  ["fraction", "1.5", "number"],
  ["past int32", "2147483648", "number"],
  ["past safe integer", "9007199254740993", "number"],
  ["1e308", "1e308", "number"],
  // Lists.
  ["list with NUL", json(["\u0000"]), "list"],
  ["list with an empty string", json([""]), "list"],
  ["list of numbers", "[1,2]", "list"],
  ["list of nulls", "[null]", "list"],
  ["70,000 items", json(Array.from({ length: 70_000 }, (_, i) => `x${i}`)), "list"],
];

const kindOf = (value: unknown): Kind =>
  Array.isArray(value) ? "list" : typeof value === "string" ? "string" : typeof value === "number" ? "number" : "other";

/** Whole bodies (or inputs) that replace the object altogether. */
const BODIES: ReadonlyArray<readonly [string, Raw]> = [
  ["null body", "null"],
  ["list body", "[]"],
  ["number body", "1"],
  ["string body", json("x")],
  ["NUL body", json("\u0000")],
  ["deep list body", DEEP_LIST],
  ["deep object body", DEEP_OBJECT],
  ["__proto__ body", '{"__proto__":{"polluted":true}}'],
  ["constructor body", '{"constructor":{"prototype":{"polluted":true}}}'],
  ["NUL key", '{"\\u0000":1}'],
];

interface Case {
  label: string;
  /** The body or input as JSON text; undefined: none at all. */
  raw: Raw | undefined;
}

/** Every case for an object with `fields`: each field × its part of CORPUS, each field left out, extra keys, whole bodies. */
function cases(fields: readonly string[], base: Record<string, unknown>): Case[] {
  const object = (entries: ReadonlyArray<readonly [string, Raw]>): Raw => `{${entries.map(([k, v]) => `${json(k)}:${v}`).join(",")}}`;
  const valid = fields.map((f) => [f, json(base[f])] as const);
  const out: Case[] = [{ label: "valid", raw: object(valid) }];
  for (const field of fields) {
    const kind = kindOf(base[field]);
    const values = CORPUS.filter(([, , k]) => k === "any" || k === kind);
    for (const [label, value] of values) out.push({ label: `${field}=${label}`, raw: object(valid.map(([k, v]) => [k, k === field ? value : v])) });
    out.push({ label: `${field} missing`, raw: object(valid.filter(([k]) => k !== field)) });
  }
  out.push({ label: "extra __proto__ key", raw: object([...valid, ["__proto__", json({ polluted: true })]]) });
  out.push({ label: "extra constructor key", raw: object([...valid, ["constructor", json({ prototype: { polluted: true } })]]) });
  for (const [label, raw] of BODIES) out.push({ label, raw });
  out.push({ label: "no body", raw: undefined });
  return out;
}

/**
 * Without a token the refusal comes before the input is read, so the corpus goes into one field
 * (the first) and the whole bodies are tried; the full cross product adds nothing there.
 */
function anonymousCases(fields: readonly string[], base: Record<string, unknown>): Case[] {
  const first = fields[0];
  return cases(fields, base).filter((c) => !c.label.includes("=") || (first !== undefined && c.label.startsWith(`${first}=`)));
}

/** The keys of a zod object schema, through optional/default/pipe wrappers (zod 4 internals). */
function objectKeys(schema: unknown): string[] {
  type Def = { type: string; shape?: Record<string, unknown>; innerType?: unknown; in?: unknown };
  let current = schema as { _zod?: { def: Def } } | undefined;
  for (let depth = 0; depth < 8 && current?._zod; depth++) {
    const def = current._zod.def;
    if (def.type === "object") return Object.keys(def.shape ?? {});
    current = (def.innerType ?? def.in) as typeof current;
  }
  return [];
}

interface Fixture {
  owner: User;
  friend: User;
  stranger: User;
  groupId: string;
  /** The stranger's pending request to join `groupId`. */
  applyId: string;
  /** The owner's private session with the friend. */
  sessionId: string;
}

/** A valid value for every field a route or procedure takes: a new field without one fails the test (add it here). */
function legacyBase(f: Fixture): Record<string, unknown> {
  return {
    owner_id: f.owner.uuid,
    send_id: f.owner.uuid,
    user_one_id: f.owner.uuid,
    user_two_id: f.friend.uuid,
    receive_id: f.friend.uuid,
    contact_id: f.friend.uuid,
    contact_type: 0,
    uuid: f.friend.uuid,
    group_id: f.groupId,
    apply_id: f.applyId,
    session_id: f.sessionId,
    member_ids: [f.friend.uuid],
    name: "fuzz",
    notice: "notice",
    message: "hello",
    page: 1,
    page_size: 20,
    username: f.owner.username,
    password: "secret123",
    nickname: "fuzz",
  };
}

function trpcBase(f: Fixture): Record<string, unknown> {
  return {
    groupId: f.groupId,
    peerId: f.friend.uuid,
    contactId: f.friend.uuid,
    targetId: f.friend.uuid,
    friendId: f.friend.uuid,
    userId: f.friend.uuid,
    newOwnerId: f.friend.uuid,
    applyId: f.applyId,
    sessionId: f.sessionId,
    memberIds: [f.friend.uuid],
    name: "fuzz",
    notice: "notice",
    avatar: "https://example.invalid/a.png",
    addMode: 0,
    message: "hello",
    muted: true,
    typing: true,
    admin: true,
    receiveId: f.groupId,
    type: 0,
    content: "hello",
    url: "",
    fileType: "",
    fileName: "",
    fileSize: "",
    mentionedUserIds: [f.friend.uuid],
    mentionAll: false,
    clientMsgId: "fuzz-1",
    kind: "all",
    seq: 1,
    beforeSeq: 10,
    cursor: 10,
    afterSeq: 0,
    limit: 10,
    page: 1,
    pageSize: 20,
    lastEventId: "0",
    messageId: "Mfuzz0000000",
    seqs: [1],
    query: "hello",
    beforeId: 1000,
    username: f.owner.username,
    password: "secret123",
    nickname: "fuzz",
  };
}

function missingBases(fields: readonly string[], base: Record<string, unknown>): string[] {
  return fields.filter((f) => !(f in base));
}

interface Failure {
  where: string;
  label: string;
  got: string;
}

function summary(failures: readonly Failure[], total: number): string {
  const lines = failures.slice(0, 200).map((f) => `  ${f.where} [${f.label}] → ${f.got}`);
  const byWhere = new Map<string, number>();
  for (const f of failures) byWhere.set(f.where, (byWhere.get(f.where) ?? 0) + 1);
  return `${failures.length} of ${total} cases failed\n${lines.join("\n")}\nper target: ${JSON.stringify(Object.fromEntries(byWhere))}`;
}

const excerpt = (text: string) => (text.length > 160 ? `${text.slice(0, 160)}…` : text);

/** One kept-alive connection: fetch's per-request cost was a large part of the run. */
const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });

/** An HTTP request to the test server, answered with its status and body text. */
function send(method: "GET" | "POST", path: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const { port } = new URL(server.url);
  const sized = body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: Number(port), path, method, agent, headers: sized }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

const bearer = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

function post(path: string, raw: Raw | undefined, token: string | undefined) {
  return send("POST", path, raw, { "content-type": "application/json", ...bearer(token) });
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/* ---------- fixtures, built through the legacy API ---------- */

let owner: User;
let friend: User;
let stranger: User;

async function legacyOk(path: string, body: unknown, as: User): Promise<Record<string, unknown> | undefined> {
  const res = await post(path, json(body), as.token);
  const envelope = parsed(res.text) as { code?: number; data?: Record<string, unknown> } | undefined;
  if (envelope?.code !== 200) throw new Error(`fixture ${path}: ${res.status} ${excerpt(res.text)}`);
  return envelope.data;
}

/** The owner and the friend are friends again (a case may have deleted or blocked the friend). */
async function ensureFriends(): Promise<void> {
  await post("/trpc/contacts.unblock", json({ json: { targetId: friend.uuid } }), owner.token);
  const friends = await post("/contact/getUserList", "{}", owner.token);
  const list = (parsed(friends.text) as { data?: Array<{ user_id: string }> }).data ?? [];
  if (list.some((f) => f.user_id === friend.uuid)) return;
  const applied = await legacyOk("/contact/applyContact", { contact_id: owner.uuid, message: "" }, friend);
  await legacyOk("/contact/passContactApply", { apply_id: applied?.apply_id }, owner);
}

/** A fresh group (owner, friend), a pending join request for it and the owner's session with the friend. */
async function fixture(): Promise<Fixture> {
  await ensureFriends();
  const group = await legacyOk("/group/createGroup", { name: "fuzz", notice: "", member_ids: [friend.uuid] }, owner);
  const groupId = String(group?.uuid);
  const applied = await legacyOk("/contact/applyContact", { contact_id: groupId, message: "let me in" }, stranger);
  const session = await legacyOk("/session/openSession", { receive_id: friend.uuid }, owner);
  return { owner, friend, stranger, groupId, applyId: String(applied?.apply_id), sessionId: String(session?.session_id) };
}

beforeAll(async () => {
  owner = await registerUser(server.url, "fzowner");
  friend = await registerUser(server.url, "fzfriend");
  stranger = await registerUser(server.url, "fzstranger");
  const applied = await legacyOk("/contact/applyContact", { contact_id: friend.uuid, message: "" }, owner);
  await legacyOk("/contact/passContactApply", { apply_id: applied?.apply_id }, friend);
});

/* ---------- legacy REST ---------- */

const legacyPosts = legacyRoutes.filter((r) => r.method === "POST");

function checkLegacy(where: string, label: string, res: { status: number; text: string }, failures: Failure[], expectStatus?: number) {
  const envelope = parsed(res.text) as { code?: unknown } | undefined;
  if (res.status >= 500 || envelope?.code === 500) failures.push({ where, label, got: `${res.status} ${excerpt(res.text)}` });
  else if (expectStatus !== undefined && res.status !== expectStatus) failures.push({ where, label, got: `expected ${expectStatus}, got ${res.status} ${excerpt(res.text)}` });
}

/* ---------- tRPC ---------- */

type ProcedureType = "query" | "mutation" | "subscription";
interface ProcedureInfo {
  path: string;
  type: ProcedureType;
  protected: boolean;
  fields: string[];
  hasInput: boolean;
}

const PUBLIC_PROCEDURES = new Set(["auth.register", "auth.login"]);
const procedures: ProcedureInfo[] = Object.entries((appRouter._def as unknown as { procedures: Record<string, { _def: { type: ProcedureType; inputs: unknown[] } }> }).procedures).map(
  ([path, p]) => ({
    path,
    type: p._def.type,
    protected: !PUBLIC_PROCEDURES.has(path),
    fields: p._def.inputs.flatMap(objectKeys),
    hasInput: p._def.inputs.length > 0,
  }),
);

interface TrpcOutcome {
  /** HTTP status, or 0 over WebSocket. */
  status: number;
  /** The error's tRPC code (data.code), if it failed. */
  code: string | undefined;
  text: string;
}

function trpcCode(body: unknown): string | undefined {
  const error = (body as { error?: { json?: { data?: { code?: unknown } } } } | undefined)?.error;
  if (!error) return undefined;
  const code = error.json?.data?.code;
  return typeof code === "string" ? code : "UNKNOWN_ERROR_SHAPE";
}

/** A raw tRPC WebSocket client: every call answered by id, a subscription stopped once it starts. */
class TrpcSocket {
  private ws: WebSocket | undefined;
  private nextId = 1;
  private waiting = new Map<number, (message: unknown) => void>();
  constructor(private readonly token: string | undefined) {}

  private async open(): Promise<WebSocket> {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return this.ws;
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/trpc${this.token ? "?connectionParams=1" : ""}`);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    if (this.token) ws.send(json({ method: "connectionParams", data: { token: this.token } }));
    ws.on("message", (data: Buffer) => {
      const message = parsed(data.toString()) as { id?: unknown } | undefined;
      const resolve = typeof message?.id === "number" ? this.waiting.get(message.id) : undefined;
      if (resolve) resolve(message);
    });
    ws.on("close", () => {
      for (const resolve of this.waiting.values()) resolve({ closed: true });
      this.waiting.clear();
    });
    this.ws = ws;
    return ws;
  }

  async call(type: ProcedureType, path: string, raw: Raw | undefined): Promise<TrpcOutcome> {
    const ws = await this.open();
    const id = this.nextId++;
    // No input is `{}` on the wire (superjson's form of undefined); without it the call has no id to answer.
    const params = `{"path":${json(path)},"input":${raw === undefined ? "{}" : `{"json":${raw}}`}}`;
    const answer = new Promise<unknown>((resolve) => {
      const timer = setTimeout(() => resolve({ timeout: true }), 10_000);
      this.waiting.set(id, (message) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(message);
      });
    });
    ws.send(`{"id":${id},"jsonrpc":"2.0","method":"${type}","params":${params}}`);
    const message = (await answer) as { result?: unknown; error?: unknown; timeout?: boolean; closed?: boolean };
    if (type === "subscription" && message.result !== undefined && ws.readyState === WebSocket.OPEN) ws.send(json({ id, jsonrpc: "2.0", method: "subscription.stop" }));
    if (message.timeout) return { status: 0, code: "TIMEOUT", text: "no answer within 10 s" };
    // A frame over the socket's payload limit closes it: a refusal, not a failure.
    if (message.closed) return { status: 0, code: undefined, text: "closed" };
    return { status: 0, code: trpcCode(message), text: excerpt(json(message)) };
  }

  close(): void {
    this.ws?.close();
  }
}

/** Queries over GET while the URL stays short, mutations over POST; longer queries and subscriptions over the socket. */
async function callProcedure(p: ProcedureInfo, raw: Raw | undefined, token: string | undefined, socket: TrpcSocket): Promise<TrpcOutcome> {
  const input = raw === undefined ? undefined : `{"json":${raw}}`;
  if (p.type === "mutation") {
    const res = await send("POST", `/trpc/${p.path}`, input, { "content-type": "application/json", ...bearer(token) });
    return { status: res.status, code: trpcCode(parsed(res.text)), text: excerpt(res.text) };
  }
  const path = `/trpc/${p.path}${input === undefined ? "" : `?input=${encodeURIComponent(input)}`}`;
  if (p.type === "query" && path.length <= 8000) {
    const res = await send("GET", path, undefined, bearer(token));
    return { status: res.status, code: trpcCode(parsed(res.text)), text: excerpt(res.text) };
  }
  return socket.call(p.type, p.path, raw);
}

function checkTrpc(where: string, label: string, out: TrpcOutcome, failures: Failure[], mustFail: boolean) {
  if (out.status >= 500 || out.code === "INTERNAL_SERVER_ERROR" || out.code === "TIMEOUT" || out.code === "UNKNOWN_ERROR_SHAPE") {
    failures.push({ where, label, got: `${out.status} ${out.code ?? ""} ${out.text}` });
  } else if (mustFail && out.code === undefined && out.text !== "closed") {
    failures.push({ where, label, got: `succeeded without a token: ${out.text}` });
  }
}

describe("hostile input never fails the server", () => {
  it("every legacy POST route, as the owner of a group with a friend", { timeout: WALK_TIMEOUT_MS }, async () => {
    const failures: Failure[] = [];
    let total = 0;
    for (const route of legacyPosts) {
      const fields = objectKeys(route.bind);
      const f = await fixture();
      const base = legacyBase(f);
      expect(missingBases(fields, base), `${route.path}: give these fields a valid value in legacyBase`).toEqual([]);
      for (const c of cases(fields, base)) {
        total++;
        // /login and /register never look at a token: they are walked here without one, once.
        checkLegacy(route.path, c.label, await post(route.path, c.raw, route.public ? undefined : owner.token), failures);
      }
    }
    expect(total).toBeGreaterThan(legacyPosts.length * 20);
    expect(failures.length, summary(failures, total)).toBe(0);
  });

  it("every legacy POST route, anonymously (protected routes answer 401 before reading the body)", { timeout: WALK_TIMEOUT_MS }, async () => {
    const failures: Failure[] = [];
    let total = 0;
    const f = await fixture();
    const base = legacyBase(f);
    for (const route of legacyPosts.filter((r) => !r.public)) {
      for (const c of anonymousCases(objectKeys(route.bind), base)) {
        total++;
        checkLegacy(route.path, c.label, await post(route.path, c.raw, undefined), failures, 401);
      }
    }
    expect(failures.length, summary(failures, total)).toBe(0);
  });

  for (const anonymous of [false, true]) {
    it(`every tRPC procedure, ${anonymous ? "anonymously" : "as the owner of a group with a friend"}`, { timeout: WALK_TIMEOUT_MS }, async () => {
      const failures: Failure[] = [];
      let total = 0;
      const token = anonymous ? undefined : owner.token;
      const socket = new TrpcSocket(token);
      try {
        const shared = anonymous ? await fixture() : undefined;
        for (const p of procedures) {
          if (anonymous && !p.protected) continue;
          const f = shared ?? (await fixture());
          const base = trpcBase(f);
          expect(missingBases(p.fields, base), `${p.path}: give these fields a valid value in trpcBase`).toEqual([]);
          const list = p.hasInput ? (anonymous ? anonymousCases : cases)(p.fields, base) : [{ label: "no input", raw: undefined }, ...BODIES.map(([label, raw]) => ({ label, raw }))];
          for (const c of list) {
            total++;
            checkTrpc(p.path, c.label, await callProcedure(p, c.raw, token, socket), failures, anonymous && p.protected);
          }
        }
      } finally {
        socket.close();
      }
      expect(total).toBeGreaterThan(procedures.length * 5);
      expect(failures.length, summary(failures, total)).toBe(0);
    });
  }

  it("the /wss frame: every field × the corpus and hostile whole frames", { timeout: WALK_TIMEOUT_MS }, async () => {
    const f = await fixture();
    const fields = objectKeys(clientFrame);
    const base: Record<string, unknown> = {
      session_id: "",
      receive_id: f.groupId,
      type: 0,
      content: "hello",
      url: "",
      file_type: "",
      file_name: "",
      file_size: "",
      mentioned_user_ids: [f.friend.uuid],
      mention_all: false,
      client_msg_id: "",
    };
    expect(missingBases(fields, base), "give these frame fields a valid value").toEqual([]);
    const failures: Failure[] = [];
    const all = cases(fields, base).filter((c) => c.raw !== undefined) as Array<{ label: string; raw: Raw }>;
    all.push({ label: "not JSON", raw: "{" }, { label: "empty frame", raw: "" });
    let ws: WebSocket | undefined;
    let frames: Array<{ type?: unknown; message?: unknown }> = [];
    let closed = true;
    const open = async () => {
      const socket = new WebSocket(`${server.url.replace(/^http/, "ws")}/wss?client_id=${owner.uuid}&token=${owner.token}`);
      await new Promise<void>((resolve, reject) => {
        socket.once("open", () => resolve());
        socket.once("error", reject);
      });
      frames = [];
      closed = false;
      socket.on("message", (data: Buffer) => frames.push(parsed(data.toString()) as { type?: unknown }));
      socket.on("close", () => (closed = true));
      return socket;
    };
    let n = 0;
    for (const c of all) {
      if (!ws || closed) ws = await open();
      const before = frames.length;
      // client_msg_id keeps accepted frames apart (a repeated id would be answered as a retry).
      ws.send(c.raw.replace('"client_msg_id":""', `"client_msg_id":"fuzz-${++n}"`));
      const deadline = Date.now() + 10_000;
      while (frames.length === before && !closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const answer = frames.slice(before);
      if (answer.length === 0 && !closed) failures.push({ where: "/wss", label: c.label, got: "no answer within 10 s" });
      for (const frame of answer) {
        if (frame.type === "error" && typeof frame.message === "string" && frame.message.startsWith("Code: 500")) {
          failures.push({ where: "/wss", label: c.label, got: json(frame) });
        }
      }
    }
    ws?.close();
    expect(all.length).toBeGreaterThan(fields.length * 10);
    expect(failures.length, summary(failures, all.length)).toBe(0);
  });

  it("the /wss handshake with hostile client_id and token is refused with 400 or 401", async () => {
    const base = `${server.url.replace(/^http/, "ws")}/wss`;
    const attempts = [
      `?client_id=${encodeURIComponent("\u0000")}&token=${owner.token}`,
      `?client_id=${owner.uuid}&token=${encodeURIComponent("\u0000")}`,
      // A lone surrogate's three UTF-8-style bytes, which are not valid UTF-8.
      `?client_id=%ED%A0%80&token=x`,
      `?client_id=${"x".repeat(4000)}&token=${"y".repeat(4000)}`,
      `?client_id=%ZZ&token=%`,
      `?client_id=${owner.uuid}`,
      "",
    ];
    for (const query of attempts) {
      const status = await handshakeStatus(`${base}${query}`).catch(() => -1);
      expect([400, 401], query.slice(0, 60)).toContain(status);
    }
  });

  it("malformed or truncated multipart bodies on /message/uploadFile answer 4xx", async () => {
    const boundary = "----fuzzboundary";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n`;
    const bodies: Array<[string, string, string]> = [
      ["no closing boundary", `multipart/form-data; boundary=${boundary}`, `${head}hello`],
      ["cut inside the part headers", `multipart/form-data; boundary=${boundary}`, head.slice(0, 40)],
      ["boundary never appears", `multipart/form-data; boundary=${boundary}`, "just some bytes"],
      ["no boundary parameter", "multipart/form-data", `${head}hello\r\n--${boundary}--\r\n`],
      ["empty body", `multipart/form-data; boundary=${boundary}`, ""],
      ["NUL in the file name", `multipart/form-data; boundary=${boundary}`, `${head.replace("a.txt", "a\u0000.txt")}hello\r\n--${boundary}--\r\n`],
      ["not multipart", "application/json", "{}"],
    ];
    for (const [label, type, body] of bodies) {
      const res = await fetch(`${server.url}/message/uploadFile`, { method: "POST", headers: { authorization: `Bearer ${owner.token}`, "content-type": type }, body });
      const text = await res.text();
      const envelope = parsed(text) as { code?: number } | undefined;
      // A NUL in a file name is dropped from the shown name; the upload itself is fine.
      const expected = label === "NUL in the file name" ? [200, 200] : [400, 400];
      expect([res.status, envelope?.code], `${label}: ${text}`).toEqual(expected);
    }
    // A client that stops sending mid-body (declared length never reached) and half-closes.
    const { port } = new URL(server.url);
    const answer = await new Promise<string>((resolve) => {
      const socket = netConnect(Number(port), "127.0.0.1", () => {
        const part = `${head}hel`;
        socket.write(
          `POST /message/uploadFile HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${owner.token}\r\n` +
            `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${part.length + 1000}\r\n\r\n${part}`,
        );
        socket.end();
      });
      let got = "";
      socket.on("data", (d: Buffer) => (got += d.toString()));
      socket.on("close", () => resolve(got));
      socket.on("error", () => resolve(got));
    });
    // The request is abandoned: either no answer at all, or a 4xx one.
    if (answer) expect(answer, answer).toMatch(/^HTTP\/1\.1 4\d\d/);
  });

  it("the server is healthy afterwards and still serves a valid request", async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    // The server runs in this process: no "__proto__" key of the corpus reached Object.prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const f = await fixture();
    const info = await post("/group/getGroupInfo", json({ group_id: f.groupId }), owner.token);
    expect(parsed(info.text)).toMatchObject({ code: 200, data: { uuid: f.groupId } });
  });
});
