// Writes Takeo's demo registry (devices/*.yaml). Run once: `npx tsx scripts/generate-takeo-registry.ts`.
// Positions are scattered deterministically around each flood-prone area; secrets are the demo
// secrets (src/registry/secrets.ts), stored only as scrypt hashes.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { demoSecret, hashSecret } from '../src/registry/secrets.ts';

let state = 20210814;
const rand = () => {
  state = (state * 1103515245 + 12345) % 2 ** 31;
  return state / 2 ** 31;
};
const round = (v: number) => Math.round(v * 10000) / 10000;

const areas = [
  {
    id: 'takeo-town',
    name: { ja: '武雄町', en: 'Takeo town centre' },
    lat: 33.194,
    lon: 130.019,
    emergencyDepthCm: 30,
    emergencySpread: 0.4,
    shelters: [
      {
        id: 'takeo-culture-hall',
        name: {
          ja: '武雄市文化会館',
          en: 'Takeo Culture Hall',
          'zh-Hans': '武雄市文化会馆',
          'zh-Hant': '武雄市文化會館',
          ko: '다케오시 문화회관',
        },
        lat: 33.1923,
        lon: 130.0168,
      },
      {
        id: 'takeo-elementary',
        name: {
          ja: '武雄小学校',
          en: 'Takeo Elementary School',
          'zh-Hans': '武雄小学',
          'zh-Hant': '武雄小學',
          ko: '다케오 초등학교',
        },
        lat: 33.1958,
        lon: 130.0149,
      },
    ],
  },
  {
    id: 'kitagata',
    name: { ja: '北方町', en: 'Kitagata' },
    lat: 33.21,
    lon: 130.06,
    emergencyDepthCm: 30,
    emergencySpread: 0.4,
    shelters: [
      {
        id: 'kitagata-community-hall',
        name: {
          ja: '北方公民館',
          en: 'Kitagata Community Hall',
          'zh-Hans': '北方公民馆',
          'zh-Hant': '北方公民館',
          ko: '기타가타 공민관',
        },
        lat: 33.2104,
        lon: 130.0572,
      },
    ],
  },
  {
    id: 'asahi',
    name: { ja: '朝日町', en: 'Asahi' },
    lat: 33.17,
    lon: 130.05,
    emergencyDepthCm: 30,
    emergencySpread: 0.4,
    shelters: [
      {
        id: 'asahi-community-hall',
        name: {
          ja: '朝日公民館',
          en: 'Asahi Community Hall',
          'zh-Hans': '朝日公民馆',
          'zh-Hant': '朝日公民館',
          ko: '아사히 공민관',
        },
        lat: 33.1716,
        lon: 130.0468,
      },
    ],
  },
  {
    id: 'tachibana',
    name: { ja: '橘町', en: 'Tachibana' },
    lat: 33.17,
    lon: 129.99,
    emergencyDepthCm: 30,
    emergencySpread: 0.4,
    shelters: [
      {
        id: 'tachibana-community-hall',
        name: {
          ja: '橘公民館',
          en: 'Tachibana Community Hall',
          'zh-Hans': '橘公民馆',
          'zh-Hant': '橘公民館',
          ko: '다치바나 공민관',
        },
        lat: 33.1702,
        lon: 129.9931,
      },
    ],
  },
];

const sites = [
  {
    id: 'takeo-onsen-station',
    name: {
      ja: '武雄温泉駅',
      en: 'Takeo-Onsen Station',
      'zh-Hans': '武雄温泉站',
      'zh-Hant': '武雄溫泉站',
      ko: '다케오온센역',
    },
    lat: 33.1946,
    lon: 130.0213,
    capacity: 600,
    signage: true,
    area: 'takeo-town',
    nearby: ['onsen-romon', 'library', 'tourism-hall'],
  },
  {
    id: 'tourism-hall',
    name: {
      ja: '武雄市観光物産館',
      en: 'Takeo Tourism and Products Hall',
      'zh-Hans': '武雄市观光物产馆',
      'zh-Hant': '武雄市觀光物產館',
      ko: '다케오시 관광물산관',
    },
    lat: 33.196,
    lon: 130.018,
    capacity: 150,
    signage: true,
    area: 'takeo-town',
    nearby: ['takeo-onsen-station', 'onsen-romon', 'mifuneyama'],
  },
  {
    id: 'city-hall',
    name: {
      ja: '武雄市役所',
      en: 'Takeo City Hall',
      'zh-Hans': '武雄市政府',
      'zh-Hant': '武雄市公所',
      ko: '다케오 시청',
    },
    lat: 33.1939,
    lon: 130.0194,
    capacity: 200,
    signage: true,
    area: 'takeo-town',
    nearby: ['library', 'takeo-onsen-station', 'onsen-romon'],
  },
  {
    id: 'onsen-romon',
    name: {
      ja: '武雄温泉楼門',
      en: 'Takeo Onsen Romon Gate',
      'zh-Hans': '武雄温泉楼门',
      'zh-Hant': '武雄溫泉樓門',
      ko: '다케오온센 로몬',
    },
    lat: 33.1934,
    lon: 130.0118,
    capacity: 300,
    area: 'takeo-town',
    nearby: ['takeo-onsen-station'],
  },
  {
    id: 'library',
    name: {
      ja: '武雄市図書館',
      en: 'Takeo City Library',
      'zh-Hans': '武雄市图书馆',
      'zh-Hant': '武雄市圖書館',
      ko: '다케오시 도서관',
    },
    lat: 33.1906,
    lon: 130.0163,
    capacity: 250,
    area: 'takeo-town',
    nearby: ['city-hall'],
  },
  {
    id: 'mifuneyama',
    name: {
      ja: '御船山楽園',
      en: 'Mifuneyama Rakuen',
      'zh-Hans': '御船山乐园',
      'zh-Hant': '御船山樂園',
      ko: '미후네야마 라쿠엔',
    },
    lat: 33.1786,
    lon: 130.0235,
    capacity: 500,
    area: 'takeo-town',
    nearby: ['takeo-onsen-station'],
  },
  {
    id: 'ogusu-park',
    name: {
      ja: '大楠公園',
      en: 'Okusu Park',
      'zh-Hans': '大楠公园',
      'zh-Hant': '大楠公園',
      ko: '오쿠스 공원',
    },
    lat: 33.189,
    lon: 130.006,
    capacity: 120,
    area: 'takeo-town',
    nearby: ['onsen-romon'],
  },
];

