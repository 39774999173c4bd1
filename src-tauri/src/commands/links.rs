//! Opening a link in the system browser: the sign-in page again, and links clicked in a terminal
//! (OSC 8 or a URL in the output). Whatever the webview asks, the core decides (http/https only,
//! nothing `xdg-open` could read as an option), the same check the SSO sign-in page passes.

use super::Result;

#[tauri::command]
pub fn open_url(url: String) -> Result<()> {
    keyless_core::identity::open_url(&url)
}
