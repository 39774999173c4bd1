# The floor of any WebKitGTK app: one window, one web view, a near-empty page (no Keyless code).
# bench.mjs measures its memory (PSS per process) in the same run as the app's. Prints "ready"
# once the page has loaded; quits by itself after 120 s in case nobody ends it.
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402

window = Gtk.Window(title="Keyless floor")
window.set_default_size(1280, 800)
view = WebKit2.WebView()
window.add(view)


def loaded(_view, event):
    if event == WebKit2.LoadEvent.FINISHED:
        print("ready", flush=True)


view.connect("load-changed", loaded)
view.load_html("<!doctype html><html><body><p>floor</p></body></html>", "about:blank")
window.connect("destroy", Gtk.main_quit)
window.show_all()
GLib.timeout_add_seconds(120, Gtk.main_quit)
Gtk.main()
sys.exit(0)
