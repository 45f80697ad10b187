import { describe, expect, it } from 'vitest';
import { filterWithin, mayPublish, maySubscribe } from '../../src/broker/acl.ts';
import type { Principal } from '../../src/broker/principal.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { topics } from '../../src/schemas/topics.ts';

const registry = loadRegistry('devices');
const sensor: Principal = { role: 'device', device: registry.devices.get('fs-takeo-001') as never };
const camera: Principal = { role: 'device', device: registry.devices.get('pc-library-1') as never };
const sign: Principal = { role: 'signage', siteId: 'city-hall' };
const office: Principal = { role: 'office', user: 'office', officeRole: 'operator' };
const service: Principal = { role: 'service' };
const anonymous: Principal = { role: 'anonymous' };

describe('topic filter containment', () => {
  it.each([
    ['a/b/c', 'a/b/c', true],
    ['a/b/c', 'a/+/c', true],
    ['a/b/c', 'a/#', true],
    ['a/+/c', 'a/b/c', false],
    ['a/#', 'a/+', false],
    ['#', 'a/#', false],
    ['a/b', 'a/b/c', false],
    ['a/b/c/d', 'a/+/c', false],
    ['a/+/c', 'a/+/c', true],
  ])('%s within %s: %s', (inner, outer, expected) => {
    expect(filterWithin(inner, outer)).toBe(expected);
  });
});

describe('ACL', () => {
  it('lets a device publish only under its own id and kind', () => {
    expect(mayPublish(sensor, topics.floodReading('fs-takeo-001'))).toBe(true);
    expect(mayPublish(sensor, topics.heartbeat('flood', 'fs-takeo-001'))).toBe(true);
    expect(mayPublish(sensor, topics.floodReading('fs-takeo-002'))).toBe(false);
    expect(mayPublish(sensor, topics.crowdCount('fs-takeo-001'))).toBe(false);
    expect(mayPublish(sensor, topics.deviceStatus('flood', 'fs-takeo-001'))).toBe(false);
    expect(mayPublish(camera, topics.crowdCount('pc-library-1'))).toBe(true);
  });

  it('lets a device subscribe only to its own config', () => {
    expect(maySubscribe(sensor, topics.deviceConfig('flood', 'fs-takeo-001'))).toBe(true);
    expect(maySubscribe(sensor, '#')).toBe(false);
    expect(maySubscribe(sensor, 'takeo/v1/flood/+/config')).toBe(false);
  });

  it('keeps signs to public topics and their own heartbeat', () => {
    expect(maySubscribe(sign, topics.signageCongestion('library'))).toBe(true);
    expect(maySubscribe(sign, 'takeo/v1/signage/+/notice')).toBe(true);
    expect(maySubscribe(sign, topics.alertsActive('takeo-town'))).toBe(false);
    expect(maySubscribe(sign, 'takeo/v1/#')).toBe(false);
    expect(mayPublish(sign, topics.signageHeartbeat('city-hall'))).toBe(true);
    expect(mayPublish(sign, topics.signageHeartbeat('library'))).toBe(false);
    expect(mayPublish(sign, topics.signageCongestion('city-hall'))).toBe(false);
  });

  it('lets only the office acknowledge alerts, and the services publish what signs read', () => {
    expect(mayPublish(office, topics.alertAck('asahi'))).toBe(true);
    const viewer: Principal = { role: 'office', user: 'suzuki', officeRole: 'viewer' };
    expect(mayPublish(viewer, topics.alertAck('asahi'))).toBe(false);
    expect(maySubscribe(viewer, 'takeo/v1/#')).toBe(true);
    expect(mayPublish(sign, topics.alertAck('asahi'))).toBe(false);
    expect(mayPublish(service, topics.alertAck('asahi'))).toBe(false);
    expect(mayPublish(service, topics.signageNotice('city-hall'))).toBe(true);
    expect(mayPublish(service, topics.floodReading('fs-takeo-001'))).toBe(false);
    expect(maySubscribe(office, 'takeo/v1/#')).toBe(true);
  });

  it('gives anonymous demo clients read-only public signage', () => {
    expect(maySubscribe(anonymous, topics.signageCongestion('city-hall'))).toBe(true);
    expect(mayPublish(anonymous, topics.signageHeartbeat('city-hall'))).toBe(false);
    expect(maySubscribe(anonymous, 'takeo/v1/#')).toBe(false);
  });
});
