// `legion dashboard` opens the link only where a desktop can show it: a graphical
// session (DISPLAY or WAYLAND_DISPLAY), xdg-open on PATH, and never in CI.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserOpener } from '../../src/cli/commands/dashboard.js';

const bin = mkdtempSync(join(tmpdir(), 'legion-xdg-'));
writeFileSync(join(bin, 'xdg-open'), '#!/bin/sh\nexit 0\n');
chmodSync(join(bin, 'xdg-open'), 0o755);
afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe('browserOpener', () => {
  it('opens with xdg-open on a desktop', () => {
    expect(browserOpener({ PATH: bin, DISPLAY: ':0' })).toBe(join(bin, 'xdg-open'));
    expect(browserOpener({ PATH: `/nonexistent:${bin}`, WAYLAND_DISPLAY: 'wayland-0' })).toBe(join(bin, 'xdg-open'));
  });

  it('only prints the link without a display, without xdg-open, or in CI', () => {
    expect(browserOpener({ PATH: bin })).toBeNull();
    expect(browserOpener({ PATH: bin, DISPLAY: '' })).toBeNull();
    expect(browserOpener({ PATH: '/nonexistent', DISPLAY: ':0' })).toBeNull();
    expect(browserOpener({ PATH: bin, DISPLAY: ':0', CI: 'true' })).toBeNull();
  });
});
