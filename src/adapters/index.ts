// The adapters machi ships, by the registry's `vendor` value.
import type { VendorAdapter } from './adapter.ts';
import { gatewayCsv } from './gateway-csv.ts';
import { lpwaHex } from './lpwa-hex.ts';
import { machiJson } from './machi-json.ts';

const ADAPTERS = new Map<string, VendorAdapter>([machiJson, lpwaHex, gatewayCsv].map((a) => [a.format, a]));

export function adapterFor(format: string): VendorAdapter | undefined {
  return ADAPTERS.get(format);
}
