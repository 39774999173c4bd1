//! WebKitGTK settings for what this window is: one local page with a terminal, not a browser.
//! WebKit's defaults suit browsing (a page cache, media, WebRTC, compositing through GL); each of
//! those costs memory in the web process and buys this app nothing. Measured with
//! `scripts/bench-app.sh`; see README "Memory and speed of the app".

use std::path::Path;

/// How the page is composited. `KEYLESS_COMPOSITING=gpu|software` overrides the choice (the
/// benchmark compares both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compositing {
    /// Accelerated compositing through GL: worth it only where GL is a real GPU.
    Gpu,
    /// No compositing layers: with software GL (llvmpipe) they cost memory and CPU and draw slower.
    Software,
}

impl Compositing {
    /// A GPU is usable when the kernel exposes a DRM render node and Mesa is not told to render
    /// in software; without one, GL in the web process is llvmpipe.
    pub fn detect(dri: &Path, env: impl Fn(&str) -> Option<String>) -> Compositing {
        match env("KEYLESS_COMPOSITING").as_deref() {
            Some("gpu") => return Compositing::Gpu,
            Some("software") => return Compositing::Software,
            _ => {}
        }
        if env("LIBGL_ALWAYS_SOFTWARE").is_some_and(|v| v != "0" && !v.is_empty()) {
            return Compositing::Software;
        }
        let render_node = std::fs::read_dir(dri).ok().is_some_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        });
        if render_node {
            Compositing::Gpu
        } else {
            Compositing::Software
        }
    }
}

/// Called first thing in `run`, before any thread or web view exists: without a GPU, tells
/// WebKitGTK through its environment never to enter compositing mode, so neither this process nor
/// the web process it spawns sets up compositing at all (the setting in `tune` arrives only after
/// the web view exists; measured ≈ 10 MB less in the web process). Returns the decision, for `tune`.
#[cfg(target_os = "linux")]
pub fn before_start() -> Compositing {
    let detected = Compositing::detect(Path::new("/dev/dri"), |k| std::env::var(k).ok());
    if detected == Compositing::Software
        && std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none()
    {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    detected
}

/// Applies the settings to the window's web view (on the main thread, as WebKit requires).
#[cfg(target_os = "linux")]
pub fn tune<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>, compositing: Compositing) {
    let result = window.with_webview(move |platform| {
        use webkit2gtk::{
            CacheModel, HardwareAccelerationPolicy, NetworkProxyMode, SettingsExt, WebContextExt,
            WebViewExt, WebsiteDataManagerExt,
        };
        let view = platform.inner();
        if let Some(context) = view.context() {
            // No back/forward or memory cache of resources: the one page is embedded in the binary.
            context.set_cache_model(CacheModel::DocumentViewer);
            // The page talks only to the app (its output socket on 127.0.0.1); a system proxy
            // must never carry that. AWS traffic goes from Rust, which has its own proxy settings.
            if let Some(data) = context.website_data_manager() {
                data.set_network_proxy_settings(NetworkProxyMode::NoProxy, None);
            }
        }
        let Some(settings) = WebViewExt::settings(&view) else {
            return;
        };
        settings.set_hardware_acceleration_policy(match compositing {
            Compositing::Gpu => HardwareAccelerationPolicy::Always,
            Compositing::Software => HardwareAccelerationPolicy::Never,
        });
        settings.set_enable_page_cache(false);
        settings.set_enable_media(false);
        settings.set_enable_media_stream(false);
        settings.set_enable_mediasource(false);
        settings.set_enable_media_capabilities(false);
        settings.set_enable_encrypted_media(false);
        settings.set_enable_webaudio(false);
        settings.set_enable_webrtc(false);
        settings.set_enable_html5_database(false);
        settings.set_enable_offline_web_application_cache(false);
        settings.set_enable_dns_prefetching(false);
        settings.set_enable_hyperlink_auditing(false);
        settings.set_enable_site_specific_quirks(false);
        // The inspector only in debug builds (where Tauri turns it on).
        settings.set_enable_developer_extras(cfg!(debug_assertions));
    });
    if let Err(e) = result {
        eprintln!("keyless-app: could not tune the web view: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
pub fn before_start() -> Compositing {
    Compositing::Gpu
}

#[cfg(not(target_os = "linux"))]
pub fn tune<R: tauri::Runtime>(_window: &tauri::WebviewWindow<R>, _compositing: Compositing) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn dri_with(names: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for n in names {
            std::fs::write(dir.path().join(n), b"").unwrap();
        }
        dir
    }

    #[test]
    fn a_render_node_means_gpu_and_none_means_software() {
        let none = |_: &str| None;
        let gpu = dri_with(&["card0", "renderD128"]);
        assert_eq!(Compositing::detect(gpu.path(), none), Compositing::Gpu);
        let card_only = dri_with(&["card0"]);
        assert_eq!(
            Compositing::detect(card_only.path(), none),
            Compositing::Software
        );
        assert_eq!(
            Compositing::detect(Path::new("/nonexistent/dri"), none),
            Compositing::Software
        );
    }

    #[test]
    fn mesa_forced_to_software_and_the_override_win() {
        let gpu = dri_with(&["renderD128"]);
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            Compositing::detect(gpu.path(), env(&[("LIBGL_ALWAYS_SOFTWARE", "1")])),
            Compositing::Software
        );
        assert_eq!(
            Compositing::detect(gpu.path(), env(&[("LIBGL_ALWAYS_SOFTWARE", "0")])),
            Compositing::Gpu
        );
        assert_eq!(
            Compositing::detect(
                Path::new("/nonexistent"),
                env(&[("KEYLESS_COMPOSITING", "gpu")])
            ),
            Compositing::Gpu
        );
        assert_eq!(
            Compositing::detect(gpu.path(), env(&[("KEYLESS_COMPOSITING", "software")])),
            Compositing::Software
        );
    }
}
