/**
 * The Python peers of `npm run bench:peers`: which interpreter has which package (probed at run time,
 * `MOLRG_PYTHON` first, then `python3` on PATH, then Debian's /usr/bin/python3), and one persistent
 * server process (bench/peers/server.py) per interpreter, driven by JSON lines.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';

/** What one interpreter offers. */
export interface Interpreter {
  /** The command it was found as. */
  command: string;
  /** sys.executable. */
  executable: string;
  python: string;
  numpy: string | null;
  torch: string | null;
  sklearn: string | null;
}

// Finds the packages without importing them (importing torch takes seconds; the server does it once).
const PROBE = `import importlib.metadata as md, importlib.util as u, json, platform, sys
def version(module, dist):
    if u.find_spec(module) is None:
        return None
    try:
        return md.version(dist)
    except Exception:
        return 'present'
print(json.dumps({'executable': sys.executable, 'python': platform.python_version(), 'numpy': version('numpy', 'numpy'), 'torch': version('torch', 'torch'), 'sklearn': version('sklearn', 'scikit-learn')}))`;

/** Every distinct Python interpreter among the candidates, with its package versions (absent ones skipped with a note). */
export function probeInterpreters(notes: string[]): Interpreter[] {
  const candidates = [...new Set([process.env.MOLRG_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c))];
  const found: Interpreter[] = [];
  for (const command of candidates) {
    try {
      const out = execFileSync(command, ['-c', PROBE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      const info = JSON.parse(out.trim().split('\n').pop() as string) as Omit<Interpreter, 'command'>;
      if (found.some((f) => f.executable === info.executable)) continue;
      found.push({ command, ...info });
    } catch (e) {
      notes.push(`python interpreter ${command}: not usable (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return found;
}

/** What `hello` answers: versions and threads of the peers in one interpreter. */
export interface ServerInfo {
  executable: string;
  python: string;
  numpy: string;
  torch: string | null;
  torchThreads: number | null;
  sklearn: string | null;
  blas: unknown;
  /** OPENBLAS_NUM_THREADS as the server was started with. */
  blasThreadsRequested: string | null;
}

/** A raw little-endian array file written for the server. */
export interface ArrayFile {
  path: string;
  dtype: 'float32' | 'float64';
  shape: number[];
}

/** One server.py process: `call(cmd, args)` resolves with its answer, in order. */
export class PythonServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private next = 0;
  private buffer = '';
  private exited: Error | null = null;

  /** `threads`: the BLAS/OpenMP pool size of the process (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS). */
  constructor(readonly interpreter: Interpreter, threads: number) {
    const t = String(threads);
    this.child = spawn(interpreter.executable, ['-u', join(__dirname, 'server.py')], {
      stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, OPENBLAS_NUM_THREADS: t, OMP_NUM_THREADS: t, MKL_NUM_THREADS: t },
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let at: number;
      while ((at = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 1);
        if (line.trim()) this.answer(line);
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) process.stderr.write(`  [python ${interpreter.python}] ${line}\n`);
    });
    const fail = (e: Error): void => {
      this.exited = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.child.on('error', fail);
    this.child.on('exit', (code, signal) => fail(new Error(`python server ${interpreter.executable} exited (${signal ?? code})`)));
  }

  private answer(line: string): void {
    const msg = JSON.parse(line) as { id: number; ok: boolean; result?: unknown; error?: string };
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`python (${this.interpreter.executable}): ${msg.error}`));
  }

  call<T>(cmd: string, args: object = {}): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(`${JSON.stringify({ id, cmd, args })}\n`);
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}
