/** What {@link SlotLoops} needs of a node-redis connection. */
interface Slot {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
}

/**
 * The consumers of a bare-command ceiling row: `concurrency` loops, each on a connection of its own
 * (a blocking pop holds its connection), each running `step` until stop() (which waits for them).
 */
export class SlotLoops {
  #stopping = false;
  #loops: Array<Promise<void>> = [];

  start<S extends Slot>(
    client: { duplicate(): S },
    label: string,
    concurrency: number,
    step: (slot: S) => Promise<void>,
  ): void {
    this.#stopping = false;
    this.#loops = Array.from({ length: concurrency }, async () => {
      const slot = client.duplicate();
      slot.on('error', (error) => console.error(`${label}:`, error));
      await slot.connect();
      while (!this.#stopping) await step(slot);
      await slot.close();
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#loops);
    this.#loops = [];
  }
}
