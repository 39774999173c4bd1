//! The main window shows only the app's own pages. A link in the UI, a redirect or a compromised
//! script that tries to navigate the webview elsewhere would hand that page Keyless's commands;
//! such a navigation is refused here (links open in the browser through `open_url` instead).

use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Manager, Runtime, Url};

/// A plugin whose only job is to refuse navigations away from the app's origin.
pub fn guard<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("navigation-guard")
        .on_navigation(|webview, url| {
            let allowed = is_own_origin(url, dev_url(webview.config()).as_ref());
            if !allowed {
                eprintln!(
                    "keyless-app: refused to navigate the window to {}",
                    keyless_core::terminal_text::escape(url.as_str())
                );
            }
            allowed
        })
        .build()
}

/// The Vite dev server, the app's origin only in a dev build (no embedded assets).
pub fn dev_url(config: &tauri::Config) -> Option<Url> {
    if tauri::is_dev() {
        config.build.dev_url.clone()
    } else {
        None
    }
}

/// The embedded assets' origin (`tauri://localhost`; `http(s)://tauri.localhost` where a platform
/// serves custom protocols over http), or the dev server's.
pub fn is_own_origin(url: &Url, dev_url: Option<&Url>) -> bool {
    let embedded = match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
    };
    embedded || dev_url.is_some_and(|dev| dev.origin() == url.origin())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        s.parse().unwrap()
    }

    #[test]
    fn the_app_pages_pass() {
        assert!(is_own_origin(&url("tauri://localhost/"), None));
        assert!(is_own_origin(&url("tauri://localhost/index.html#x"), None));
        assert!(is_own_origin(&url("http://tauri.localhost/"), None));
        let dev = url("http://127.0.0.1:1420");
        assert!(is_own_origin(
            &url("http://127.0.0.1:1420/src/main.ts"),
            Some(&dev)
        ));
    }

    #[test]
    fn everything_else_is_refused() {
        let dev = url("http://127.0.0.1:1420");
        for bad in [
            "https://evil.example/",
            "http://localhost/",
            "tauri://evil.example/",
            "file:///etc/passwd",
            "http://127.0.0.1:1421/",
            "https://127.0.0.1:1420/",
            "data:text/html,<script>1</script>",
            "javascript:alert(1)",
        ] {
            assert!(!is_own_origin(&url(bad), Some(&dev)), "{bad}");
        }
        // Without a dev server, its origin is not ours either.
        assert!(!is_own_origin(&url("http://127.0.0.1:1420/"), None));
    }
}
