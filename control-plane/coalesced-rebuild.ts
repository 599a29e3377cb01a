/**
 * A rebuild from the store that coalesces: a refresh asked while one runs makes exactly one more
 * run after it (never one per write), and every caller's promise settles once the index it asked
 * for is current. `run` builds and swaps the new index in.
 */
export class CoalescedRebuild {
  readonly #run: () => Promise<void>;
  #rebuilding: Promise<void> | undefined;
  #again = false;

  constructor(run: () => Promise<void>) {
    this.#run = run;
  }

  refresh(): Promise<void> {
    if (this.#rebuilding !== undefined) {
      this.#again = true;
      return this.#rebuilding;
    }
    this.#rebuilding = (async () => {
      do {
        this.#again = false;
        await this.#run();
      } while (this.#again);
    })().finally(() => {
      this.#rebuilding = undefined;
    });
    return this.#rebuilding;
  }
}
