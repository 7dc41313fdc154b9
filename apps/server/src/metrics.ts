import type { DomainContext } from "@omnilink/domain";
import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";

/** Prometheus `/metrics`: process metrics plus what the realtime layer is doing, read at scrape time. */
export function registerMetrics(app: FastifyInstance, domain: DomainContext, sockets: () => Record<string, number>): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "omnilink_stream_position",
    help: "Highest stream id this node has dispatched",
    registers: [registry],
    collect() {
      this.set(domain.dispatcher.position);
    },
  });
  new Gauge({
    name: "omnilink_stream_subscribers",
    help: "Live subscriptions (tRPC and legacy) on this node",
    registers: [registry],
    collect() {
      this.set(domain.dispatcher.subscriberCount);
    },
  });
  new Gauge({
    name: "omnilink_websocket_connections",
    help: "Open WebSocket connections by endpoint",
    labelNames: ["endpoint"],
    registers: [registry],
    collect() {
      for (const [endpoint, count] of Object.entries(sockets())) this.set({ endpoint }, count);
    },
  });
  app.get("/metrics", async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}
