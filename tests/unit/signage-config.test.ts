// What a sign's page is given, and the messages files it reads every word from.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { Languages } from '../../src/schemas/common.ts';
import { topics } from '../../src/schemas/topics.ts';
import { signConfig } from '../../src/web/signage/sign-config.ts';

const registry = loadRegistry('devices');
const config = loadConfig({ MACHI_SIGNAGE_PASSWORD: 'sign-secret-123', MACHI_SIGNAGE_ROTATE_S: '12' });
const messages = Object.fromEntries(
  Languages.map((l) => [l, JSON.parse(readFileSync(`src/web/signage/messages/${l}.json`, 'utf8'))]),
) as Record<string, Record<string, string>>;

describe('signConfig', () => {
  it('gives a sign its topics, login name (never a password), timings and names in every language', () => {
    const sign = signConfig('takeo-onsen-station', registry, config);
    expect(sign?.topics).toEqual({
      congestion: topics.signageCongestion('takeo-onsen-station'),
      notice: topics.signageNotice('takeo-onsen-station'),
      heartbeat: topics.signageHeartbeat('takeo-onsen-station'),
    });
    expect(sign?.mqtt).toEqual({
      path: '/mqtt',
      username: 'signage/takeo-onsen-station',
    });
    expect(JSON.stringify(sign)).not.toContain('sign-secret-123');
    expect(sign?.rotateS).toBe(12);
    expect(sign?.nearby.map((n) => n.id)).toEqual(['onsen-romon', 'library', 'tourism-hall']);
    expect(sign?.nearby[0]?.topic).toBe(topics.signageCongestion('onsen-romon'));
    for (const lang of Languages) expect(sign?.name[lang]).toBeTruthy();
    expect(sign?.areaShelters).toEqual(['takeo-culture-hall', 'takeo-elementary']);
    expect(sign?.shelters['kitagata-community-hall']?.ko).toBe('기타가타 공민관');
  });

  it('fills missing Chinese and Korean names from Japanese and English', () => {
    // The registry gives areas only ja and en names.
    const sign = signConfig('city-hall', registry, config);
    expect(sign?.area.name['zh-Hant']).toBe('武雄町');
    expect(sign?.area.name.ko).toBe('Takeo town centre');
  });

  it("gives a sign without a people counter its area's counted sites, nearby ones first", () => {
    expect(signConfig('takeo-onsen-station', registry, config)?.counted).toBe(true);
    const sign = signConfig('city-hall', registry, config);
    expect(sign?.counted).toBe(false);
    expect(sign?.nearby.map((n) => n.id)).toEqual([
      'library',
      'takeo-onsen-station',
      'onsen-romon',
      'tourism-hall',
      'mifuneyama',
      'ogusu-park',
    ]);
    expect(sign?.visitUrl).toBe('/visit/city-hall');
  });

  it('has no config for a site without a sign or an unknown site', () => {
    expect(signConfig('library', registry, config)).toBeUndefined();
    expect(signConfig('nowhere', registry, config)).toBeUndefined();
  });
});

describe('signage messages files', () => {
  const keys = (lang: string) => Object.keys(messages[lang] ?? {}).sort();

  it('have the same keys in all five languages, none empty', () => {
    for (const lang of Languages) {
      expect(keys(lang)).toEqual(keys('ja'));
      for (const value of Object.values(messages[lang] ?? {})) expect(value.trim()).not.toBe('');
    }
  });

  it('hold every key the sign and the visitor page ask for, including each level and notice key', () => {
    const read = (files: string[]) => files.map((f) => readFileSync(f, 'utf8')).join('\n');
    const js = read(
      ['signage/public/sign.js', 'signage/public/common.js', 'visit/public/visit.js'].map(
        (f) => `src/web/${f}`,
      ),
    );
    const html = read(['signage/public/sign.html', 'visit/public/visit.html'].map((f) => `src/web/${f}`));
    const literal = [
      ...js.matchAll(/\b(?:t|fill)\('([\w.-]+)'/g),
      ...html.matchAll(/data-msg="([\w.-]+)"/g),
    ].map((m) => m[1]);
    const computed = [
      ...['not-crowded', 'somewhat-crowded', 'crowded', 'unknown'].map((l) => `level.${l}`),
      ...['flood.warning', 'flood.emergency'].map((k) => `notice.${k}`),
      'status.offline',
      'status.stale',
      'status.waiting',
      'nearby',
      'areaSites',
    ];
    expect(literal.length).toBeGreaterThan(5);
    for (const key of [...literal, ...computed]) expect(keys('ja'), key).toContain(key);
  });
});
