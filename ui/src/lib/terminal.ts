// One xterm.js instance with its addons: fit, search, web links, unicode 11, and WebGL or DOM.
import { Terminal, type ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon, type ISearchOptions } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebglAddon } from '@xterm/addon-webgl';
import '@xterm/xterm/css/xterm.css';
import { defaultRenderer, type Renderer } from './platform';
import { readPref } from './prefs';
import { type Backlog, writeTracked } from './flowControl';
import { escapeTerminalText } from './terminalText';

export const MONO_STACK =
  "ui-monospace, 'SF Mono', 'Cascadia Mono', 'JetBrains Mono', 'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace";

const DARK: ITheme = {
  background: '#0f1218', foreground: '#d6dbe4', cursor: '#7aa7ff', cursorAccent: '#0f1218',
  selectionBackground: '#2d4a7a99', selectionInactiveBackground: '#2d4a7a55',
  black: '#1b1f27', red: '#f0717a', green: '#8fd18b', yellow: '#e8c36a', blue: '#6fa6ff',
  magenta: '#c79bf2', cyan: '#5fd0d6', white: '#c9cfd9',
  brightBlack: '#5b6474', brightRed: '#ff8c94', brightGreen: '#a6e3a1', brightYellow: '#f5d68a',
  brightBlue: '#8ab8ff', brightMagenta: '#d7b2f7', brightCyan: '#7fe3e8', brightWhite: '#f3f5f8',
  scrollbarSliderBackground: '#ffffff22', scrollbarSliderHoverBackground: '#ffffff38',
  scrollbarSliderActiveBackground: '#ffffff4d',
};

const LIGHT: ITheme = {
  background: '#fbfbfc', foreground: '#24292f', cursor: '#2f6fdb', cursorAccent: '#fbfbfc',
  selectionBackground: '#9cc3ff88', selectionInactiveBackground: '#9cc3ff55',
  black: '#24292f', red: '#c8313e', green: '#1f7a3a', yellow: '#8a6100', blue: '#1f5fc4',
  magenta: '#8340b8', cyan: '#127c85', white: '#6e7781',
  brightBlack: '#57606a', brightRed: '#e0464f', brightGreen: '#2a9248', brightYellow: '#a87400',
  brightBlue: '#2f6fdb', brightMagenta: '#9a55cf', brightCyan: '#1a9199', brightWhite: '#8c959f',
  scrollbarSliderBackground: '#00000022', scrollbarSliderHoverBackground: '#00000038',
  scrollbarSliderActiveBackground: '#0000004d',
};

const darkQuery = typeof matchMedia !== 'undefined' ? matchMedia('(prefers-color-scheme: dark)') : null;
export const currentTheme = (): ITheme => (darkQuery?.matches ? DARK : LIGHT);

export type SearchState = { index: number; count: number };

/** What an OSC 8 link asks before it opens: its text on screen may say anything, so the user
 *  sees the real address first, as terminals do (escaped: a bidi override cannot disguise it). */
export const confirmLinkText = (uri: string): string =>
  `Open this link in your browser?\n\n${escapeTerminalText(uri)}`;

export class TerminalController {
  readonly term: Terminal;
  readonly renderer: Renderer;
  private readonly fit = new FitAddon();
  private readonly search = new SearchAddon();
  private webgl: WebglAddon | null = null;
  /** Told of each session chunk once xterm has parsed it (the e2e hook counts what arrived). */
  onParsed: ((bytes: Uint8Array) => void) | null = null;
  /** Called when WebGL is lost and the DOM renderer takes over. */
  onRendererChange: ((r: 'WebGL' | 'DOM') => void) | null = null;
  private readonly onTheme = () => { this.term.options.theme = currentTheme(); };

