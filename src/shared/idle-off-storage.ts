// An AsyncLocalStorage that is enabled only while one of its `run`s is in flight.
//
// On Node 20, once any AsyncLocalStorage has run, the promise hooks that carry its value stay on for
// the whole process, and every `await` anywhere pays for them (about a tenth of a busy request
// thread). A storage that is disabled whenever no `run` is in flight lets the hooks go off again
// when every storage is idle: a request that needs none of them (GetRoleCredentials' reads, for
// one) then pays nothing.
//
// What it changes: `getStore()` answers undefined while no `run` of this storage is in flight, which
// is what a caller outside every `run` gets anyway. Inside a `run`, the value is carried as before:
// the storage is enabled from the start of `run` until the promise `fn` returned has settled, so
// every promise `fn` makes carries it. Work that `fn` leaves running after it settles is not meant
// to see it (a transaction's statements after its commit would be wrong).

import { AsyncLocalStorage } from 'node:async_hooks';

export class IdleOffStorage<T> {
  private inFlight = 0;
  private disabling = false;
  private readonly storage = new AsyncLocalStorage<T>();

  getStore(): T | undefined {
    return this.inFlight === 0 ? undefined : this.storage.getStore();
  }

  /** As AsyncLocalStorage.run, for an async `fn`: the value holds until its promise settles. */
  async run<R>(store: T, fn: () => Promise<R>): Promise<R> {
    this.inFlight++;
    try {
      return await this.storage.run(store, fn);
    } finally {
      if (--this.inFlight === 0 && !this.disabling) {
        // Not at once: a group-commit batch runs its units one after another within one drain of
        // the microtask queue, and switching Node's hooks off and on between each costs more than
        // leaving them on until that drain ends (a setImmediate would leave them on for the whole
        // next poll phase, where the requests are served).
        this.disabling = true;
        process.nextTick(() => {
          this.disabling = false;
          if (this.inFlight === 0) this.storage.disable();
        });
      }
    }
  }
}
