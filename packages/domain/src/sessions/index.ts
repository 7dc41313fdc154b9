export * from "./schemas.js";
export * from "./ensure.js";
export * from "./list.js";
export * from "./open.js";
export * from "./read.js";
