// Webhook signature against vectors computed outside machi (`openssl dgst -sha256 -hmac`), so a
// receiver in any language that follows the README verifies what machi sends.
import { describe, expect, it } from 'vitest';
import { signature } from '../../src/alerts/webhooks.ts';

describe('webhook signature', () => {
  it.each([
    ['k3y', '1700000000', '{"a":1}', 'fd5a70e965043f7df6309c2c3b5ff5a8ffa99b1f5175e9a311459e73c4634d4a'],
    ['k3y', '1700000000', '{"a":2}', 'd898a5094fb23a53d7e69a270655b87b3414b03579ea77160ec3a597a6bd72a4'],
    ['k3y', '1700000001', '{"a":1}', 'e78ff42a57abd7c8f1a22cffa7ab6ee560011b0fdd3507905c32a778296aec40'],
    ['other', '1700000000', '{"a":1}', '2cb38bd50b3aa61b12df512da616c9577f2a99edb9467110d361a655e1ad3bd5'],
  ])('secret %s, timestamp %s, body %s', (secret, timestamp, body, hex) => {
    expect(signature(secret, timestamp, body)).toBe(`sha256=${hex}`);
  });
});
