// Which volume an agent mounts: only one labelled for its project; a legacy volume of
// another project (or of none) is left alone with a notice naming adopt-volume.
import { describe, expect, it } from 'vitest';
import { chooseVolume, legacyVolumeName, projectVolumeName } from '../../src/mesh/runtime/volumes.js';
import { checkVolumes } from '../../src/cli/doctor/volumes.js';

const ours = (name: string) => ({ name, labels: { 'legion.project': 'p1', 'legion.agent': 'assistant' } });
const theirs = (name: string) => ({ name, labels: { 'legion.project': 'p2' } });
const unlabelled = (name: string) => ({ name, labels: {} });

describe('agent volume choice', () => {
  it('names a new volume by project and agent and creates it', () => {
    expect(chooseVolume('p1', 'assistant', null, null)).toEqual({
      action: 'use',
      name: 'legion-p1-assistant',
      create: true,
      notice: null,
    });
    expect(projectVolumeName('p1', 'assistant')).not.toBe(projectVolumeName('p2', 'assistant'));
  });

  it('adopts a legacy volume only when its label names this project', () => {
    expect(chooseVolume('p1', 'assistant', null, ours('legion_data_assistant'))).toEqual({
      action: 'use',
      name: 'legion_data_assistant',
      create: false,
      notice: null,
    });
  });

  it('leaves an unlabelled or foreign legacy volume alone and says how to copy it', () => {
    for (const legacy of [unlabelled(legacyVolumeName('assistant')), theirs(legacyVolumeName('assistant'))]) {
      const choice = chooseVolume('p1', 'assistant', null, legacy);
      expect(choice).toMatchObject({ action: 'use', name: 'legion-p1-assistant', create: true });
      expect(choice.action === 'use' && choice.notice).toContain(
        'legion agent adopt-volume assistant legion_data_assistant',
      );
    }
  });

  it('refuses a volume with the project name but another project label', () => {
    expect(chooseVolume('p1', 'assistant', theirs('legion-p1-assistant'), null)).toMatchObject({ action: 'refuse' });
  });

  it('doctor warns about a foreign legacy volume with the command, and fails on a foreign project volume', () => {
    const results = checkVolumes([
      {
        agent: 'assistant',
        choice: chooseVolume('p1', 'assistant', ours('legion-p1-assistant'), unlabelled('legion_data_assistant')),
      },
      { agent: 'coder', choice: chooseVolume('p1', 'coder', theirs('legion-p1-coder'), null) },
    ]);
    expect(results.map((r) => r.status)).toEqual(['warn', 'fail']);
    expect(results[0]?.hint).toBe('legion agent adopt-volume assistant legion_data_assistant');
    expect(checkVolumes([{ agent: 'a', choice: chooseVolume('p1', 'a', null, null) }])[0]?.status).toBe('ok');
  });
});
