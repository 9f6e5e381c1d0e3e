// pino JSON logs with `agent`, `trace` and `event` fields; LEGION_LOG_FORMAT=text
// gives one readable line per record for humans. LEGION_LOG_LEVEL sets the level.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(bindings: Record<string, string> = {}, destination?: pino.DestinationStream): Logger {
  const level = process.env.LEGION_LOG_LEVEL ?? 'info';
  const options: pino.LoggerOptions = { level, base: { pid: process.pid, ...bindings } };
  if (process.env.LEGION_LOG_FORMAT === 'text') {
    return pino(options, destination ?? textDestination());
  }
  return destination ? pino(options, destination) : pino(options);
}

function textDestination(): pino.DestinationStream {
  return {
    write(line: string) {
      const record = JSON.parse(line) as Record<string, unknown>;
      const { time, level, msg, pid: _pid, hostname: _host, ...rest } = record;
      const when = new Date(Number(time)).toISOString();
      const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
      process.stderr.write(`${when} ${pino.levels.labels[Number(level)] ?? level} ${String(msg ?? '')}${extra}\n`);
    },
  };
}
