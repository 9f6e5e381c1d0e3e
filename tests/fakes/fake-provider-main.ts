// Runs the fake provider as its own process, for end-to-end tests whose mesh runs apart
// from the test: `tsx tests/fakes/fake-provider-main.ts [port]`. Answers with
// directiveResponder; prints exactly one JSON line, {"url": ...}, once it listens; the
// calls it received are at GET <url>/fake/calls. FAKE_PROVIDER_API_KEY, when set, is
// the only key it accepts. Stops on SIGTERM or SIGINT.
import { startFakeProvider } from './fake-provider.js';

const portArgument = process.argv[2];
const port = portArgument === undefined ? 0 : Number(portArgument);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`usage: fake-provider-main [port]; "${portArgument}" is not a port\n`);
  process.exit(2);
}
const apiKey = process.env.FAKE_PROVIDER_API_KEY;
const fake = await startFakeProvider(apiKey ? { port, apiKey } : { port });
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);

const stop = (): void => {
  fake.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