const vendors = ['machi-json', 'lpwa-hex', 'gateway-csv'] as const;
const counts: Record<string, number> = { 'takeo-town': 14, kitagata: 10, asahi: 9, tachibana: 9 };
const prefix: Record<string, string> = {
  'takeo-town': 'takeo',
  kitagata: 'kitagata',
  asahi: 'asahi',
  tachibana: 'tachibana',
};

const floodSensors = areas.flatMap((area) =>
  Array.from({ length: counts[area.id] ?? 0 }, (_, i) => {
    const id = `fs-${prefix[area.id]}-${String(i + 1).padStart(3, '0')}`;
    const variant = i % 4;
    const family = variant === 1 ? 'radio' : 'contact';
    return {
      id,
      kind: 'flood-sensor',
      vendor: vendors[i % 3],
      family,
      area: area.id,
      lat: round(area.lat + (rand() - 0.5) * 0.012),
      lon: round(area.lon + (rand() - 0.5) * 0.014),
      heartbeatS: family === 'radio' ? 300 : 3600,
      // 0: plain wet/dry; 1: radio floats at 10 and 40 cm (as the river office installed in 2019);
      // 2: staged 10/20/30 cm; 3: depth sensor.
      ...(variant === 1 ? { stagesCm: [10, 40] } : variant === 2 ? { stagesCm: [10, 20, 30] } : {}),
      ...(variant === 3 ? { depthThresholdsCm: { watch: 10, warning: 20 } } : {}),
      secretHash: hashSecret(demoSecret(id)),
    };
  }),
);

const cameraSites = [
  'takeo-onsen-station',
  'takeo-onsen-station',
  'onsen-romon',
  'library',
  'mifuneyama',
  'ogusu-park',
  'tourism-hall',
];
const cameras = cameraSites.map((site, i) => {
  const s = sites.find((x) => x.id === site);
  const sameSiteBefore = cameraSites.slice(0, i).filter((x) => x === site).length;
  const id = `pc-${site}-${sameSiteBefore + 1}`;
  return {
    id,
    kind: 'people-counter',
    vendor: i === 5 ? 'gateway-csv' : 'machi-json',
    site,
    lat: round((s?.lat ?? 0) + sameSiteBefore * 0.0004),
    lon: round(s?.lon ?? 0),
    heartbeatS: 600,
    intervalS: 300,
    secretHash: hashSecret(demoSecret(id)),
  };
});

const events = [
  {
    id: 'mifuneyama-azalea-2027',
    name: { ja: '御船山楽園 つつじまつり', en: 'Mifuneyama azalea festival' },
    start: '2027-04-10T09:00:00+09:00',
    end: '2027-05-05T18:00:00+09:00',
    sites: ['mifuneyama'],
    uplift: 2.2,
  },
  {
    id: 'takeo-onsen-autumn-festival-2026',
    name: { ja: '武雄温泉 秋まつり', en: 'Takeo Onsen autumn festival' },
    start: '2026-10-17T10:00:00+09:00',
    end: '2026-10-18T21:00:00+09:00',
    sites: ['onsen-romon', 'takeo-onsen-station', 'tourism-hall'],
    uplift: 1.8,
  },
  {
    id: 'mifuneyama-autumn-leaves-2026',
    name: { ja: '御船山楽園 紅葉まつり', en: 'Mifuneyama autumn leaves festival' },
    start: '2026-11-03T09:00:00+09:00',
    end: '2026-11-30T22:00:00+09:00',
    sites: ['mifuneyama'],
    uplift: 1.9,
  },
  {
    id: 'takeo-new-year-2027',
    name: { ja: '武雄神社 初詣', en: 'New Year visits to Takeo Shrine' },
    start: '2027-01-01T00:00:00+09:00',
    end: '2027-01-03T20:00:00+09:00',
    sites: ['takeo-onsen-station', 'onsen-romon'],
    uplift: 1.5,
  },
];

const header = (what: string) =>
  `# Takeo City ${what}. Approximate WGS84 positions; see shared context and README, "Device registry".\n`;
writeFileSync('devices/areas.yaml', header('flood-prone areas and shelters') + stringify({ areas }));
writeFileSync('devices/sites.yaml', header('tourist sites, capacities and signage') + stringify({ sites }));
const DEMO_MARK =
  '# The shipped demo: secrets derive from a public seed (demoSecret). Production refuses a file marked so.\n';
writeFileSync(
  'devices/flood-sensors.yaml',
  header('flood sensors (demo credentials)') + DEMO_MARK + stringify({ demo: true, devices: floodSensors }),
);
writeFileSync(
  'devices/cameras.yaml',
  header('people-counting cameras (demo credentials)') +
    DEMO_MARK +
    stringify({ demo: true, devices: cameras }),
);
writeFileSync('devices/events.yaml', header('events that lift crowds') + stringify({ events }));
console.log(
  `wrote ${floodSensors.length} flood sensors, ${cameras.length} cameras, ${sites.length} sites, ${areas.length} areas`,
);
