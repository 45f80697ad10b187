// Small DOM and MQTT helpers shared by the sign and the office console (served at /assets/page.js).

export const $ = (id) => document.getElementById(id);

/** An element with properties and children; text always goes in through textContent. */
export const el = (tag, props = {}, children = []) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

/** A JSON payload, or undefined for an empty (cleared retained) or unreadable one. */
export function parsePayload(payload) {
  if (payload.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return undefined;
  }
}

/** MQTT over WebSocket on the page's own host and port. */
export const mqttUrl = (path) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
