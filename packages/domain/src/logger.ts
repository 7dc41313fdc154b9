/**
 * The subset of pino the domain uses, so tests can pass a silent one. Its own module, so the parts
 * DomainContext names (dispatcher, ticker, bus) need not import the context for it.
 */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
