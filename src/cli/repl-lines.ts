// The REPL's typed lines, read through a readline interface that can be set aside while
// something else reads the same input (the /add wizard: two readers would each see every
// keystroke, and the wizard's answers would come back as REPL lines) and is opened again
// after. Invariants: lines come out in the order typed, each once; next() resolves null
// once the input has ended or close() was called, and keeps doing so.
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export interface ReplLinesOptions {
  input: Readable;
  output: Writable;
  /** Ctrl-C in the REPL's own terminal line editing. */
  onSigint: () => void;
}

export class ReplLines {
  private readonly options: ReplLinesOptions;
  private rl: Interface | null = null;
  private readonly queue: string[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private ended = false;
  private promptText = '';

  constructor(options: ReplLinesOptions) {
    this.options = options;
    this.rl = this.open();
  }

  private open(): Interface {
    const { input, output } = this.options;
    const rl = createInterface({ input, output, terminal: 'isTTY' in input && input.isTTY === true });
    rl.setPrompt(this.promptText);
    rl.on('line', (line) => this.deliver(line));
    rl.on('SIGINT', this.options.onSigint);
    // Closed by suspend() is not the end of the input.
    rl.on('close', () => {
      if (this.rl === rl) this.finish();
    });
    return rl;
  }

  private deliver(line: string): void {
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = null;
      waiting(line);
    } else this.queue.push(line);
  }

  private finish(): void {
    this.ended = true;
    this.rl = null;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(null);
  }

  /** The next line typed; null when there will be none. */
  next(): Promise<string | null> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Shows the prompt; `keepCursor` redraws it after a line printed above it. */
  prompt(text: string, keepCursor = false): void {
    this.promptText = text;
    this.rl?.setPrompt(text);
    this.rl?.prompt(keepCursor);
  }

  /** Runs `work` with the input to itself, then reads lines again. */
  async suspend<T>(work: () => Promise<T>): Promise<T> {
    const rl = this.rl;
    this.rl = null;
    rl?.close();
    try {
      return await work();
    } finally {
      if (!this.ended) {
        if (this.options.input.readableEnded) this.finish();
        else this.rl = this.open();
      }
    }
  }

  close(): void {
    const rl = this.rl;
    this.finish();
    rl?.close();
  }
}
