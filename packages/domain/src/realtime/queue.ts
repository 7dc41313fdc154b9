/**
 * A bounded single-consumer queue: push never blocks; past `capacity` the queue fails and the
 * consumer sees `overflowed`, so a slow reader is cut off instead of growing memory.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: (() => void) | undefined;
  private closed = false;
  overflowed = false;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (this.closed) return;
    if (this.size >= this.capacity) {
      this.overflowed = true;
      this.close();
      return;
    }
    this.items.push(item);
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  /** The next item, or undefined once the queue is closed and empty. */
  async next(): Promise<T | undefined> {
    while (this.size === 0) {
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    const item = this.items[this.head] as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
