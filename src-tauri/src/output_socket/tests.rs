//! The output socket against a real WebSocket client on loopback.

use super::*;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Error as WsError;

#[derive(Default)]
struct Fake {
    queues: Mutex<HashMap<u32, Arc<OutputQueue>>>,
    taken: Mutex<Vec<(u32, usize)>>,
    over: Mutex<Vec<u32>>,
}

impl Outputs for Arc<Fake> {
    fn queue(&self, id: u32) -> Option<Arc<OutputQueue>> {
        self.queues.lock().unwrap().get(&id).cloned()
    }
    fn taken(&self, id: u32, n: usize) {
        self.taken.lock().unwrap().push((id, n));
    }
    fn over(&self, id: u32) {
        self.queues.lock().unwrap().remove(&id);
        self.over.lock().unwrap().push(id);
    }
}

fn start() -> (Arc<Fake>, OutputSocket) {
    let fake = Arc::new(Fake::default());
    let socket = OutputSocket::start(fake.clone(), None, |f| {
        tokio::spawn(f);
    })
    .unwrap();
    (fake, socket)
}

fn queue(fake: &Fake, id: u32) -> Arc<OutputQueue> {
    let q = Arc::new(OutputQueue::new());
    fake.queues.lock().unwrap().insert(id, q.clone());
    q
}

type Client = WebSocketStream<TcpStream>;

async fn open(url: &str, origin: Option<&str>) -> Result<Client, WsError> {
    let mut request = url.into_client_request().unwrap();
    if let Some(o) = origin {
        request
            .headers_mut()
            .insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
    }
    let port = request.uri().port_u16().unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tokio_tungstenite::client_async(request, tcp)
        .await
        .map(|(ws, _)| ws)
}

/// The app's page opening session `id`'s output.
async fn page(socket: &OutputSocket, id: u32) -> Client {
    open(&format!("{}/{id}", socket.url), Some("tauri://localhost"))
        .await
        .unwrap()
}

async fn refused(url: &str, origin: Option<&str>) -> u16 {
    match open(url, origin).await {
        Err(WsError::Http(response)) => response.status().as_u16(),
        other => panic!(
            "{url} from {origin:?} was not refused: {:?}",
            other.map(|_| ())
        ),
    }
}

async fn next(ws: &mut Client) -> Message {
    tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("an answer within 5 s")
        .expect("the socket is open")
        .expect("a message")
}

/// The page's ask, with the bytes it has received of the session in all.
async fn ask(ws: &mut Client, received: usize) {
    ws.send(Message::text(format!("more {received}")))
        .await
        .unwrap();
}

async fn close_frame(ws: &mut Client) -> CloseFrame {
    match next(ws).await {
        Message::Close(Some(frame)) => frame,
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn only_the_apps_page_with_this_runs_secret_gets_through() {
    let (fake, socket) = start();
    queue(&fake, 3);
    let base = &socket.url;
    let app = Some("tauri://localhost");
    assert_eq!(refused(&format!("{base}0/3"), app).await, 403); // one character off
    let port_only = base.rsplit_once('/').unwrap().0;
    assert_eq!(refused(&format!("{port_only}/3"), app).await, 403); // no secret
    assert_eq!(refused(&format!("{port_only}//3"), app).await, 403);
    assert_eq!(refused(&format!("{base}/3"), None).await, 403);
    for other in ["https://evil.example", "null", "http://127.0.0.1:1420"] {
        assert_eq!(
            refused(&format!("{base}/3"), Some(other)).await,
            403,
            "{other}"
        );
    }
    for bad in ["", "x", "-1", "3/", "4294967296"] {
        assert_eq!(refused(&format!("{base}/{bad}"), app).await, 400, "{bad:?}");
    }
    // Nothing was taken by any of them.
    assert!(fake.taken.lock().unwrap().is_empty());
    assert!(open(&format!("{base}/3"), app).await.is_ok());
    assert!(open(&format!("{base}/3"), Some("http://tauri.localhost"))
        .await
        .is_ok());
}

#[tokio::test]
async fn each_ask_gets_everything_queued_and_nothing_comes_unasked() {
    let (fake, socket) = start();
    let q = queue(&fake, 7);
    q.push(b"hello".to_vec());
    q.push(b" world".to_vec());
    let mut ws = page(&socket, 7).await;
    ask(&mut ws, 0).await;
    assert_eq!(
        next(&mut ws).await,
        Message::binary(b"hello world".to_vec())
    );
    assert_eq!(*fake.taken.lock().unwrap(), vec![(7, 11)]);

    // Not asked: the bytes stay queued (this is the flow control).
    q.push(b"later".to_vec());
    let unasked = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
    assert!(unasked.is_err(), "sent without an ask: {unasked:?}");
    assert_eq!(q.len(), 5);

    // An ask waits for output that has not come yet.
    ask(&mut ws, 11).await;
    assert_eq!(next(&mut ws).await, Message::binary(b"later".to_vec()));
    let pusher = q.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        pusher.push(b"$ ".to_vec());
    });
    ask(&mut ws, 16).await;
    assert_eq!(next(&mut ws).await, Message::binary(b"$ ".to_vec()));
}

