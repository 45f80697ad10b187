// A last will the broker publishes when the device drops: outside the ACL, or a bad payload on the
// device's own topic. Either way it must be dead-lettered like a PUBLISH.
import { pick } from '../../fuzz-random.ts';
import type { Draft, FuzzContext } from './input.ts';
import { ownTopicCase } from './own-topic.ts';
import { notAuthorizedCase, protocolRefused } from './topics.ts';

export function willCase(ctx: FuzzContext, family: string): Draft {
  const { rng } = ctx;
  if (rng.next() < 0.5) {
    const { login, publish } = notAuthorizedCase(
      ctx,
      pick(rng, ['foreign-topic', 'unknown-device-topic', 'odd-topic']),
    );
    if (publish && !protocolRefused(publish.topic) && !publish.topic.includes('\u0000'))
      return {
        family,
        login,
        packets: [],
        will: publish,
        expect: { kind: 'will', reasons: ['NOT_AUTHORIZED'] },
      };
  }
  for (;;) {
    const made = ownTopicCase(
      ctx,
      pick(rng, ['wrong-type', 'nan-string', 'huge-number', 'invalid-utf8', 'empty']),
    );
    if (made.expect.kind === 'dead-letter' && made.publish)
      return {
        family,
        login: made.login,
        packets: [],
        will: made.publish,
        expect: { kind: 'will', reasons: made.expect.reasons },
      };
  }
}
