/** Requests the bench sends to a client worker process (see worker.ts), and what each answers. */
export interface WorkerRequests {
  /** Opens WebSockets (appended to the worker's list); every open socket is a member of what follows. */
  open: { args: { urls: string[]; concurrency: number }; result: { opened: number; failed: number; firstError: string | undefined } };
  /** Closes every socket and waits for the closes. */
  closeAll: { args: Record<string, never>; result: { closed: number } };
  /**
   * One member (socket `sender`) sends `count` messages with at most `window` not yet delivered to
   * every member; measures per-message latency until the last member has it.
   */
  fanout: { args: FanoutArgs; result: FanoutResult };
  /** Starts recording which sockets receive messages tagged `tag` (content `<tag>:<index>:…`). */
  track: { args: { tag: string; count: number; members: number[] }; result: { tracking: number } };
  /** Waits (≤ waitMs) until every member has each expected index, then counts losses and duplicates. */
  report: { args: { expected: number[]; waitMs: number }; result: IntegrityResult };
  /** Persisted sends: each of `senders` (socket indexes) sends its next message once the previous one is echoed back. */
  sendMany: { args: SendManyArgs; result: SendManyResult };
  /** Sockets closed by the other side since they opened (slow-consumer cut-offs would show here). */
  status: { args: Record<string, never>; result: { open: number; unexpectedCloses: number } };
}

export type WorkerCommand = keyof WorkerRequests;

export interface FanoutArgs {
  tag: string;
  count: number;
  window: number;
  warmup: number;
  sender: number;
  /** omnilink: a legacy /wss send frame to `groupId` with `contentBytes` of content; bare: a frame of exactly `frameBytes`. */
  mode: "omnilink" | "bare";
  groupId: string;
  contentBytes: number;
  frameBytes: number;
  timeoutMs: number;
}

export interface IntegrityResult {
  lost: number;
  duplicated: number;
  /** Tagged frames whose index was not expected (e.g. a send reported failed that was delivered anyway). */
  unexpected: number;
}

export interface FanoutResult extends IntegrityResult {
  sent: number;
  completed: number;
  /** Send → last member, per completed message (ms). */
  latenciesMs: number[];
  /** Member deliveries of measured messages. */
  deliveries: number;
  /** First send → last delivery (ms). */
  wallMs: number;
  /** Bytes of one delivered frame (to size the baseline's payload). */
  frameBytes: number;
  /** CPU time of the worker over the measured part (ms). */
  workerCpuMs: number;
  /** Monotonic (process.hrtime) start and end of the measured part, in ms, for profile windows. */
  startedAtMs: number;
  endedAtMs: number;
  timedOut: boolean;
}

export type WorkerMessage = { id: number; cmd: WorkerCommand; args: unknown };
export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface SendManyArgs {
  tag: string;
  count: number;
  senders: number[];
  groupId: string;
  contentBytes: number;
  /** Per message: no echo by then counts as an error. */
  timeoutMs: number;
}

export interface SendManyResult {
  acked: number[];
  errors: number;
  wallMs: number;
}
