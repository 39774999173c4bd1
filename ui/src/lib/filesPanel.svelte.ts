// One tab's Files panel: the SFTP session on the tab's connection, the folder shown, and the
// transfers started from it. Reopened on the new session after a reconnect, in the same folder.
import type { ApiError, DroppedFiles, RemoteEntry, TransferStarted, TransferUpdate } from '../generated/bindings';
import type { FilesBackend } from './backend';
import { toApiError } from './errors';
import { joinPath, nameProblem, parentOf, visibleEntries, type FileSort } from './files';
import { applyUpdate, newTransfer, type Transfer } from './transfers';

export class FilesState {
  /** The panel is shown. */
  shown = $state(false);
  /** The session the SFTP session is open on (null: none yet). */
  session = $state<number | null>(null);
  opening = $state(false);
  home = $state<string | null>(null);
  dir = $state<string | null>(null);
  entries = $state.raw<RemoteEntry[]>([]);
  loading = $state(false);
  /** Why the panel could not open or list `dir`. */
  error = $state<ApiError | null>(null);
  /** Why the last action (new folder, rename, delete, transfer start) failed. */
  actionError = $state<ApiError | null>(null);
  sort = $state<FileSort>({ key: 'name', dir: 'asc' });
  showHidden = $state(false);
  /** The selected entry's path. */
  selected = $state<string | null>(null);
  transfers = $state<Transfer[]>([]);
  /** Decides whether a drop at (x, y) landed on this panel (set by the component). */
  dropTarget: ((x: number, y: number) => boolean) | null = null;

  readonly visible = $derived(visibleEntries(this.entries, this.sort, this.showHidden));
  readonly selectedEntry = $derived(this.entries.find((e) => e.path === this.selected) ?? null);

  private listSeq = 0;

  constructor(private readonly api: FilesBackend) {}

  /** Opens SFTP on `session` (a reconnect: the new one, in the folder shown before). */
  async attach(session: number): Promise<void> {
    if (this.session === session || this.opening) return;
    const old = this.session;
    this.opening = true;
    this.error = null;
    try {
      if (old !== null) void this.api.filesClose(old).catch(() => {});
      const home = await this.api.filesOpen(session, (d) => this.onDrop(d));
      this.session = session;
      this.home = home;
      await this.cd(this.dir ?? home);
    } catch (e) {
      this.error = toApiError(e);
    } finally {
      this.opening = false;
    }
  }

  /** Lists `dir` and shows it (the previous folder stays on screen until the answer comes). */
  async cd(dir: string): Promise<void> {
    const session = this.session;
    if (session === null) return;
    const seq = ++this.listSeq;
    this.loading = true;
    try {
      const entries = await this.api.filesList(session, dir);
      if (seq !== this.listSeq) return;
      if (this.dir !== dir) this.selected = null;
      this.dir = dir;
      this.entries = entries;
      this.error = null;
    } catch (e) {
      if (seq !== this.listSeq) return;
      this.error = toApiError(e);
    } finally {
      if (seq === this.listSeq) this.loading = false;
    }
  }

  up(): Promise<void> {
    return this.dir ? this.cd(parentOf(this.dir)) : Promise.resolve();
  }

  refresh(): Promise<void> {
    return this.dir ? this.cd(this.dir) : Promise.resolve();
  }

  /** Runs an action on the open session; its failure shows in the panel. True when it worked. */
  private async act(run: (session: number) => Promise<unknown>): Promise<boolean> {
    if (this.session === null) return false;
    this.actionError = null;
    try {
      await run(this.session);
      return true;
    } catch (e) {
      this.actionError = toApiError(e);
      return false;
    }
  }

  private invalid(problem: string): false {
    this.actionError = { kind: 'invalid_input', message: problem, hint: null, fix: null };
    return false;
  }

  async mkdir(name: string): Promise<boolean> {
    const problem = nameProblem(name);
    if (problem || !this.dir) return this.invalid(problem ?? 'No folder is open.');
    const path = joinPath(this.dir, name);
    const ok = await this.act((s) => this.api.filesMkdir(s, path));
    if (ok) { await this.refresh(); this.selected = path; }
    return ok;
  }

  async rename(entry: RemoteEntry, name: string): Promise<boolean> {
    if (name === entry.name) return true;
    const problem = nameProblem(name);
    if (problem) return this.invalid(problem);
    const to = joinPath(parentOf(entry.path), name);
    const ok = await this.act((s) => this.api.filesRename(s, entry.path, to));
    if (ok) { await this.refresh(); this.selected = to; }
    return ok;
  }

  /** Deletes `entry`; a folder with all it holds (the caller asked the user first). */
  async remove(entry: RemoteEntry): Promise<boolean> {
    const ok = await this.act((s) => this.api.filesDelete(s, entry.path, entry.kind === 'dir'));
    if (ok) { this.selected = null; await this.refresh(); }
    return ok;
  }

  /** The native picker (in the backend), then an upload into the folder shown. */
  upload(): Promise<void> {
    const dir = this.dir;
    if (!dir) return Promise.resolve();
    return this.track((s, on) => this.api.filesUpload(s, dir, on), dir);
  }

  /** A native folder picker, then a download of the selected entry into it. */
  download(entry: RemoteEntry | null = this.selectedEntry): Promise<void> {
    if (!entry) return Promise.resolve();
    return this.track((s, on) => this.api.filesDownload(s, [entry.path], on), null);
  }

  private onDrop(d: DroppedFiles): void {
    const dir = this.dir;
    if (!this.shown || !dir || !this.dropTarget?.(d.x, d.y)) return;
    void this.track((s, on) => this.api.filesUploadDropped(s, d.drop, dir, on), dir);
  }

  /** Starts a transfer and follows it; an upload into the folder shown refreshes it at the end. */
  private async track(
    start: (session: number, onUpdate: (u: TransferUpdate) => void) => Promise<TransferStarted | null>,
    into: string | null,
  ): Promise<void> {
    // Updates may come before the answer: held until the transfer's row exists.
    const early: TransferUpdate[] = [];
    let transfer: Transfer | null = null;
    const onUpdate = (u: TransferUpdate) => {
      if (!transfer) { early.push(u); return; }
      applyUpdate(transfer, u, Date.now());
      if (u.type !== 'file' && into !== null && into === this.dir) void this.refresh();
    };
    await this.act(async (s) => {
      const started = await start(s, onUpdate);
      if (!started) return;
      this.transfers.unshift(newTransfer(started));
      transfer = this.transfers[0]!; // the reactive proxy, so updates show
      early.splice(0).forEach(onUpdate);
    });
  }

  cancel(t: Transfer): void {
    if (this.session === null || t.state !== 'running') return;
    void this.api.filesCancel(this.session, t.id).catch((e: unknown) => { this.actionError = toApiError(e); });
  }

  /** Removes finished transfers from the list (running ones stay). */
  clearFinished(): void {
    this.transfers = this.transfers.filter((t) => t.state === 'running');
  }
}
