import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createTokenService } from "@omnilink/domain";
import { describe, expect, it } from "vitest";
import { legacyRoutes } from "../src/legacy/routes.js";
import { anyString, BIND_ERROR, DATE_TIME, matching, registerUser, useTestServer } from "./helpers.js";

/*
 * docs/legacy-contract.md: accounts (§2.1-§2.4), the JWT check (§1.4, D1), binding (§1.2), CORS (§1.1)
 * and the AI paths (D17). One server for the file; every test makes its own users.
 */

const server = useTestServer();
const newUser = () => registerUser(server.url, "auth");

const AUTH_MISSING = { code: 401, message: "missing or invalid authorization header" };
const AUTH_INVALID = { code: 401, message: "invalid token" };

describe("/register and /login", () => {
  it("answer the 11 keys of LoginRespond with their types", async () => {
    const username = `login_shape_${Date.now() % 100000}`;
    const reg = await server.post("/register", { username, password: "secret123", nickname: "Shape" });
    expect(reg.status).toBe(200);
    expect(reg.json.code).toBe(200);
    expect(reg.json.message).toBe("Success");
    const login = await server.post("/login", { username, password: "secret123" });
    expect(login.status).toBe(200);
    expect(login.json).toMatchObject({ code: 200, message: "Success" });
    for (const data of [reg.json.data, login.json.data]) {
      expect(Object.keys(data ?? {}).sort()).toEqual(
        ["uuid", "username", "nickname", "avatar", "gender", "birthday", "signature", "created_at", "is_admin", "status", "token"].sort(),
      );
      expect(data).toMatchObject({
        uuid: matching(/^U[0-9A-Za-z]{11}$/),
        username,
        nickname: "Shape",
        avatar: matching(/^https?:\/\//),
        gender: 0,
        birthday: "",
        signature: "",
        created_at: matching(DATE_TIME),
        is_admin: 0,
        status: 0,
        token: matching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      });
    }
    expect(login.json.data?.uuid).toBe(reg.json.data?.uuid);
  });

  it("refuses unknown users, wrong passwords and taken names with the legacy texts", async () => {
    const u = await newUser();
    expect((await server.post("/login", { username: "nobody_here_x", password: "secret123" })).json).toEqual({ code: 400, message: "用户不存在" });
    expect((await server.post("/login", { username: u.username, password: "wrong-pass" })).json).toEqual({ code: 400, message: "密码错误" });
    const taken = await server.post("/register", { username: u.username, password: "secret123", nickname: "x" });
    expect([taken.status, taken.json]).toEqual([200, { code: 400, message: "用户已存在" }]);
  });

  it("answers HTTP 400 参数错误 when the body does not bind", async () => {
    for (const body of [{ username: "x" }, { username: "", password: "" }, { username: 1, password: "secret123" }, [], "{oops", ""]) {
      const res = await server.post("/login", body);
      expect([res.status, res.json]).toEqual(BIND_ERROR);
    }
    const reg = await server.post("/register", { username: ["a"], password: "secret123", nickname: "n" });
    expect([reg.status, reg.json]).toEqual(BIND_ERROR);
  });

  it("ignores an Authorization header on the public routes", async () => {
    const u = await newUser();
    const res = await server.post("/login", { username: u.username, password: "secret123" }, "not-a-token");
    expect(res.json.code).toBe(200);
  });
});

describe("JWT check (legacy-contract D1)", () => {
  it("answers HTTP 401 with the legacy envelope on every authenticated route without a token", async () => {
    const authenticated = legacyRoutes.filter((r) => !r.public);
    // legacy-contract §2.0 rows 4-30 (the upload, row 25, is registered on its own) and the four D10 paths.
    expect(authenticated.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      [
        "GET /auth/ping",
        "POST /user/internal/getUserInfo",
        "POST /contact/getUserList",
        "POST /contact/loadMyJoinedGroup",
        "POST /contact/getContactInfo",
        "POST /contact/applyContact",
        "POST /contact/getNewContactList",
        "POST /contact/passContactApply",
        "POST /contact/refuseContactApply",
        "POST /session/checkOpenSessionAllowed",
        "POST /session/openSession",
        "POST /session/getUserSessionList",
        "POST /session/getGroupSessionList",
        "POST /message/getMessageList",
        "POST /message/getGroupMessageList",
        "POST /group/createGroup",
        "POST /group/getGroupInfo",
        "POST /group/getGroupMemberList",
        "POST /group/inviteGroupMembers",
        "POST /group/leaveGroup",
        "POST /group/dismissGroup",
        "POST /contact/deleteContact",
        "POST /session/deleteSession",
        "POST /contact/blackContact",
        "POST /group/loadMyGroup",
        "POST /group/removeGroupMembers",
        "POST /contact/getAddGroupList",
        "POST /group/getJoinApplyList",
        "POST /group/approveJoin",
        "POST /group/rejectJoin",
      ].sort(),
    );
    for (const r of authenticated) {
      const res = await fetch(`${server.url}${r.path}`, {
        method: r.method,
        ...(r.method === "POST" ? { headers: { "content-type": "application/json" }, body: "{}" } : {}),
      });
      expect([r.path, res.status, await res.json()]).toEqual([r.path, 401, AUTH_MISSING]);
    }
    const upload = await fetch(`${server.url}/message/uploadFile`, { method: "POST", body: new FormData() });
    expect([upload.status, await upload.json()]).toEqual([401, AUTH_MISSING]);
  });

  it("needs exactly `Bearer ` and a token that verifies", async () => {
    const u = await newUser();
    const send = (authorization: string) =>
      fetch(`${server.url}/contact/getUserList`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization },
        body: "{}",
      }).then(async (r) => [r.status, await r.json()] as const);
    expect(await send(`bearer ${u.token}`)).toEqual([401, AUTH_MISSING]);
    expect(await send(`Bearer${u.token}`)).toEqual([401, AUTH_MISSING]);
    expect(await send(u.token)).toEqual([401, AUTH_MISSING]);
    expect(await send("Bearer not.a.jwt")).toEqual([401, AUTH_INVALID]);
    expect(await send(`Bearer  ${u.token}`)).toEqual([401, AUTH_INVALID]);
    expect(await send("Bearer x")).toEqual([401, AUTH_INVALID]);

    const secret = readFileSync(join(server.dataDir, "jwt-secret"), "utf8").trim();
    const foreign = createTokenService({ secret: "another-secret-of-enough-length", issuer: "OmniLink", expireHours: 1 });
    expect(await send(`Bearer ${await foreign.sign(u)}`)).toEqual([401, AUTH_INVALID]);
    const expired = createTokenService({ secret, issuer: "OmniLink", expireHours: -1 });
    expect(await send(`Bearer ${await expired.sign(u)}`)).toEqual([401, AUTH_INVALID]);
    const fresh = createTokenService({ secret, issuer: "OmniLink", expireHours: 1 });
    expect(await send(`Bearer ${await fresh.sign(u)}`)).toEqual([200, { code: 200, message: "Success", data: [] }]);
  });

  it("checks the token before the body: bad JSON without a token is 401, with one 400", async () => {
    const u = await newUser();
    const without = await server.post("/contact/getUserList", "{oops");
    expect([without.status, without.json]).toEqual([401, AUTH_MISSING]);
    const withToken = await server.post("/contact/getUserList", "{oops", u.token);
    expect([withToken.status, withToken.json]).toEqual(BIND_ERROR);
  });

  it("never answers HTTP 401 to a valid token, on any route or unknown path", async () => {
    const u = await newUser();
    for (const r of legacyRoutes.filter((x) => !x.public)) {
      const res = await fetch(`${server.url}${r.path}`, {
        method: r.method,
        headers: { authorization: `Bearer ${u.token}`, ...(r.method === "POST" ? { "content-type": "application/json" } : {}) },
        ...(r.method === "POST" ? { body: "{}" } : {}),
      });
      expect([r.path, res.status]).not.toEqual([r.path, 401]);
      const body = (await res.json()) as { code?: number };
      expect([r.path, body.code]).not.toEqual([r.path, 401]);
    }
  });

  it("answers the AI paths the client calls on every chat load with 404, not 401 (legacy-contract D17)", async () => {
    const u = await newUser();
    for (const path of ["/ai/assistant/system-session", "/ai/assistant/sessions"]) {
      const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${u.token}` } });
      expect([path, res.status, await res.text()]).toEqual([path, 404, "404 page not found"]);
    }
  });
});

describe("GET /auth/ping and /user/internal/getUserInfo", () => {
  it("ping answers the token's claims without the envelope", async () => {
    const u = await newUser();
    const res = await fetch(`${server.url}/auth/ping`, { headers: { authorization: `Bearer ${u.token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ uuid: u.uuid, username: u.username });
  });

  it("getUserInfo answers a profile, 400 uuid is required, 400 用户不存在", async () => {
    const a = await newUser();
    const b = await newUser();
    const res = await server.post("/user/internal/getUserInfo", { uuid: b.uuid }, a.token);
    expect(res.json).toMatchObject({ code: 200, message: "Success" });
    expect(res.json.data).toMatchObject({
      uuid: b.uuid,
      username: b.username,
      nickname: b.nickname,
      avatar: anyString,
      gender: 0,
      signature: "",
      birthday: "",
      created_at: matching(DATE_TIME),
      last_online_at: "",
      last_offline_at: "",
      is_admin: 0,
      status: 0,
    });
    expect(res.json.data).not.toHaveProperty("password");
    expect(res.json.data).not.toHaveProperty("password_hash");
    expect((await server.post("/user/internal/getUserInfo", { uuid: "" }, a.token)).json).toEqual({ code: 400, message: "uuid is required" });
    expect((await server.post("/user/internal/getUserInfo", {}, a.token)).json).toEqual({ code: 400, message: "uuid is required" });
    expect((await server.post("/user/internal/getUserInfo", { uuid: "Unobody00000" }, a.token)).json).toEqual({ code: 400, message: "用户不存在" });
    const wrongType = await server.post("/user/internal/getUserInfo", { uuid: 5 }, a.token);
    expect([wrongType.status, wrongType.json]).toEqual(BIND_ERROR);
  });
});

