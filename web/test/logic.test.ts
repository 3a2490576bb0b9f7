// Pure logic of the app, run by node's test runner after esbuild bundles it (npm test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKeys, setLang, t, tv } from '../src/i18n';
import { isRecording, isJointSpace, roleLabel, spaceLabel, spacesFromMeta, type RoomMeta } from '../src/meta';
import { elapsed } from '../src/dom';
import type { Participant } from 'livekit-client';

const person = (attributes: Record<string, string>, name = 'x') => ({ attributes, name, identity: name }) as unknown as Participant;

test('every key has Chinese and English, and their {params} match', () => {
  for (const k of allKeys()) {
    setLang('zh');
    const zh = t(k);
    setLang('en');
    const en = t(k);
    assert.ok(zh && en, k);
    const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
    assert.equal(params(zh), params(en), `params of ${k}`);
  }
  setLang('zh');
});

test('params are filled, unknown ones kept', () => {
  setLang('en');
  assert.equal(t('lobby_elapsed', { t: '01:02' }), 'Waiting for 01:02');
  assert.equal(t('lobby_elapsed'), 'Waiting for {t}');
  setLang('zh');
  assert.equal(t('lobby_elapsed', { t: '01:02' }), '已等待 01:02');
});

test('domain values translate, unknown ones pass through', () => {
  setLang('zh');
  assert.equal(tv('role', 'judge'), '法官');
  assert.equal(tv('cat', 'labour_wages'), '劳动工资');
  assert.equal(tv('role', 'astronaut'), 'astronaut');
  assert.equal(tv('role', ''), '');
});

test('recording indicator per space', () => {
  const cases: [RoomMeta, string, boolean][] = [
    [{}, 'joint', false],
    [{}, 'main', false],
    [{ recording: true }, 'main', true], // a plain room
    [{ recording: true, spaces: { joint: { recording: true } } }, 'joint', true],
    [{ recording: true, spaces: { joint: { recording: true } } }, '', false], // the lobby
    [{ recording: true, spaces: { joint: { recording: true }, 'caucus-applicant': { recording: false } } }, 'caucus-applicant', false],
    [{ recording: true, spaces: { joint: { recording: false }, 'caucus-applicant': { recording: true } } }, 'caucus-applicant', true],
    [{ recording: true, spaces: { joint: { recording: true } } }, 'caucus-x', false], // not listed
  ];
  for (const [m, space, want] of cases) assert.equal(isRecording(m, space), want, JSON.stringify([m, space]));
});

test('spaces and their names', () => {
  setLang('en');
  const m: RoomMeta = { spaces: { joint: {}, 'caucus-applicant': { recording: false } } };
  assert.deepEqual(spacesFromMeta(m), ['joint', 'caucus-applicant']);
  assert.ok(isJointSpace('joint') && isJointSpace('main') && isJointSpace('') && !isJointSpace('caucus-x'));
  assert.equal(spaceLabel('joint', []), 'Joint session');
  assert.equal(spaceLabel('caucus-applicant', ['王金牌']), 'Private room with 王金牌');
  assert.equal(spaceLabel('caucus-applicant', []), 'Caucus with Applicant side');
  assert.equal(spaceLabel('caucus-z', []), 'Private room');
  setLang('zh');
});

test('role labels', () => {
  setLang('zh');
  assert.equal(roleLabel(person({ role: 'party', side: 'respondent' })), '被申请人');
  assert.equal(roleLabel(person({ role: 'agent', side: 'applicant' })), '代理人 · 申请方');
  assert.equal(roleLabel(person({ role: 'host' })), '主持人');
  assert.equal(roleLabel(person({ role: 'host' }), 'mediation'), '调解员');
  assert.equal(roleLabel(person({ role: 'host' }), 'reception'), '领导');
  assert.equal(roleLabel(person({})), '');
});

test('elapsed time', () => {
  assert.equal(elapsed(0), '00:00');
  assert.equal(elapsed(61_000), '01:01');
  assert.equal(elapsed(3_661_000), '1:01:01');
  assert.equal(elapsed(-5), '00:00');
});
