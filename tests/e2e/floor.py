#!/usr/bin/python3
# The floor of any WebKitGTK app: one window, one web view, no Keyless code. bench.mjs measures it
# in the same run as the app:
#   floor.py                      a near-empty page: memory, and start → first frame
#   (under WebKitWebDriver)       the same page, driven: the driver launches it with
#                                 WEBKIT_INSPECTOR_SERVER set; timed exactly as the app's start
#   floor.py --xterm DIR --cols C --rows R --scrollback N
#                                 xterm.js alone (DIR: its npm package) with the app's scrollback;
#                                 each "flood BYTES" line on stdin writes BYTES of "x" into it twice,
#                                 as the bench floods the app's tab: what xterm.js itself keeps after
# Prints "ready MS" once the page has painted its first frame (MS since this script started),
# "flooded MS1 MS2" after each flood; quits by itself after 300 s in case nobody ends it.
import argparse
import json
import os
import pathlib
import sys
import time

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402

started = time.monotonic()

# Two animation frames after the script runs: the first frame is on screen.
PAINTED = "requestAnimationFrame(() => requestAnimationFrame(() => { document.title = 'painted'; }));"

# 1 MiB pieces, each written once xterm has parsed the one before (at most ~1 MiB queued, as the
# app's page holds). Resolves with the milliseconds the two floods took.
FLOOD = """
const piece = 'x'.repeat(1 << 20);
const once = (left) => new Promise((done) => {
  const step = () => {
    if (left <= 0) { term.write('\\r\\n', done); return; }
    const n = Math.min(left, piece.length);
    left -= n;
    term.write(n === piece.length ? piece : piece.slice(0, n), step);
  };
  step();
});
const times = [];
for (let i = 0; i < 2; i++) { const t0 = performance.now(); await once(bytes); times.push(performance.now() - t0); }
return times;
"""


def page(args):
    if not args.xterm:
        return f"<!doctype html><html><body><p>floor</p><script>{PAINTED}</script></body></html>", "about:blank"
    lib = pathlib.Path(args.xterm).resolve()
    options = json.dumps({"cols": args.cols, "rows": args.rows, "scrollback": args.scrollback})
    html = f"""<!doctype html><html><head><link rel="stylesheet" href="css/xterm.css">
<script src="lib/xterm.js"></script></head><body style="margin:0">
<div id="t" style="width:100vw;height:100vh"></div>
<script>window.term = new Terminal({options}); term.open(document.getElementById('t')); {PAINTED}</script>
</body></html>"""
    return html, lib.as_uri() + "/"


def allow_automation(view):
    """WebKitWebDriver's session drives this view (as wry lets it drive the app's)."""
    context = view.get_context()
    context.set_automation_allowed(True)

    def started(_context, session):
        info = WebKit2.ApplicationInfo()
        info.set_name("keyless-floor")
        info.set_version(1, 0, 0)
        session.set_application_info(info)
        session.connect("create-web-view", lambda _session: view)

    context.connect("automation-started", started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--xterm", help="xterm.js's npm package directory")
    parser.add_argument("--cols", type=int, default=150)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--scrollback", type=int, default=10_000)
    args = parser.parse_args()

    window = Gtk.Window(title="Keyless floor")
    window.set_default_size(1280, 800)
    driven = "WEBKIT_INSPECTOR_SERVER" in os.environ
    view = WebKit2.WebView(is_controlled_by_automation=driven)
    if driven:
        allow_automation(view)
    window.add(view)

    def titled(_view, _param):
        if view.get_title() == "painted":
            print(f"ready {(time.monotonic() - started) * 1000:.0f}", flush=True)

    def flooded(_view, result):
        times = view.call_async_javascript_function_finish(result).to_json(0)
        print("flooded " + " ".join(f"{t:.0f}" for t in json.loads(times)), flush=True)

    def command(channel, _condition):
        line = channel.readline()
        if not line:
            Gtk.main_quit()
            return False
        words = line.split()
        if words[:1] == ["flood"]:
            bytes_ = GLib.Variant("d", float(words[1]))
            view.call_async_javascript_function(
                FLOOD, -1, GLib.Variant("a{sv}", {"bytes": bytes_}), None, None, None, flooded
            )
        return True

    view.connect("notify::title", titled)
    html, base = page(args)
    view.load_html(html, base)
    window.connect("destroy", Gtk.main_quit)
    view.connect("close", lambda _view: window.destroy())  # WebDriver ending its session
    window.show_all()
    if not driven:  # the driver's stdin is not ours to read (and may be closed)
        GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.IO_IN | GLib.IO_HUP, command)
    GLib.timeout_add_seconds(300, Gtk.main_quit)
    Gtk.main()


if __name__ == "__main__":
    main()
    sys.exit(0)