describe("CORS (legacy-contract §1.1)", () => {
  const preflight = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { method: "OPTIONS", headers });

  it("answers preflights 204 on every path, known, unknown, tRPC, with or without the CORS request headers", async () => {
    for (const path of ["/login", "/contact/getUserList", "/no/such/path", "/trpc/auth.me", "/static/files/x.png", "/message/uploadFile"]) {
      const variants: Record<string, string>[] = [
        { origin: "http://localhost:5173", "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
        {},
      ];
      for (const headers of variants) {
        const res = await preflight(path, headers);
        expect([path, res.status]).toEqual([path, 204]);
        expect(res.headers.get("access-control-allow-origin")).toBe("*");
        const methods = (res.headers.get("access-control-allow-methods") ?? "").split(",").map((m) => m.trim());
        expect(methods).toEqual(["GET", "POST", "PUT", "DELETE", "OPTIONS"]);
        const allowed = (res.headers.get("access-control-allow-headers") ?? "").split(",").map((h) => h.trim().toLowerCase());
        expect(allowed).toEqual(["origin", "content-length", "content-type", "authorization"]);
        expect(res.headers.get("access-control-max-age")).toBe("43200");
        expect(res.headers.get("access-control-allow-credentials")).toBeNull();
        expect(await res.text()).toBe("");
      }
    }
  });

  it("puts the allow-origin header on answers, errors and 404s", async () => {
    const origin = { origin: "http://localhost:5173" };
    const ok = await fetch(`${server.url}/login`, { method: "POST", headers: { ...origin, "content-type": "application/json" }, body: "{}" });
    expect(ok.headers.get("access-control-allow-origin")).toBe("*");
    const unauth = await fetch(`${server.url}/contact/getUserList`, { method: "POST", headers: origin });
    expect([unauth.status, unauth.headers.get("access-control-allow-origin")]).toEqual([401, "*"]);
    const missing = await fetch(`${server.url}/nothing/here`, { method: "POST", headers: origin });
    expect([missing.status, missing.headers.get("access-control-allow-origin"), await missing.text()]).toEqual([404, "*", "404 page not found"]);
  });
});
