// The backend's pooled SSH connections, asked for again whenever a session event may have changed
// them (a tab connected, ended, was lost or closed).
import type { PoolEntry } from '../generated/bindings';
import * as backend from './backend';
import type { SessionTab } from './session.svelte';
import { channelsOn, poolKeyOf } from './sharing';

export class ConnectionsState {
  entries = $state.raw<PoolEntry[]>([]);
  /** Answers to an older ask never overwrite a newer one. */
  private seq = 0;

  constructor(private readonly status: () => Promise<PoolEntry[]> = backend.connectionStatus) {}

  async refresh(): Promise<void> {
    const seq = ++this.seq;
    try {
      const entries = await this.status();
      if (seq === this.seq) this.entries = entries;
    } catch {
      // Only a count on the status bar: the next session event asks again.
    }
  }

  /** How many tabs share `tab`'s connection (0 unless it is connected). */
  sharedBy(tab: SessionTab): number {
    if (tab.status !== 'connected') return 0;
    return channelsOn(this.entries, poolKeyOf(tab.origin.awsProfile, tab.request));
  }
}
