// How many turns one history page holds. Apart from history.ts (zod) because the CLI
// prints them in `legion chat --help` and `chat -m` loads no zod.
export const HISTORY_DEFAULT_LIMIT = 20;
export const HISTORY_MAX_LIMIT = 200;
