import type { Instance, Via } from '../generated/bindings';

/** The usual EC2 Instance Connect user for an AMI's PlatformDetails. */
export function defaultOsUser(platform: string | null): string {
  const p = (platform ?? '').toLowerCase();
  if (p.includes('ubuntu')) return 'ubuntu';
  if (p.includes('debian')) return 'admin';
  return 'ec2-user';
}

/** The subset of Storage we need (localStorage in the app, a Map in tests). */
export type KeyValueStore = Pick<Storage, 'getItem' | 'setItem'>;

const key = (instanceId: string) => `keyless.osUser.${instanceId}`;

/** The OS user last used for this instance, else the platform's default. */
export function osUserFor(inst: Pick<Instance, 'instance_id' | 'platform'>, store: KeyValueStore | null): string {
  let remembered: string | null = null;
  try { remembered = store?.getItem(key(inst.instance_id)) ?? null; } catch { /* storage disabled */ }
  return remembered && remembered.trim() ? remembered : defaultOsUser(inst.platform);
}

export function rememberOsUser(instanceId: string, user: string, store: KeyValueStore | null): void {
  try { store?.setItem(key(instanceId), user.trim()); } catch { /* storage full or disabled */ }
}

/** Which address choices an instance allows. */
export function viaOptions(inst: Pick<Instance, 'private_ip' | 'public_ip'>): Record<Via, boolean> {
  return {
    private: inst.private_ip !== null,
    public: inst.public_ip !== null,
    eice: inst.private_ip !== null,
    auto: inst.private_ip !== null || inst.public_ip !== null,
  };
}

const viaKey = (instanceId: string) => `keyless.via.${instanceId}`;
const VIAS: readonly Via[] = ['private', 'public', 'eice', 'auto'];

/** The address choice last used for this instance (if the instance still allows it), else the default. */
export function viaFor(inst: Pick<Instance, 'instance_id' | 'private_ip' | 'public_ip'>, store: KeyValueStore | null): Via {
  let remembered: string | null = null;
  try { remembered = store?.getItem(viaKey(inst.instance_id)) ?? null; } catch { /* storage disabled */ }
  const via = VIAS.find((v) => v === remembered);
  return via && viaOptions(inst)[via] ? via : defaultVia(inst);
}

export function rememberVia(instanceId: string, via: Via, store: KeyValueStore | null): void {
  try { store?.setItem(viaKey(instanceId), via); } catch { /* storage full or disabled */ }
}

/** Private when there is one (the core's default), else public, else auto (fails with a hint). */
export function defaultVia(inst: Pick<Instance, 'private_ip' | 'public_ip'>): Via {
  if (inst.private_ip !== null) return 'private';
  if (inst.public_ip !== null) return 'public';
  return 'auto';
}

/** OS user names sshd and EC2 Instance Connect accept (what keyless-core validates). */
export function validOsUser(user: string): boolean {
  return /^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$/.test(user);
}

export function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}