#[tokio::test]
async fn a_flood_comes_in_answers_of_at_most_a_mebibyte() {
    let (fake, socket) = start();
    let q = queue(&fake, 1);
    q.push(vec![b'x'; 2 * ANSWER_MAX + 10]);
    let mut ws = page(&socket, 1).await;
    let mut sizes = Vec::new();
    for _ in 0..3 {
        ask(&mut ws, sizes.iter().sum()).await;
        sizes.push(next(&mut ws).await.into_data().len());
    }
    assert_eq!(sizes, vec![ANSWER_MAX, ANSWER_MAX, 10]);
}

#[tokio::test]
async fn the_end_comes_after_the_last_bytes_as_a_close_that_says_over() {
    let (fake, socket) = start();
    let q = queue(&fake, 2);
    q.push(b"logout\r\n".to_vec());
    q.finish();
    let mut ws = page(&socket, 2).await;
    ask(&mut ws, 0).await;
    assert_eq!(next(&mut ws).await, Message::binary(b"logout\r\n".to_vec()));
    assert!(fake.over.lock().unwrap().is_empty());
    ask(&mut ws, 8).await;
    let frame = close_frame(&mut ws).await;
    assert_eq!(
        (frame.code, frame.reason.as_str()),
        (CloseCode::Normal, OVER)
    );
    assert_eq!(*fake.over.lock().unwrap(), vec![2]);

    // A session the backend does not have (closed tab, unknown id) is over at once.
    let mut ws = page(&socket, 99).await;
    ask(&mut ws, 0).await;
    assert_eq!(close_frame(&mut ws).await.reason.as_str(), OVER);
}

#[tokio::test]
async fn a_page_that_goes_away_while_waiting_takes_nothing() {
    let (fake, socket) = start();
    let q = queue(&fake, 5);
    let mut ws = page(&socket, 5).await;
    ask(&mut ws, 0).await;
    ws.close(None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    q.push(b"for a new socket".to_vec());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(q.len(), 16, "the bytes stay for the page's next socket");
    assert!(fake.taken.lock().unwrap().is_empty());

    let mut ws = page(&socket, 5).await;
    ask(&mut ws, 0).await;
    assert_eq!(
        next(&mut ws).await,
        Message::binary(b"for a new socket".to_vec())
    );
}

#[tokio::test]
async fn an_answer_lost_with_its_socket_comes_again_on_the_next() {
    let (fake, socket) = start();
    let q = queue(&fake, 6);
    q.push(b"first screen".to_vec());
    let mut ws = page(&socket, 6).await;
    ask(&mut ws, 0).await;
    // The answer is sent; the socket drops before the page read it, so the page still counts 0.
    let sent = tokio::time::Instant::now() + Duration::from_secs(5);
    while fake.taken.lock().unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < sent,
            "the answer was not taken"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(ws);
    q.push(b" then more".to_vec());

    let mut ws = page(&socket, 6).await;
    ask(&mut ws, 0).await;
    assert_eq!(
        next(&mut ws).await,
        Message::binary(b"first screen".to_vec())
    );
    ask(&mut ws, 12).await;
    assert_eq!(next(&mut ws).await, Message::binary(b" then more".to_vec()));
    // Counted once for the flow control, though sent twice.
    assert_eq!(*fake.taken.lock().unwrap(), vec![(6, 12), (6, 10)]);
}

#[tokio::test]
async fn an_ask_without_a_count_it_could_have_is_refused_and_takes_nothing() {
    let (fake, socket) = start();
    let q = queue(&fake, 4);
    q.push(b"kept".to_vec());
    for bad in ["more", "more ", "more -1", "more 1x", "less 0"] {
        let mut ws = page(&socket, 4).await;
        ws.send(Message::text(bad)).await.unwrap();
        assert_eq!(
            close_frame(&mut ws).await.code,
            CloseCode::Policy,
            "{bad:?}"
        );
    }
    let mut ws = page(&socket, 4).await;
    ask(&mut ws, 99).await; // more than was ever sent
    let frame = close_frame(&mut ws).await;
    assert_eq!(frame.code, CloseCode::Policy);
    assert_eq!(frame.reason.as_str(), "99 bytes received, 0 sent");
    assert_eq!(q.len(), 4);
    assert!(fake.taken.lock().unwrap().is_empty());
}
