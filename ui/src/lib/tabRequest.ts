// What a session tab connects to, and the part of it the backend is sent.
import type { ConnectRequest, Instance, Via } from '../generated/bindings';

/** The instance as listed (for what the tab shows) and how to connect to it. */
export type TabRequest = { instance: Instance; os_user: string; port: number; via: Via };

/** What the backend is sent: names only. It looks the instance up itself and dials only an
 *  address AWS reported, so nothing here can point it elsewhere. */
export function toConnectRequest(r: TabRequest): ConnectRequest {
  return { region: r.instance.region, instance_id: r.instance.instance_id, os_user: r.os_user, port: r.port, via: r.via };
}
