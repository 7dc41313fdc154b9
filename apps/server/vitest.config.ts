import { packageTestConfig } from "../../vitest.shared.js";

// The two-node test needs a shared PostgreSQL and Redis: it runs when both are configured
// (CI's PostgreSQL pass sets DATABASE_URL and REDIS_URL), and is left out of the embedded run.
const multiNode = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

export default packageTestConfig("server", { exclude: multiNode ? [] : ["test/multinode.test.ts"] });
