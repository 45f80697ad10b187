// One description of an NGSI-LD entity, rendered two ways: key-values (what the Smart Data Models
// schemas validate) and normalized (each attribute a Property, GeoProperty or Relationship, with
// observedAt and unitCode where machi knows them). Both come from the same attributes, so they
// cannot say different things.

export type AttrKind = 'Property' | 'GeoProperty' | 'Relationship';

export interface Attr {
  kind: AttrKind;
  value: unknown;
  /** When the value was measured (ISO 8601). */
  observedAt?: string;
  /** UN/CEFACT code, e.g. MTR for metres. */
  unitCode?: string;
  /** A date-time value: typed as such in normalized form. */
  dateTime?: boolean;
}

export interface Entity {
  id: string;
  type: string;
  attrs: Record<string, Attr>;
}

export type Rendered = Record<string, unknown>;

export function keyValues(e: Entity): Rendered {
  const out: Rendered = { id: e.id, type: e.type };
  for (const [name, a] of Object.entries(e.attrs)) out[name] = a.value;
  return out;
}

export function normalized(e: Entity): Rendered {
  const out: Rendered = { id: e.id, type: e.type };
  for (const [name, a] of Object.entries(e.attrs)) {
    const attr: Rendered =
      a.kind === 'Relationship'
        ? { type: 'Relationship', object: a.value }
        : {
            type: a.kind,
            value: a.dateTime ? { '@type': 'DateTime', '@value': a.value } : a.value,
          };
    if (a.observedAt) attr.observedAt = a.observedAt;
    if (a.unitCode) attr.unitCode = a.unitCode;
    out[name] = attr;
  }
  return out;
}

export const prop = (value: unknown, extra: Omit<Attr, 'kind' | 'value'> = {}): Attr => ({
  kind: 'Property',
  value,
  ...extra,
});
export const date = (value: string): Attr => ({ kind: 'Property', value, dateTime: true });
export const rel = (object: string): Attr => ({ kind: 'Relationship', value: object });
export const point = (lat: number, lon: number): Attr => ({
  kind: 'GeoProperty',
  // GeoJSON: longitude first.
  value: { type: 'Point', coordinates: [lon, lat] },
});
