// The app's state: inventory, filters, tabs. Components read and call this; logic lives in plain modules.
import type { ApiError, AppInfo, Instance, Inventory } from '../generated/bindings';
import * as backend from './backend';
import type { AwsProfileName, SessionOrigin } from './backend';
import { toApiError } from './errors';
import { filterInstances, NO_FILTERS, type Filters } from './filter';
import { ConnectionsState } from './connections.svelte';
import { ForwardsState } from './forwards.svelte';
import { IdentityState } from './identity.svelte';
import { parseRegions, regionsPrefKey } from './identityText';
import { readCachedInventory, sameRegions, writeCachedInventory } from './inventoryCache';
import { readPref, writePref, clampFontSize, FONT_SIZE, storage } from './prefs';
import { ProfilesState } from './profiles.svelte';
import { SessionTab } from './session.svelte';
import { sortInstances, type Sort } from './sort';
import type { TabRequest } from './tabRequest';

function loadRegions(info: AppInfo): string[] {
  if (info.e2e) return [...info.default_regions];
  return parseRegions(readPref(regionsPrefKey(null))) ?? [...info.default_regions];
}

export class AppState {
  info = $state<AppInfo | null>(null);
  /** The AWS profile this window lists and connects as (null: the default chain). */
  awsProfile = $state<AwsProfileName>(null);
  infoError = $state<ApiError | null>(null);
  regionChoices = $state<string[]>([]);
  selectedRegions = $state<string[]>([]);
  inventory = $state.raw<Inventory | null>(null);
  loading = $state(false);
  loadError = $state<ApiError | null>(null);
  loadedAt = $state<number | null>(null);
  /** The rows are the last run's (from the cache), shown until this run's listing arrives. */
  inventoryStale = $state(false);
  filters = $state<Filters>({ ...NO_FILTERS });
  sort = $state<Sort>({ key: 'name', dir: 'asc' });
  tabs = $state<SessionTab[]>([]);
  /** null: the Instances tab. */
  activeKey = $state<number | null>(null);
  fontSize = $state<number>(clampFontSize(Number(readPref('fontSize')) || FONT_SIZE.default));
  /** The instance the connect dialog is open for. */
  connectTarget = $state<Instance | null>(null);
  /** Saved connection profiles (the sidebar). */
  readonly profiles: ProfilesState = new ProfilesState(this);
  /** The window's AWS identity: profiles of ~/.aws/config, who it is, sign-in and MFA. */
  readonly identity: IdentityState = new IdentityState(this);
  /** The backend's shared SSH connections (how many tabs each carries). */
  readonly connections: ConnectionsState = new ConnectionsState();
  /** Saved port forwards running on the pooled connections. */
  readonly forwards: ForwardsState = new ForwardsState(this);
  private loadSeq = 0;

  readonly all = $derived(this.inventory?.instances ?? []);
  readonly sorted = $derived(sortInstances(this.all, this.sort));
  readonly visible = $derived(filterInstances(this.sorted, this.filters));
  /** Regions the loaded inventory could not list. */
  readonly failedRegions = $derived(new Set((this.inventory?.errors ?? []).map((e) => e.region)));
  /** The selected regions the loaded inventory speaks for (listed without an error). */
  readonly okRegions = $derived(this.selectedRegions.filter((r) => !this.failedRegions.has(r)));
  readonly activeTab = $derived(this.tabs.find((t) => t.key === this.activeKey) ?? null);
  /** Index of the active tab among all tabs (0 = Instances). */
  readonly activeIndex = $derived(this.activeKey === null ? 0 : this.tabs.findIndex((t) => t.key === this.activeKey) + 1);

  /** The regions of the last run's list shown at start (see the constructor). */
  private cachedRegions: string[] | null = null;

  constructor() {
    // The last run's rows are there when the UI first renders, before any call to the backend.
    const cached = readCachedInventory(storage(), this.awsProfile);
    if (cached) {
      this.inventory = cached.inventory;
      this.loadedAt = cached.savedAt;
      this.inventoryStale = true;
      this.cachedRegions = cached.regions;
    }
  }

  async init(onInfo?: (info: AppInfo) => void): Promise<void> {
    try {
      const info = await backend.appInfo();
      this.info = info;
      this.selectedRegions = loadRegions(info);
      onInfo?.(info);
      // Rows of other regions than this run lists would mislead until the listing lands.
      if (this.inventoryStale && this.cachedRegions && !sameRegions(this.cachedRegions, this.selectedRegions)) this.dropStale();
    } catch (e) {
      this.infoError = toApiError(e);
      return;
    }
    void this.refresh();
    void this.identity.init();
    await this.identity.loadRegionChoices(this.awsProfile);
  }

  async refresh(): Promise<void> {
    const regions = [...this.selectedRegions];
    const seq = ++this.loadSeq;
    this.loading = true;
    this.loadError = null;
    try {
      const inv = await backend.listInstances(this.awsProfile, regions);
      if (seq !== this.loadSeq) return;
      this.inventory = inv;
      this.loadedAt = Date.now();
      this.inventoryStale = false;
      writeCachedInventory(storage(), { awsProfile: this.awsProfile, regions, savedAt: this.loadedAt, inventory: inv });
    } catch (e) {
      if (seq !== this.loadSeq) return;
      this.loadError = toApiError(e);
      // The last run's rows are no answer for this identity now.
      if (this.inventoryStale) this.dropStale();
    } finally {
      if (seq === this.loadSeq) this.loading = false;
    }
  }

  private dropStale(): void {
    this.inventory = null;
    this.loadedAt = null;
    this.inventoryStale = false;
  }

  setRegions(regions: string[]): void {
    const uniq = [...new Set(regions)];
    if (uniq.join() === this.selectedRegions.join()) return;
    this.selectedRegions = uniq;
    this.identity.rememberRegions(uniq);
    void this.refresh();
  }

  clearFilters(): void {
    this.filters = { ...NO_FILTERS };
  }

  /** A new session tab; by default as this window's AWS profile, from no saved profile. */
  openTab(request: TabRequest, origin: SessionOrigin = { awsProfile: this.awsProfile, profile: null }): SessionTab {
    const tab = new SessionTab(request, origin, () => void this.connections.refresh());
    this.tabs = [...this.tabs, tab];
    this.activeKey = tab.key;
    return tab;
  }

  closeTab(key: number): void {
    const i = this.tabs.findIndex((t) => t.key === key);
    if (i < 0) return;
    const tab = this.tabs[i]!;
    tab.close();
    this.tabs = this.tabs.filter((t) => t.key !== key);
    if (this.activeKey === key) {
      const next = this.tabs[Math.min(i, this.tabs.length - 1)];
      this.activeKey = next ? next.key : null;
    }
  }

  /** 0 = Instances, 1.. = sessions. */
  activate(index: number): void {
    if (index <= 0) { this.activeKey = null; return; }
    const t = this.tabs[Math.min(index, this.tabs.length) - 1];
    if (t) this.activeKey = t.key;
  }

  cycle(delta: number): void {
    const n = this.tabs.length + 1;
    this.activate((((this.activeIndex + delta) % n) + n) % n);
  }

  zoom(delta: number | null): void {
    this.fontSize = delta === null ? FONT_SIZE.default : clampFontSize(this.fontSize + delta);
    writePref('fontSize', String(this.fontSize));
  }
}

export const app = new AppState();
