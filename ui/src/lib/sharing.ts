// Which pooled SSH connection a tab is on, and how the UI says that it is shared.
import type { PoolEntry, PoolKey } from '../generated/bindings';
import type { AwsProfileName } from './backend';
import { toConnectRequest, type TabRequest } from './tabRequest';

/** The backend's pool key of a tab: the same AWS profile, instance, user, port and path share. */
export function poolKeyOf(awsProfile: AwsProfileName, request: TabRequest): PoolKey {
  const r = toConnectRequest(request);
  return { aws_profile: awsProfile, region: r.region, instance_id: r.instance_id, os_user: r.os_user, port: r.port, via: r.via };
}

export function sameKey(a: PoolKey, b: PoolKey): boolean {
  return a.aws_profile === b.aws_profile && a.region === b.region && a.instance_id === b.instance_id
    && a.os_user === b.os_user && a.port === b.port && a.via === b.via;
}

/** Tabs on the connection `key` names (0: no such connection, or idle). */
export function channelsOn(entries: readonly PoolEntry[], key: PoolKey): number {
  return entries.find((e) => sameKey(e, key))?.channels ?? 0;
}

/** The status bar's words, only when the connection is shared. */
export function sharingText(channels: number): string | null {
  return channels > 1 ? `${channels} tabs share this connection` : null;
}
