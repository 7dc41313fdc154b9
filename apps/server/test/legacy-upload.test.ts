import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { displayName, safeExtension } from "../src/legacy/upload.js";
import { BIND_ERROR, matching, registerUser, useTestServer } from "./helpers.js";

/* legacy-contract §2.25 / D9: POST /message/uploadFile (multipart `file`) and GET /static/files/<name>. */

const server = useTestServer();
let token: string;

beforeAll(async () => {
  token = (await registerUser(server.url, "upload")).token;
});

const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5b1b0a50000000049454e44ae426082",
  "hex",
);

async function upload(parts: Array<{ field: string; data: Buffer | string; name?: string; type?: string }>, auth = `Bearer ${token}`) {
  const form = new FormData();
  for (const p of parts) {
    if (p.name === undefined) form.append(p.field, String(p.data));
    else form.append(p.field, new Blob([p.data], { type: p.type ?? "" }), p.name);
  }
  const res = await fetch(`${server.url}/message/uploadFile`, { method: "POST", headers: { authorization: auth }, body: form });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as { code: number; message: string; data?: Record<string, unknown> } };
}

/** A GET with the path sent exactly as written (fetch would normalise `..` and percent-escapes). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: Number(port), path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("POST /message/uploadFile", () => {
  it("stores the file under a random name and answers {url, file_name, file_size, file_type}", async () => {
    const res = await upload([{ field: "file", data: PNG, name: "holiday photo.PNG", type: "image/png" }]);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      code: 200,
      message: "Success",
      data: {
        url: matching(/^\/static\/files\/[0-9a-f]{32}\.png$/),
        file_name: "holiday photo.PNG",
        file_size: PNG.length,
        file_type: "image/png",
      },
    });
    const url = String(res.json.data?.url);
    const stored = url.slice("/static/files/".length);
    expect(readFileSync(join(server.dataDir, "uploads", stored))).toEqual(PNG);

    const get = await fetch(`${server.url}${url}`);
    expect(get.status).toBe(200);
    expect(get.headers.get("content-type")).toBe("image/png");
    expect(get.headers.get("x-content-type-options")).toBe("nosniff");
    expect(get.headers.get("access-control-allow-origin")).toBe("*");
    expect(Buffer.from(await get.arrayBuffer())).toEqual(PNG);
  });

  it("never uses the client's name for the path", async () => {
    const res = await upload([{ field: "file", data: "#!/bin/sh\necho hi\n", name: "../../../etc/evil.sh", type: "text/x-sh" }]);
    expect(res.json.code).toBe(200);
    expect(res.json.data).toMatchObject({ url: matching(/^\/static\/files\/[0-9a-f]{32}\.sh$/), file_name: "evil.sh" });
    const odd = await upload([{ field: "file", data: "x", name: "weird.name.<script>", type: "not a mime" }]);
    expect(odd.json.data).toMatchObject({
      url: matching(/^\/static\/files\/[0-9a-f]{32}$/),
      file_name: "weird.name.<script>",
      file_type: "application/octet-stream",
    });
    // Only generated names ever land in the folder, and no partial file is left behind.
    for (const name of readdirSync(join(server.dataDir, "uploads"))) expect(name).toMatch(/^[0-9a-f]{32}(\.[a-z0-9]{1,10})?$/);
    expect(existsSync(join(server.dataDir, "etc"))).toBe(false);
  });

  it("needs the JWT", async () => {
    const res = await upload([{ field: "file", data: PNG, name: "a.png", type: "image/png" }], "");
    expect([res.status, res.json]).toEqual([401, { code: 401, message: "missing or invalid authorization header" }]);
    const bad = await upload([{ field: "file", data: PNG, name: "a.png", type: "image/png" }], "Bearer nope");
    expect([bad.status, bad.json]).toEqual([401, { code: 401, message: "invalid token" }]);
  });

  it("answers 400 参数错误 without a `file` part or for a non-multipart body", async () => {
    expect(await upload([{ field: "other", data: PNG, name: "a.png", type: "image/png" }])).toEqual({
      status: 400,
      json: { code: 400, message: "参数错误" },
    });
    expect(await upload([{ field: "file", data: "just a field" }])).toEqual({ status: 400, json: { code: 400, message: "参数错误" } });
    const json = await server.post("/message/uploadFile", { file: "x" }, token);
    expect([json.status, json.json]).toEqual(BIND_ERROR);
    // A second file part is ignored; the one named `file` is stored.
    const two = await upload([
      { field: "extra", data: "zzz", name: "z.txt", type: "text/plain" },
      { field: "file", data: "hello", name: "hello.txt", type: "text/plain" },
    ]);
    expect(two.json.data).toMatchObject({ file_name: "hello.txt", file_size: 5 });
  });

  it("refuses a file over the limit (20 MiB) and keeps nothing of it", async () => {
    const before = readdirSync(join(server.dataDir, "uploads")).length;
    const res = await upload([{ field: "file", data: Buffer.alloc(20 * 1024 * 1024 + 1, 1), name: "big.bin", type: "application/octet-stream" }]);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ code: 400, message: "文件过大（最多 20 MB）" });
    expect(readdirSync(join(server.dataDir, "uploads"))).toHaveLength(before);
    const exact = await upload([{ field: "file", data: Buffer.alloc(20 * 1024 * 1024, 1), name: "ok.bin" }]);
    expect(exact.json).toMatchObject({ code: 200, data: { file_size: 20 * 1024 * 1024 } });
  });
});

describe("GET /static/files/<name>", () => {
  it("serves nothing outside the uploads folder and nothing it did not generate", async () => {
    const secret = readFileSync(join(server.dataDir, "jwt-secret"), "utf8");
    // Something sitting in the folder under a name the server never generates.
    writeFileSync(join(server.dataDir, "uploads", ".hidden"), "hidden");
    writeFileSync(join(server.dataDir, "uploads", "planted.txt"), "planted");
    for (const path of [
      "/static/files/../jwt-secret",
      "/static/files/..%2fjwt-secret",
      "/static/files/%2e%2e/jwt-secret",
      "/static/files/%2e%2e%2fjwt-secret",
      "/static/files/..%5cjwt-secret",
      "/static/files/....//jwt-secret",
      "/static/files//etc/passwd",
      "/static/files/%2fetc%2fpasswd",
      "/static/files/.hidden",
      "/static/files/planted.txt",
      "/static/files/",
      "/static/files",
      "/static/files/00000000000000000000000000000000.png",
      "/static/jwt-secret",
    ]) {
      const res = await rawGet(path);
      expect([path, res.status >= 400]).toEqual([path, true]);
      expect(res.body).not.toContain(secret.trim());
      expect(res.body).not.toContain("hidden");
      expect(res.body).not.toContain("planted");
    }
  });

  it("units: extensions and display names are sanitised", () => {
    expect(safeExtension("a.PNG")).toBe(".png");
    expect(safeExtension("archive.tar.gz")).toBe(".gz");
    expect(safeExtension(".bashrc")).toBe("");
    expect(safeExtension("noext")).toBe("");
    expect(safeExtension("x.<svg>")).toBe("");
    expect(safeExtension("x.averyveryverylongext")).toBe("");
    expect(safeExtension("dir.d/evil")).toBe("");
    expect(displayName("C:\\Users\\me\\report.pdf", "file")).toBe("report.pdf");
    expect(displayName("a\u0000b\nc.txt", "file")).toBe("abc.txt");
    expect(displayName("", "file.png")).toBe("file.png");
    expect([...displayName("é".repeat(400), "f")]).toHaveLength(255);
  });
});
