// legion blackboard get|set|list|del|watch, and the REPL's /blackboard, over the admin
// API. Keys, prefixes and values are checked here against the same wire schemas the
// mesh uses, so a typo fails before any request; values print as pretty JSON on
// stdout and metadata goes to stderr, so `legion blackboard get k > file` is the value.
import { InvalidArgumentError, type Command } from 'commander';
import { parseOrThrow } from '../../shared/validate.js';
import {
  BLACKBOARD_LIST_MAX,
  BlackboardDeleteResultSchema,
  BlackboardEntrySchema,
  BlackboardKeySchema,
  BlackboardPageSchema,
  BlackboardPrefixSchema,
  BlackboardPutBodySchema,
  BlackboardWatchResponseSchema,
  BlackboardWriteResultSchema,
  type BlackboardChange,
  type BlackboardEntry,
  type JsonValue,
} from '../../shared/wire/blackboard.js';
import { MeshClient } from '../mesh-client.js';
import { formatTable } from '../render.js';
import { commandAction, projectDir } from '../run.js';

/** Long enough to keep requests rare, well under the mesh's 60 s cap. */
const WATCH_POLL_S = 30;

function entryPath(route: 'entries' | 'history', key: string): string {
  const checked = parseOrThrow(BlackboardKeySchema, key, 'key');
  return `/api/blackboard/${route}/${checked.split('/').map(encodeURIComponent).join('/')}`;
}

function wholeNumber(option: string): (text: string) => number {
  return (text) => {
    if (!/^\d{1,15}$/.test(text)) throw new InvalidArgumentError(`${option} expects a whole number, got "${text}"`);
    return Number(text);
  };
}

/** `42`, `true`, `{"a":1}` and `"quoted"` are JSON; anything else is taken as a plain string. */
export function parseCliValue(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

function describeEntry(
  entry: Pick<BlackboardEntry, 'key' | 'version' | 'writer' | 'updated_at' | 'expires_at'>,
): string {
  const expires = entry.expires_at ? `, expires ${entry.expires_at}` : '';
  return `${entry.key}: version ${entry.version} by ${entry.writer}, updated ${entry.updated_at}${expires}`;
}

function formatEntries(entries: BlackboardEntry[], prefix: string): string {
  if (entries.length === 0) return `no entries under ${prefix ? `"${prefix}"` : 'the blackboard'}`;
  return formatTable([
    ['KEY', 'VERSION', 'WRITER', 'UPDATED'],
    ...entries.map((e) => [e.key, String(e.version), e.writer, e.updated_at]),
  ]);
}

function formatChange(change: BlackboardChange): string {
  return `${change.seq} ${change.op} ${change.key} v${change.version} by ${change.writer}`;
}

async function getEntry(client: MeshClient, key: string): Promise<BlackboardEntry> {
  return client.requestJson('GET', entryPath('entries', key), BlackboardEntrySchema);
}

/** One page, or every page when `all` (following next_cursor). `more` says a page was left unread. */
async function listEntries(
  client: MeshClient,
  prefix: string,
  limit: number | undefined,
  all: boolean,
): Promise<{ entries: BlackboardEntry[]; more: boolean }> {
  const checked = parseOrThrow(BlackboardPrefixSchema, prefix, 'prefix');
  const entries: BlackboardEntry[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ prefix: checked });
    if (limit !== undefined) query.set('limit', String(limit));
    if (cursor !== null) query.set('cursor', cursor);
    const page = await client.requestJson('GET', `/api/blackboard?${query.toString()}`, BlackboardPageSchema);
    entries.push(...page.entries);
    cursor = page.next_cursor;
  } while (all && cursor !== null);
  return { entries, more: cursor !== null };
}

