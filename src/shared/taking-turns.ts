// A queue in front of work that must not all run at once (argon2 hashes, schema-validation workers).

/**
 * Runs work with at most `atOnce` running at once; the rest wait in arrival order. With `full`, at
 * most `maxWaiting` wait: the next is refused at once with `refuse()`.
 */
export function takingTurns(atOnce: number, full?: { maxWaiting: number; refuse: () => Error }): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (running < atOnce) running += 1;
    else if (full && waiting.length >= full.maxWaiting) throw full.refuse();
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, so that a newcomer cannot take it first.
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}
