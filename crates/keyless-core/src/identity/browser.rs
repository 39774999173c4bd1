//! Opening a web page in the desktop's browser: the IAM Identity Center sign-in page, and links
//! the user clicks in the app. Every such URL comes from the network (the portal's answer, a
//! server's terminal output), so it is checked before `xdg-open` sees it: only an `https://` page
//! opens (or `http://` on this machine's loopback, where the lab and local portals live: a page
//! any website could load from the browser anyway). A `file:` URL, another scheme, or text
//! `xdg-open` would read as an option never reaches it.

use crate::{Error, Result};

/// Ok when `url` may be opened; otherwise why not (the message names the rule, not the URL:
/// callers show the URL escaped where they need to).
pub fn check_url(url: &str) -> Result<()> {
    match refusal(url) {
        None => Ok(()),
        Some(why) => Err(Error::invalid(format!("not opened in the browser: {why}"))
            .with_hint("Only https:// pages are opened.")),
    }
}

/// For the sign-in page of a device authorization: None when it opens, else the warning to show
/// beside the code (the page is then not opened at all).
pub fn sign_in_page_warning(url: &str) -> Option<String> {
    refusal(url).map(|why| {
        format!(
            "IAM Identity Center sent a sign-in link that Keyless does not open ({why}). Enter the \
             code only on your organisation's AWS access portal, opened yourself."
        )
    })
}

fn refusal(url: &str) -> Option<String> {
    if url.starts_with('-') {
        return Some("the link starts with '-'".into());
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || crate::terminal_text::is_unsafe(c))
    {
        return Some("the link contains spaces or control characters".into());
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return Some("the link is not a valid URL".into());
    };
    match (parsed.scheme(), parsed.host()) {
        ("https", Some(_)) => None,
        ("http", Some(host)) if is_loopback(&host) => None,
        ("http", _) => Some("an http:// link to another machine, not https://".into()),
        (scheme, _) => Some(format!("a {scheme}: link, not https://")),
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Opens `url` with `xdg-open`, without a shell, once [`check_url`] allows it. Not being able to
/// start a browser is not an error (callers also show the URL); `KEYLESS_NO_BROWSER=1` turns
/// opening off (tests, headless machines).
pub fn open_url(url: &str) -> Result<()> {
    check_url(url)?;
    if std::env::var("KEYLESS_NO_BROWSER").is_ok_and(|v| v == "1") {
        return Ok(());
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_pages_and_loopback_http_pass() {
        for ok in [
            "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH",
            "HTTPS://example.com",
            "http://127.0.0.1:4567/device?user_code=X",
            "http://localhost:8080/",
            "http://[::1]:80/",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn other_schemes_options_and_odd_text_are_refused() {
        for (bad, why) in [
            ("file:///etc/passwd", "a file: link"),
            ("javascript:alert(1)", "a javascript: link"),
            ("http://evil.example/", "an http:// link to another machine"),
            ("-ahttps://x", "starts with '-'"),
            ("--help", "starts with '-'"),
            ("https://a.example/\x1b]0;x\x07", "control characters"),
            ("https://a.example/ b", "spaces"),
            ("https://\u{202e}moc.example", "control characters"),
            ("https//missing-colon", "not a valid URL"),
            ("", "not a valid URL"),
        ] {
            let e = check_url(bad).expect_err(bad);
            assert!(e.message.contains(why), "{bad}: {}", e.message);
        }
    }

    #[test]
    fn the_sign_in_warning_says_why_and_is_absent_for_a_real_portal() {
        let w = sign_in_page_warning("file:///tmp/x").unwrap();
        assert!(w.contains("a file: link, not https://"), "{w}");
        assert_eq!(
            sign_in_page_warning("https://device.sso.eu-west-1.amazonaws.com/"),
            None
        );
    }
}
