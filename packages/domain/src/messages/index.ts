export * from "./schemas.js";
export * from "./preview.js";
export * from "./rate-limit.js";
export * from "./send.js";
export * from "./history.js";
export * from "./receipts.js";
export * from "./recall.js";
export * from "./search.js";
