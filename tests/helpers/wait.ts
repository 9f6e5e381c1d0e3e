// Polling for end-to-end tests: what happens in containers and other processes is
// observed, not awaited, so tests wait for it with a bound and say what they waited for.
export async function waitFor<T>(
  probe: () => Promise<T | null> | T | null,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
