// Persistent sessions per device. A device may use many client ids (its id plus any suffix, a tool
// prefix: client-ids.ts), and every `clean: false` one leaves a session behind: its subscription and
// a queue of up to MACHI_MQTT_QUEUE_PER_CLIENT messages. Each drill run connects under a new id, so
// sessions pile up even without an attacker. Here each device keeps at most `max`; beyond that the
// least recently connected offline one is dropped (an online one only when none is offline).

export class SessionsPerDevice {
  /** Per device, its persistent client ids, least recently connected first. */
  private readonly sessions = new Map<string, Set<string>>();

  constructor(private readonly max: number) {}

  /**
   * `deviceId` connected as `clientId` (persistent or clean: a clean connect wipes that id's session).
   * Returns the client ids whose sessions must be dropped.
   */
  connected(
    deviceId: string,
    clientId: string,
    persistent: boolean,
    online: (id: string) => boolean,
  ): string[] {
    const ids = this.sessions.get(deviceId) ?? new Set<string>();
    ids.delete(clientId);
    if (persistent) ids.add(clientId);
    const dropped: string[] = [];
    while (ids.size > this.max) {
      const older = [...ids].filter((id) => id !== clientId);
      const victim = (older.find((id) => !online(id)) ?? older[0]) as string;
      ids.delete(victim);
      dropped.push(victim);
    }
    if (ids.size > 0) this.sessions.set(deviceId, ids);
    else this.sessions.delete(deviceId);
    return dropped;
  }
}