  /**
   * `openLink` is the app's one http(s)-only opener: web links (Ctrl/Cmd+click on a URL in the
   * output) and OSC 8 hyperlinks (after `confirmLink`) both go there, never to the webview.
   */
  constructor(
    host: HTMLElement, fontSize: number, openLink: (url: string) => void,
    confirmLink: (question: string) => boolean = (q) => window.confirm(q),
  ) {
    this.term = new Terminal({
      scrollback: 10_000,
      fontFamily: MONO_STACK,
      fontSize,
      lineHeight: 1.15,
      cursorBlink: true,
      cursorStyle: 'bar',
      allowProposedApi: true,
      macOptionIsMeta: true,
      rightClickSelectsWord: true,
      theme: currentTheme(),
      drawBoldTextInBrightColors: false,
      minimumContrastRatio: 1,
      // OSC 8 hyperlinks: http(s) only (xterm drops other schemes), and asked first.
      linkHandler: {
        allowNonHttpProtocols: false,
        activate: (_event, uri) => { if (confirmLink(confirmLinkText(uri))) openLink(uri); },
      },
    });
    this.term.loadAddon(this.fit);
    this.term.loadAddon(this.search);
    this.term.loadAddon(new Unicode11Addon());
    this.term.unicode.activeVersion = '11';
    this.term.loadAddon(new WebLinksAddon((event, uri) => {
      if (event.ctrlKey || event.metaKey) openLink(uri);
    }));
    this.term.open(host);
    this.renderer = defaultRenderer(navigator.userAgent, readPref('renderer'));
    if (this.renderer === 'webgl') this.enableWebgl();
    darkQuery?.addEventListener('change', this.onTheme);
  }

  private enableWebgl(): void {
    try {
      const addon = new WebglAddon();
      addon.onContextLoss(() => {
        // Disposing the addon hands rendering back to the DOM renderer.
        addon.dispose();
        this.webgl = null;
        this.onRendererChange?.('DOM');
      });
      this.term.loadAddon(addon);
      this.webgl = addon;
    } catch {
      this.webgl = null; // no WebGL2: the DOM renderer stays
    }
  }

  get usingWebgl(): boolean {
    return this.webgl !== null;
  }

  /** Fits to the container; null when the container is hidden (0×0). */
  fitNow(): { cols: number; rows: number } | null {
    const el = this.term.element?.parentElement;
    if (!el || el.clientWidth < 20 || el.clientHeight < 20) return null;
    const dims = this.fit.proposeDimensions();
    if (!dims || !Number.isFinite(dims.cols) || !Number.isFinite(dims.rows)) return null;
    const cols = Math.max(2, dims.cols);
    const rows = Math.max(1, dims.rows);
    if (cols !== this.term.cols || rows !== this.term.rows) this.term.resize(cols, rows);
    return { cols, rows };
  }

  /** Session output; resolves when the terminal has room for more (see flowControl.ts). */
  write(bytes: Uint8Array, backlog: Backlog): Promise<void> {
    return writeTracked(this.term, bytes, backlog, this.onParsed ?? undefined);
  }

  /** Local text (banners, resets) that does not come from the session: outside the flow control. */
  writeText(text: string): void {
    this.term.write(text);
  }

  /** Local bytes straight into xterm, resolving once xterm has parsed them (the bench's baseline). */
  writeLocal(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.term.write(bytes, resolve));
  }

  setFontSize(px: number): void {
    this.term.options.fontSize = px;
  }

  find(query: string, opts: { caseSensitive: boolean; backwards?: boolean; incremental?: boolean }): boolean {
    if (!query) { this.search.clearDecorations(); return false; }
    const dark = darkQuery?.matches;
    const o: ISearchOptions = {
      caseSensitive: opts.caseSensitive,
      incremental: opts.incremental ?? false,
      decorations: {
        matchBackground: dark ? '#5a4a1a' : '#fff0b3',
        matchOverviewRuler: '#e8c36a',
        activeMatchBackground: dark ? '#b8860b' : '#ffb020',
        activeMatchColorOverviewRuler: '#ffb020',
      },
    };
    return opts.backwards ? this.search.findPrevious(query, o) : this.search.findNext(query, o);
  }

  onSearchResults(cb: (s: SearchState) => void): void {
    this.search.onDidChangeResults((r) => cb({ index: r.resultIndex, count: r.resultCount }));
  }

  clearSearch(): void {
    this.search.clearDecorations();
    this.term.clearSelection();
  }

  /** The whole buffer as text: wrapped rows joined, trailing spaces and trailing empty lines dropped. */
  /** The buffer as text; only its last `lastRows` rows when given (cheap enough to poll). */
  text(lastRows?: number): string {
    const buf = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = lastRows === undefined ? 0 : Math.max(0, buf.length - lastRows); y < buf.length; y++) {
      const line = buf.getLine(y);
      if (!line) continue;
      const s = line.translateToString(true);
      if (line.isWrapped && lines.length) lines[lines.length - 1] += s;
      else lines.push(s);
    }
    while (lines.length && lines[lines.length - 1]!.trimEnd() === '') lines.pop();
    return lines.map((l) => l.trimEnd()).join('\n');
  }

  dispose(): void {
    darkQuery?.removeEventListener('change', this.onTheme);
    this.term.dispose();
  }
}
