//! Opening the sign-in page in the desktop's browser.

/// Opens `url` with `xdg-open`, without a shell. Failing is fine: callers also show the URL.
/// `KEYLESS_NO_BROWSER=1` turns it off (tests, headless machines).
pub fn open_browser(url: &str) {
    if std::env::var("KEYLESS_NO_BROWSER").is_ok_and(|v| v == "1") {
        return;
    }
    let child = std::process::Command::new("xdg-open")
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Ok(mut child) = child {
        // Reap it so no zombie stays behind.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
    }
}
