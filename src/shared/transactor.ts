// The unit-of-work port that domain services use: run a function against stores bound to one
// transaction. The store layer implements it; the domain only knows this shape.

export interface Transactor<S> {
  transaction<T>(fn: (stores: S) => Promise<T>): Promise<T>;
}
