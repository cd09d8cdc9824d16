/**
 * Ordered hook chains (iAgent's priority chain): each hook gets the context and a
 * `next`; lower priority runs first, so auth filters (priority < 100) run before
 * handlers and post-processing (priority > 100) after.
 */
export type Hook<C> = (ctx: C, next: () => Promise<void>) => Promise<void> | void;

interface Entry<C> {
  name: string;
  priority: number;
  run: Hook<C>;
  seq: number;
}

export class HookChain<C> {
  private entries: Entry<C>[] = [];
  private seq = 0;

  add(name: string, priority: number, run: Hook<C>): () => void {
    const e = { name, priority, run, seq: this.seq++ };
    this.entries.push(e);
    this.entries.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    return () => {
      this.entries = this.entries.filter((x) => x !== e);
    };
  }

  get size(): number {
    return this.entries.length;
  }

  /** Runs the chain, then `last` if every hook called next(). */
  async run(ctx: C, last: () => Promise<void> | void): Promise<void> {
    const list = this.entries;
    const step = async (i: number): Promise<void> => {
      if (i === list.length) {
        await last();
        return;
      }
      let called = false;
      await list[i].run(ctx, () => {
        if (called) throw new Error(`hook ${list[i].name} called next() twice`);
        called = true;
        return step(i + 1);
      });
    };
    await step(0);
  }
}
