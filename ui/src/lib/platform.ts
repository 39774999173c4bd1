export type Renderer = 'dom' | 'webgl';

/** WebKitGTK (Tauri on Linux): Linux without Chrome/Chromium/Edge in the user agent. */
export function isWebKitGTK(ua: string): boolean {
  return /Linux/.test(ua) && !/Chrome|Chromium|Edg\//.test(ua);
}

/**
 * DOM on WebKitGTK (WebGL there has caused 1–1.6 s keypress lag), WebGL elsewhere; a
 * `keyless.renderer` = dom | webgl in localStorage overrides.
 */
export function defaultRenderer(ua: string, override: string | null = null): Renderer {
  if (override === 'dom' || override === 'webgl') return override;
  return isWebKitGTK(ua) ? 'dom' : 'webgl';
}

export const isMac = (ua: string): boolean => /Mac OS X|Macintosh/.test(ua);