export function registerBlackboard(program: Command): void {
  const blackboard = program
    .command('blackboard')
    .description("read and write the fleet's shared blackboard (JSON values by key)");

  blackboard
    .command('get <key>')
    .description('print the value of a key (pretty JSON); version, writer and time go to stderr')
    .option('--json', 'print the whole entry as JSON')
    .action(
      commandAction(async (key: string, options: { json?: boolean }) => {
        const entry = await getEntry(MeshClient.connect(projectDir()), key);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${JSON.stringify(entry.value, null, 2)}\n`);
        process.stderr.write(`${describeEntry(entry)}\n`);
      }),
    );

  blackboard
    .command('set <key> <value>')
    .description(
      'write a value: parsed as JSON when it is JSON (42, true, {"a":1}, \'"42"\'), else stored as a string; prints `set <key> (version N)`',
    )
    .option(
      '--expected-version <n>',
      'write only if the key is at this version now (0: only if it does not exist)',
      wholeNumber('--expected-version'),
    )
    .option('--ttl <seconds>', 'let the entry expire after this many seconds', wholeNumber('--ttl'))
    .action(
      commandAction(async (key: string, value: string, options: { expectedVersion?: number; ttl?: number }) => {
        const body = parseOrThrow(
          BlackboardPutBodySchema,
          { value: parseCliValue(value), expected_version: options.expectedVersion, ttl_s: options.ttl },
          'arguments',
        );
        const result = await MeshClient.connect(projectDir()).requestJson(
          'PUT',
          entryPath('entries', key),
          BlackboardWriteResultSchema,
          body,
        );
        process.stdout.write(`set ${result.key} (version ${result.version})\n`);
        process.stderr.write(`${describeEntry(result)}\n`);
      }),
    );

  blackboard
    .command('list [prefix]')
    .description('list keys under a prefix (all keys without one), in key order')
    .option('--limit <n>', `entries per page (at most ${BLACKBOARD_LIST_MAX})`, wholeNumber('--limit'))
    .option('--all', 'follow the pages to the end')
    .action(
      commandAction(async (prefix: string | undefined, options: { limit?: number; all?: boolean }) => {
        const { entries, more } = await listEntries(
          MeshClient.connect(projectDir()),
          prefix ?? '',
          options.limit,
          options.all === true,
        );
        process.stdout.write(`${formatEntries(entries, prefix ?? '')}\n`);
        if (more) process.stderr.write('(more entries: add --all to list them all)\n');
      }),
    );

  blackboard
    .command('del <key>')
    .description('delete a key (its history stays)')
    .option(
      '--expected-version <n>',
      'delete only if the key is at this version now',
      wholeNumber('--expected-version'),
    )
    .action(
      commandAction(async (key: string, options: { expectedVersion?: number }) => {
        const query = options.expectedVersion === undefined ? '' : `?expected_version=${options.expectedVersion}`;
        const result = await MeshClient.connect(projectDir()).requestJson(
          'DELETE',
          `${entryPath('entries', key)}${query}`,
          BlackboardDeleteResultSchema,
        );
        process.stdout.write(`deleted ${result.key} (recorded as version ${result.version})\n`);
      }),
    );

  blackboard
    .command('watch [prefix]')
    .description('print each change under a prefix as it happens (seq op key version writer), until Ctrl-C')
    .action(
      commandAction(async (prefix: string | undefined) => {
        const client = MeshClient.connect(projectDir());
        const checked = parseOrThrow(BlackboardPrefixSchema, prefix ?? '', 'prefix');
        process.stderr.write(`watching ${checked ? `"${checked}"` : 'the whole blackboard'} (Ctrl-C to stop)\n`);
        let since: number | null = null;
        for (;;) {
          const query = new URLSearchParams({ prefix: checked, timeout_s: String(WATCH_POLL_S) });
          if (since !== null) query.set('since', String(since));
          const answer = await client.requestJson(
            'GET',
            `/api/blackboard/watch?${query.toString()}`,
            BlackboardWatchResponseSchema,
          );
          for (const change of answer.changes) process.stdout.write(`${formatChange(change)}\n`);
          since = answer.last_seq;
        }
      }),
    );
}

const REPL_USAGE = 'usage: /blackboard [prefix] lists entries; /blackboard get <key> shows one';

/** The REPL's /blackboard: no argument or a prefix lists (first page); `get <key>` shows a value. */
export async function blackboardReplCommand(client: MeshClient, args: string[]): Promise<string> {
  const [first, second, ...rest] = args;
  if (first === 'get') {
    if (second === undefined || rest.length > 0) return REPL_USAGE;
    const entry = await getEntry(client, second);
    return `${JSON.stringify(entry.value, null, 2)}\n${describeEntry(entry)}`;
  }
  if (second !== undefined) return REPL_USAGE;
  const prefix = first ?? '';
  const { entries, more } = await listEntries(client, prefix, undefined, false);
  const hint = more ? `\n(more entries: legion blackboard list ${prefix} --all)` : '';
  return `${formatEntries(entries, prefix)}${hint}`;
}
