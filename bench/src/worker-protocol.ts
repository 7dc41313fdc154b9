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
  /**
   * Starts recording which sockets receive messages tagged `tag` (content `<tag>:<index>:…`). With
   * `log`, every arrival is also kept in order (index, seq, time) for `received`.
   */
  track: { args: { tag: string; count: number; members: number[]; log?: boolean }; result: { tracking: number } };
  /** Waits (≤ waitMs) until every member has each expected index, then counts losses and duplicates. */
  report: { args: { expected: number[]; waitMs: number }; result: IntegrityResult };
  /** Persisted sends: each of `senders` (socket indexes) sends its next message once the previous one is echoed back. */
  sendMany: { args: SendManyArgs; result: SendManyResult };
  /**
   * Persisted sends spread over many groups: `inFlight` lanes, lane l sending as `senders[l % n]`,
   * each sender taking its groups in turn; a lane sends its next message once the previous one is
   * echoed back to its socket.
   */
  sendSpread: { args: SendSpreadArgs; result: SendSpreadResult };
  /** One socket sends `count` messages at a fixed rate whatever the echoes, and times each echo. */
  sendPaced: { args: SendPacedArgs; result: SendPacedResult };
  /** What each of `sockets` received of the tracked tag, in arrival order (track with `log`). */
  received: { args: { sockets: number[] }; result: ReceivedLog[] };
  /**
   * Sockets closed by the other side since they opened (slow-consumer cut-offs would show here),
   * and error frames (`{"type":"error"…}`) received since the last closeAll.
   */
  status: { args: Record<string, never>; result: { open: number; unexpectedCloses: number; errorFrames: number; firstErrorFrame: string | undefined } };
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

export interface SendSpreadArgs {
  tag: string;
  count: number;
  /** Sockets that send, each with the groups it sends to in turn. */
  senders: Array<{ socket: number; groupIds: string[] }>;
  /** Sends in flight in total (lanes). */
  inFlight: number;
  contentBytes: number;
  /** Per message: no echo by then counts as an error. */
  timeoutMs: number;
}

export interface SendSpreadResult {
  acked: number[];
  errors: number;
  wallMs: number;
  /** Send → echo on the sender's socket, per acknowledged message (ms). */
  latenciesMs: number[];
  /** Extra copies on the sender's socket. */
  duplicated: number;
  /** Copies on a socket other than the sender's (the sockets share no group). */
  unexpected: number;
}

export interface SendPacedArgs {
  tag: string;
  count: number;
  socket: number;
  groupId: string;
  perS: number;
  contentBytes: number;
  /** After the last send, how long to wait for the echoes still missing. */
  timeoutMs: number;
}

export interface SendPacedResult {
  /** When each message was sent (process.hrtime ms: the same clock in every process). */
  sentAtMs: number[];
  /** Send → echo on the sending socket (ms), -1 when none came. */
  echoMs: number[];
}

export interface ReceivedLog {
  /** Message indexes in arrival order (a duplicate appears twice). */
  indexes: number[];
  /** The frame's `seq` (-1 when absent). */
  seqs: number[];
  /** Arrival times (process.hrtime ms). */
  atMs: number[];
}
