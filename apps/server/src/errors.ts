import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BindError, failure } from "./legacy/envelope.js";

/**
 * Errors raised before a handler runs (unparsable JSON, an empty JSON body, a body over the
 * limit) get the legacy envelope. Exported so encapsulated scopes created before
 * installErrorHandlers runs (they copy the parent's handler when created) can use it too.
 */
export function legacyErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const clientError = typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500;
  if (clientError) {
    const { status, body } = failure(new BindError());
    return reply.code(error.statusCode === 413 ? 413 : status).send(body);
  }
  request.log.error({ err: error }, "request failed");
  const { body } = failure(error);
  return reply.code(500).send(body);
}

/** The envelope for errors before a handler; unknown paths get gin's plain-text 404. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(legacyErrorHandler);
  app.setNotFoundHandler((_request, reply) => reply.code(404).type("text/plain; charset=utf-8").send("404 page not found"));
}
