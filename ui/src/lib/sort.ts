import type { Instance } from '../generated/bindings';

export type SortKey =
  | 'name' | 'instance_id' | 'state' | 'instance_type' | 'private_ip' | 'public_ip'
  | 'availability_zone' | 'region' | 'launch_time';
export type SortDir = 'asc' | 'desc';
export type Sort = { key: SortKey; dir: SortDir };

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** IPv4 as a number (so 10.0.0.9 < 10.0.0.10); null if not IPv4. */
export function ipv4Number(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  return m.slice(1).reduce((n, p) => n * 256 + Number(p), 0);
}

const STATE_ORDER: Record<string, number> = {
  running: 0, pending: 1, stopping: 2, stopped: 3, 'shutting-down': 4, terminated: 5,
};

/** The sortable value of a column; null (and an empty name) always sort last. */
function value(inst: Instance, key: SortKey): string | number | null {
  switch (key) {
    case 'name': return inst.name ? inst.name : null;
    case 'state': return STATE_ORDER[inst.state] ?? 9;
    case 'launch_time': {
      const t = inst.launch_time ? Date.parse(inst.launch_time) : NaN;
      return Number.isNaN(t) ? null : t;
    }
    case 'private_ip': case 'public_ip': {
      const ip = inst[key];
      return ip === null ? null : ipv4Number(ip) ?? ip;
    }
    default: return inst[key];
  }
}

function compareValues(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return collator.compare(a, b);
}

/** A stable sort; nulls last in both directions; ties broken by name then instance id. */
export function sortInstances(list: readonly Instance[], sort: Sort): Instance[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const keyed = list.map((inst, i) => ({ inst, v: value(inst, sort.key), i }));
  keyed.sort((x, y) => {
    if (x.v === null || y.v === null) {
      if (x.v === null && y.v !== null) return 1;
      if (y.v === null && x.v !== null) return -1;
    } else {
      const c = compareValues(x.v, y.v);
      if (c !== 0) return c * sign;
    }
    if (sort.key !== 'name') {
      const xn = x.inst.name || null, yn = y.inst.name || null;
      if (xn !== yn) {
        if (xn === null) return 1;
        if (yn === null) return -1;
        const c = collator.compare(xn, yn);
        if (c !== 0) return c;
      }
    }
    const c = collator.compare(x.inst.instance_id, y.inst.instance_id);
    return c !== 0 ? c : x.i - y.i;
  });
  return keyed.map((k) => k.inst);
}

/** Clicking a header: same column flips the direction, another column starts ascending
 *  (launch time starts newest first). */
export function nextSort(current: Sort, key: SortKey): Sort {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { key, dir: key === 'launch_time' ? 'desc' : 'asc' };
}
