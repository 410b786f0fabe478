// How the framework stores answer: express-session and @fastify/session call a store's methods
// with a callback, some callers (and our own tests) await them instead.

/** A framework store method's callback: the error first, then the value. */
export type StoreCallback<T> = (err: unknown, value?: T) => void;

/**
 * Answers a framework store method either way it was called: with a callback, calls it once and
 * returns undefined; without one, returns a promise of the value.
 */
export function answer<T>(
  work: () => Promise<T>,
  callback: StoreCallback<T> | undefined,
): Promise<T> | undefined {
  // A method that throws at once (a closed store) fails the same way as one that fails later.
  const promise = (async () => work())();
  if (callback !== undefined) {
    // The callback runs outside the promise chain: an exception thrown by it must not be taken for a
    // store failure and call it a second time.
    promise.then(
      (value) => process.nextTick(callback, null, value),
      (err: unknown) => process.nextTick(callback, err),
    );
    return undefined;
  }
  // express-session calls destroy(sid, undefined) for a `req.session.destroy()` without a callback
  // and drops what it gets back: a Redis failure there must stay unnoticed, as it always was, not
  // become an unhandled rejection that ends the process. An awaited promise still rejects.
  promise.catch(() => {});
  return promise;
}
