import type { DomainContext } from "@omnilink/domain";
import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";

/** Prometheus `/metrics`: process metrics plus what the realtime layer is doing, read at scrape time. */
export function registerMetrics(app: FastifyInstance, domain: DomainContext, sockets: () => Record<string, number>): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "omnilink_stream_position",
    help: "Stream position this node has handed out up to (tick * 65536 + rank)",
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
  if (domain.bus.stats) {
    const stats = () => domain.bus.stats?.() ?? { published: 0, dropped: 0 };
    new Gauge({
      name: "omnilink_bus_publications_total",
      help: "Publications sent to the other nodes through the bus",
      registers: [registry],
      collect() {
        this.set(stats().published);
      },
    });
    new Gauge({
      name: "omnilink_bus_dropped_total",
      help: "Publications dropped because the bus was down or slow (the other nodes read them from the database)",
      registers: [registry],
      collect() {
        this.set(stats().dropped);
      },
    });
  }
  app.get("/metrics", async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}
