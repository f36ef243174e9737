/**
 * Progress bars of the CLI (cli-progress, on stderr): shown only on a terminal and never with --json.
 */
import { SingleBar } from 'cli-progress';

/** A progress reporter: `update(label, done, total)` per event, `stop()` at the end. */
export interface Progress {
  update(label: string, done: number, total: number): void;
  stop(): void;
}

/** A progress bar on stderr when `enabled` and stderr is a TTY; otherwise a no-op. */
export function progress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  let bar: SingleBar | null = null, current = '';
  return {
    update(label, done, total) {
      if (!bar || label !== current) {
        bar?.stop();
        current = label;
        bar = new SingleBar({
          format: `${label.padEnd(24)} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`,
          stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 20,
        });
        bar.start(total, 0);
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
