import superjson from "superjson";

/** The server answered with an error (tRPC error shape or a legacy envelope with code ≠ 200). */
class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

interface TrpcEnvelope {
  result?: { data: Parameters<typeof superjson.deserialize>[0] };
  error?: Parameters<typeof superjson.deserialize>[0];
}

async function decode<T>(response: Response, path: string): Promise<T> {
  const body = (await response.json()) as TrpcEnvelope;
  if (body.error || !body.result) {
    const error = body.error ? superjson.deserialize<{ message?: string }>(body.error) : undefined;
    throw new ApiError(`${path}: ${response.status} ${error?.message ?? "no result"}`, response.status);
  }
  return superjson.deserialize<T>(body.result.data);
}

const auth = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/** One tRPC mutation over HTTP, unbatched (one request per call), superjson as the server expects. */
export async function mutate<T>(baseUrl: string, path: string, input: unknown, token?: string): Promise<T> {
  const response = await fetch(`${baseUrl}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth(token) },
    body: JSON.stringify(superjson.serialize(input)),
  });
  return decode<T>(response, path);
}

/** One tRPC query over HTTP (GET with the input in the query string). */
export async function query<T>(baseUrl: string, path: string, input: unknown, token?: string): Promise<T> {
  const encoded = encodeURIComponent(JSON.stringify(superjson.serialize(input)));
  const response = await fetch(`${baseUrl}/trpc/${path}?input=${encoded}`, { headers: auth(token) });
  return decode<T>(response, path);
}

/** A legacy REST call: POST JSON, `{code, message, data}` envelope. */
export async function legacyPost<T>(baseUrl: string, path: string, body: unknown, token: string): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth(token) },
    body: JSON.stringify(body),
  });
  const envelope = (await response.json()) as { code: number; message: string; data?: T };
  if (envelope.code !== 200) throw new ApiError(`${path}: ${envelope.code} ${envelope.message}`, response.status);
  return envelope.data as T;
}
