// The unit-of-work port that domain services use: run a function against stores bound to one
// transaction. The store layer implements it; the domain only knows this shape.

export interface Transactor<S> {
  transaction<T>(fn: (stores: S) => Promise<T>): Promise<T>;
  /**
   * Run `fn` once the unit of work this call runs in has committed (at once outside one); never
   * if it rolls back. A transaction started inside another joins it, so its own end is not a commit.
   */
  afterCommit(fn: () => void): void;
}
