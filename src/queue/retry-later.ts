// The error a task throws to BullMQ so that it waits our backoff, not its own, before trying again.

/** Thrown to BullMQ so it waits `delayMs` before the next attempt (our backoff, not its own). */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}
