export * from "./columns.js";
export * from "./users.js";
export * from "./contacts.js";
export * from "./groups.js";
export * from "./conversations.js";
export * from "./sessions.js";
export * from "./messages.js";
export * from "./events.js";
