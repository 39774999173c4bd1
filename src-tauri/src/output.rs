//! Terminal output to the webview over a URI scheme the page pulls from:
//! `keyless-out://localhost/<session id>` (`http://keyless-out.localhost/<id>` where the platform
//! serves custom schemes over http). Each answer carries every byte queued for the session, up to
//! `ANSWER_MAX`, or waits up to `POLL_WAIT` for some. The page asks again only once its terminal
//! has room, so what it takes is what it acknowledges: the flow control needs no message of its
//! own. A Tauri channel plus acks cost an `eval`, a `fetch` and an invoke through both main
//! threads per chunk, which capped a flood well below what xterm.js parses; here a flood costs
//! one request per batch (docs/ipc.md, "Output and flow control").

use crate::navigation::is_own_origin;
use crate::AppState;
use keyless_core::Taken;
use std::time::Duration;
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder, Url};

pub const SCHEME: &str = "keyless-out";
/// The most one answer carries (the backend pauses SSH at 1 MiB unacknowledged, so this is
/// about everything a flood can have queued).
const ANSWER_MAX: usize = 1024 * 1024;
/// A held request answers "nothing yet" after this long and the page asks again, so no request
/// waits forever on a session the page has forgotten.
const POLL_WAIT: Duration = Duration::from_secs(25);

/// The scheme's handler: answers on the async runtime, never blocking the main thread.
pub fn handle<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    // Only the app's own page in its own window reads terminal output: a read takes the bytes,
    // so anything else (an <img>, a frame, another origin) must not get as far as the queue.
    let origin = allowed_origin(&request, dev_url(ctx.app_handle()).as_ref());
    let (Some(origin), "main") = (origin, ctx.webview_label()) else {
        return responder.respond(plain(StatusCode::FORBIDDEN, None));
    };
    let Some(id) = session_id(request.uri().path()) else {
        return responder.respond(plain(StatusCode::BAD_REQUEST, Some(&origin)));
    };
    let app = ctx.app_handle().clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let response = match state.output(id) {
            None => plain(StatusCode::NOT_FOUND, Some(&origin)),
            Some(queue) => match queue.take(ANSWER_MAX, POLL_WAIT).await {
                Taken::Bytes(bytes) => {
                    // Taken is acknowledged: the page asks only when its terminal has room, so
                    // this is the flow control (the session reads SSH while this stays low).
                    if let Ok(live) = state.get(id) {
                        live.ack(bytes.len());
                    }
                    with_origin(Response::builder(), Some(&origin))
                        .header(header::CONTENT_TYPE, "application/octet-stream")
                        .header(header::CACHE_CONTROL, "no-store")
                        .body(bytes)
                        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, None))
                }
                Taken::Idle => plain(StatusCode::NO_CONTENT, Some(&origin)),
                Taken::Over => {
                    state.drop_output(id);
                    plain(StatusCode::NOT_FOUND, Some(&origin))
                }
            },
        };
        responder.respond(response);
    });
}

/// `/<id>` → id; anything else is refused.
fn session_id(path: &str) -> Option<u32> {
    let digits = path.strip_prefix('/')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The page's origin, echoed for CORS only when it is the app's own (the page and this scheme
/// are different origins to WebKit).
fn allowed_origin(request: &Request<Vec<u8>>, dev_url: Option<&Url>) -> Option<String> {
    let origin = request.headers().get(header::ORIGIN)?.to_str().ok()?;
    let url: Url = origin.parse().ok()?;
    is_own_origin(&url, dev_url).then(|| origin.to_owned())
}

fn dev_url<R: Runtime>(app: &tauri::AppHandle<R>) -> Option<Url> {
    if tauri::is_dev() {
        app.config().build.dev_url.clone()
    } else {
        None
    }
}

fn with_origin(
    builder: tauri::http::response::Builder,
    origin: Option<&str>,
) -> tauri::http::response::Builder {
    match origin {
        Some(origin) => builder.header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin),
        None => builder,
    }
}

fn plain(status: StatusCode, origin: Option<&str>) -> Response<Vec<u8>> {
    with_origin(Response::builder().status(status), origin)
        .body(Vec::new())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(origin: Option<&str>) -> Request<Vec<u8>> {
        let mut b = Request::builder().uri("keyless-out://localhost/3");
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        b.body(Vec::new()).unwrap()
    }

    #[test]
    fn the_path_is_a_session_id_and_nothing_else() {
        assert_eq!(session_id("/7"), Some(7));
        assert_eq!(session_id("/4294967295"), Some(u32::MAX));
        for bad in [
            "",
            "/",
            "7",
            "/7/",
            "/-1",
            "/+1",
            "/7?x",
            "/../7",
            "/4294967296",
            "/ 7",
        ] {
            assert_eq!(session_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cors_allows_only_the_apps_own_origin() {
        assert_eq!(
            allowed_origin(&request(Some("tauri://localhost")), None).as_deref(),
            Some("tauri://localhost")
        );
        assert_eq!(
            allowed_origin(&request(Some("http://tauri.localhost")), None).as_deref(),
            Some("http://tauri.localhost")
        );
        assert_eq!(
            allowed_origin(&request(Some("https://evil.example")), None),
            None
        );
        assert_eq!(allowed_origin(&request(Some("null")), None), None);
        assert_eq!(allowed_origin(&request(None), None), None);
        let dev: Url = "http://127.0.0.1:1420".parse().unwrap();
        assert_eq!(
            allowed_origin(&request(Some("http://127.0.0.1:1420")), Some(&dev)).as_deref(),
            Some("http://127.0.0.1:1420")
        );
    }
}
