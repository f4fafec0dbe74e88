// The audit sealer on a worker thread of its own, for `serve`. Sealing reads each new event back,
// serialises it canonically, hashes it and writes its chain row and lookup keys: on the request
// thread that cost every write about as much again as the write's own audit insert. The thread
// opens its own connection to the same database, with the same configuration, and takes the same
// lease as any other sealer, so the chain is the same whichever process or thread seals.
// This module is also the thread's entry point (it is loaded again inside the worker).

import { once } from 'node:events';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Config } from './config/config.js';
import { createRegistry } from './registry.js';
import type { Logger } from './shared/logger.js';
import { lowerThisThreadPriority } from './shared/thread-priority.js';
import { shareWriteGates, writeGateBuffers } from './store/write-gate.js';

const MARK = 'atrium-audit-sealer';
/** After an unexpected exit, start again after this long. */
const RESTART_MS = 1000;

export interface SealerThread {
  stop(): Promise<void>;
}

export function startSealerThread(config: Config, log: Logger): SealerThread {
  let worker: Worker | undefined;
  let stopping = false;
  let restart: NodeJS.Timeout | undefined;
  const spawn = () => {
    const w = new Worker(new URL(import.meta.url), { workerData: { mark: MARK, config, writeGates: writeGateBuffers() } });
    worker = w;
    w.on('error', (err) => log.error({ err: err.message }, 'the audit sealer thread failed'));
    w.on('exit', (code) => {
      if (stopping || worker !== w) return;
      log.error({ code }, 'the audit sealer thread stopped; starting it again');
      restart = setTimeout(spawn, RESTART_MS);
      restart.unref();
    });
    // It never keeps the process alive on its own: close() stops it.
    w.unref();
  };
  spawn();
  return {
    async stop() {
      stopping = true;
      if (restart) clearTimeout(restart);
      const w = worker;
      if (!w || w.threadId === -1) return;
      const exited = once(w, 'exit');
      w.postMessage('stop');
      // It releases its lease and closes its connection; a stuck one is ended after a while.
      const timer = setTimeout(() => void w.terminate(), 10_000);
      await exited.catch(() => undefined);
      clearTimeout(timer);
    },
  };
}

async function runInThread(config: Config, writeGates: Record<string, SharedArrayBuffer>, port: NonNullable<typeof parentPort>): Promise<void> {
  // The request thread's batches and this thread's take turns at the SQLite file (write-gate.ts).
  shareWriteGates(writeGates);
  // Its transactions lock the audit file, which only it writes: the request thread's commits to the
  // main file never wait behind a batch being chained (0023-audit-file.ts).
  const reg = await createRegistry(config, { writeHome: 'audit' });
  // Below the request thread: on a busy machine its passes take the cores' spare time, and requests
  // are not kept waiting for a core behind it (bench/README.md, "Session 12").
  const nice = lowerThisThreadPriority(config.auditSealerNice);
  if (nice === undefined && config.auditSealerNice > 0) reg.log.debug({}, 'the audit sealer thread keeps its priority: this platform cannot name or renice a thread');
  reg.auditTrail.start();
  port.on('message', (m) => {
    if (m !== 'stop') return;
    void reg.close().finally(() => port.close());
  });
}

const data = workerData as { mark?: string; config?: Config; writeGates?: Record<string, SharedArrayBuffer> } | null;
if (!isMainThread && parentPort && data?.mark === MARK && data.config) {
  await runInThread(data.config, data.writeGates ?? {}, parentPort);
}
