// The mesh's credential store: service secrets are the LEGION_CRED_* values of the
// project's environment (process environment over .env), read at each use so a
// reloaded project counts. Invariants: it lives in the mesh only; no error it throws
// carries a secret (they name the variable to set); a secret too short to be scrubbed
// reliably is refused rather than sent; the scrubber covers every LEGION_CRED_* value,
// not just the ones a request used, so no credential leaks through another's request.
import { LegionError } from '../../shared/errors.js';
import { credentialVariable } from './handles.js';
import { createScrubber, MIN_SECRET_CHARS, type Scrubber } from './scrub.js';

const PREFIX = 'LEGION_CRED_';

export class CredentialStore {
  private readonly env: () => Readonly<Record<string, string>>;
  // Compiling the scrubber costs more than using it; the environment object changes
  // only when the project is reloaded.
  private readonly scrubbers = new WeakMap<object, Scrubber>();

  constructor(env: () => Readonly<Record<string, string>>) {
    this.env = env;
  }

  /** The secret behind `$CRED{name}`; throws credential_missing or credential_too_short. */
  secret(name: string): string {
    const variable = credentialVariable(name);
    const value = this.env()[variable];
    if (value === undefined || value === '') {
      throw new LegionError(
        'credential_missing',
        `$CRED{${name}} has no secret: set ${variable} in the project's .env (or the mesh's environment) and restart the mesh`,
      );
    }
    if ([...value].length < MIN_SECRET_CHARS) {
      throw new LegionError(
        'credential_too_short',
        `${variable} is shorter than ${MIN_SECRET_CHARS} characters, too short to be scrubbed reliably from answers and logs; set it to the real secret`,
      );
    }
    return value;
  }

  /** Scrubs every LEGION_CRED_* value of the current environment. */
  scrubber(): Scrubber {
    const env = this.env();
    let scrubber = this.scrubbers.get(env);
    if (!scrubber) {
      scrubber = createScrubber(Object.entries(env).flatMap(([key, value]) => (key.startsWith(PREFIX) ? [value] : [])));
      this.scrubbers.set(env, scrubber);
    }
    return scrubber;
  }
}
