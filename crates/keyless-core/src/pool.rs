//! One SSH connection per instance, shared: a second tab to the same instance opens a new channel
//! on the connection the first one built — no key push, no handshake. That spares the instance a
//! push per tab and, through an EC2 Instance Connect Endpoint, one of the VPC's 20 tunnels.
//!
//! Everything that needs a connection takes a [`Lease`] for its [`PoolKey`]: today a terminal
//! session (a `session` channel); later file transfer (an SFTP `subsystem` channel) and port
//! forwarding (`direct-tcpip` channels), each holding a lease for as long as its channels live.
//! The pool counts leases, not channels, so those kinds need nothing new here.
//!
//! - Only one connect runs per key: concurrent leases wait for it and share its connection. If
//!   it fails they get the same error (they would fail the same way: unreachable, denied, timed
//!   out, a host key the user refused). Only when the connecting caller gives up — its tab closed,
//!   dropping the lease future — does the next waiter connect itself, asking its own host-key
//!   question: the question belongs to the tab that started the connect.
//! - When its last lease drops, a connection stays open for `idle_timeout` (10 min by default,
//!   like OpenSSH's ControlPersist) for the next tab; then the pool disconnects it. Only the pool
//!   disconnects: a lease gives `&Connection`, and [`Connection::disconnect`] takes it by value.
//! - A connection that dropped (sshd gone, network) is never leased again: the next lease builds a
//!   new one, which the leases after it share.

use crate::address::Via;
use crate::error::{Error, Result};
use crate::known_instances::AwsProfileKey;
use crate::session::Connection;
use serde::Serialize;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::sync::watch;

/// How long a connection without leases stays open, as OpenSSH's `ControlPersist 10m`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// What makes two connections interchangeable: the same AWS identity (a different profile may map
/// to a different IAM principal and must push its own key), instance, OS user, port and path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PoolKey {
    /// `None`: the default credential chain.
    pub aws_profile: AwsProfileKey,
    pub region: String,
    pub instance_id: String,
    pub os_user: String,
    pub port: u16,
    pub via: Via,
}

/// One pooled connection, as the app shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PoolEntry {
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub key: PoolKey,
    /// The address the connection was made to.
    pub address: String,
    /// The EC2 Instance Connect Endpoint it goes through; `None`: direct.
    pub endpoint_id: Option<String>,
    /// Leases held right now (terminal tabs today).
    pub channels: u32,
    /// No lease: waiting out the idle timeout.
    pub idle: bool,
}

/// The app's connections by key. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct ConnectionPool {
    inner: Arc<Inner>,
}

struct Inner {
    idle_timeout: Duration,
    /// A handful of entries (one per instance and user in use): a list searched by key is enough.
    slots: Mutex<Vec<Slot>>,
    next_id: Mutex<u64>,
}

/// The app warns in a tunnelled tab's last five minutes; from then on the pool builds new ones.
pub const RENEW_TUNNEL_BEFORE: Duration = Duration::from_secs(5 * 60);

struct Slot {
    key: PoolKey,
    /// While one caller connects for this key: where it publishes the outcome for the others.
    connecting: Option<watch::Receiver<Option<Outcome>>>,
    pooled: Option<Pooled>,
}

type Outcome = std::result::Result<(), Error>;

struct Pooled {
    connection: Arc<Connection>,
    /// Tells this key's successive connections apart, so a late release finds its own.
    id: u64,
    leases: usize,
    /// Changes at every lease and release: an idle timer armed before it is stale.
    epoch: u64,
}

impl Default for ConnectionPool {
    fn default() -> Self {
        ConnectionPool::new(DEFAULT_IDLE_TIMEOUT)
    }
}

impl ConnectionPool {
    pub fn new(idle_timeout: Duration) -> Self {
        ConnectionPool {
            inner: Arc::new(Inner {
                idle_timeout,
                slots: Mutex::new(Vec::new()),
                next_id: Mutex::new(0),
            }),
        }
    }

    /// A lease on the live connection for `key`, at once if there is one (`reused`); otherwise
    /// `connect` runs — unless another caller is already connecting for `key`, in which case this
    /// waits for that connect and shares its connection or its error (see the module header).
    /// `connect` must connect to exactly what `key` names.
    pub async fn lease(
        &self,
        key: PoolKey,
        connect: impl Future<Output = Result<Connection>>,
    ) -> Result<Lease> {
        let runtime = tokio::runtime::Handle::current();
        let publish = loop {
            let mut waiting = {
                let mut slots = lock(&self.inner.slots);
                let slot = slot_for(&mut slots, &key);
                if let Some((connection, id)) = take_live(slot) {
                    return Ok(self.lease_on(key, connection, id, true, runtime));
                }
                match &slot.connecting {
                    Some(outcome) => outcome.clone(),
                    None => {
                        let (tx, rx) = watch::channel(None);
                        slot.connecting = Some(rx);
                        break tx;
                    }
                }
            };
            let failed = match waiting.wait_for(Option::is_some).await {
                Ok(outcome) => match &*outcome {
                    Some(Err(e)) => Some(e.clone()),
                    _ => None,
                },
                Err(_) => None,
            };
            if let Some(e) = failed {
                return Err(e);
            }
            // Connected (lease it on the next turn), or the connecting caller gave up (connect).
        };
        // Cleared on every way out, a cancelled connect included: waiters then try themselves.
        let _connecting = ClearConnecting {
            inner: &self.inner,
            key: key.clone(),
        };
        match connect.await {
            Ok(connection) => {
                let connection = Arc::new(connection);
                let id = self.next_id();
                let mut slots = lock(&self.inner.slots);
                let slot = slot_for(&mut slots, &key);
                slot.pooled = Some(Pooled {
                    connection: connection.clone(),
                    id,
                    leases: 1,
                    epoch: 0,
                });
                // In the same step, so a waiter that wakes finds the connection, not the mark.
                slot.connecting = None;
                drop(slots);
                publish.send_replace(Some(Ok(())));
                Ok(self.lease_on(key, connection, id, false, runtime))
            }
            Err(e) => {
                publish.send_replace(Some(Err(e.clone())));
                Err(e)
            }
        }
    }

    /// Every live connection, with how many leases it has.
    pub fn status(&self) -> Vec<PoolEntry> {
        let mut slots = lock(&self.inner.slots);
        slots.iter_mut().for_each(forget_if_closed);
        slots.retain(|s| s.pooled.is_some() || s.connecting.is_some());
        slots
            .iter()
            .filter_map(|slot| {
                let pooled = slot.pooled.as_ref()?;
                Some(PoolEntry {
                    key: slot.key.clone(),
                    address: pooled.connection.address.to_string(),
                    endpoint_id: pooled.connection.endpoint_id().map(str::to_owned),
                    channels: u32::try_from(pooled.leases).unwrap_or(u32::MAX),
                    idle: pooled.leases == 0,
                })
            })
            .collect()
    }

    fn lease_on(
        &self,
        key: PoolKey,
        connection: Arc<Connection>,
        id: u64,
        reused: bool,
        runtime: tokio::runtime::Handle,
    ) -> Lease {
        Lease {
            pool: Arc::downgrade(&self.inner),
            key,
            id,
            connection,
            reused,
            runtime,
        }
    }

    fn next_id(&self) -> u64 {
        let mut next = lock(&self.inner.next_id);
        *next += 1;
        *next
    }
}

/// A hold on a pooled connection: open channels on it through `Deref` (e.g.
/// [`Connection::open`]). Dropping it releases the hold; the last release starts the idle timer.
pub struct Lease {
    pool: Weak<Inner>,
    key: PoolKey,
    id: u64,
    connection: Arc<Connection>,
    reused: bool,
    /// Where the idle timer runs (a lease may be dropped outside any runtime context).
    runtime: tokio::runtime::Handle,
}

impl Lease {
    /// True when the connection was already there (or being built by another caller): no key was
    /// pushed and no handshake made for this lease.
    pub fn reused(&self) -> bool {
        self.reused
    }

    /// How many leases the connection has right now, this one included.
    pub fn shared(&self) -> usize {
        let Some(inner) = self.pool.upgrade() else {
            return 1;
        };
        let slots = lock(&inner.slots);
        slots
            .iter()
            .filter(|s| s.key == self.key)
            .filter_map(|s| s.pooled.as_ref())
            .find(|p| p.id == self.id)
            .map_or(1, |p| p.leases)
    }

    pub fn key(&self) -> &PoolKey {
        &self.key
    }

    /// Another hold on the same connection (a Files panel beside its tab's shell), counted and
    /// released like any lease: the connection stays open until both are gone.
    pub fn share(&self) -> Lease {
        if let Some(inner) = self.pool.upgrade() {
            let mut slots = lock(&inner.slots);
            let pooled = slots
                .iter_mut()
                .filter(|s| s.key == self.key)
                .filter_map(|s| s.pooled.as_mut())
                .find(|p| p.id == self.id);
            if let Some(pooled) = pooled {
                pooled.leases += 1;
                pooled.epoch += 1;
            }
        }
        Lease {
            pool: self.pool.clone(),
            key: self.key.clone(),
            id: self.id,
            connection: self.connection.clone(),
            reused: true,
            runtime: self.runtime.clone(),
        }
    }
}

impl std::ops::Deref for Lease {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.connection
    }
}

/// So a forward can serve on a lease as on a connection of its own.
impl AsRef<Connection> for Lease {
    fn as_ref(&self) -> &Connection {
        &self.connection
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(inner) = self.pool.upgrade() else {
            return;
        };
        let mut slots = lock(&inner.slots);
        let Some(slot) = slots.iter_mut().find(|s| s.key == self.key) else {
            return;
        };
        let Some(pooled) = slot.pooled.as_mut().filter(|p| p.id == self.id) else {
            return; // already replaced: that connection had dropped
        };
        pooled.leases -= 1;
        pooled.epoch += 1;
        if pooled.leases > 0 {
            return;
        }
        if pooled.connection.is_closed() {
            slot.pooled = None;
            return;
        }
        let armed = (self.key.clone(), self.id, pooled.epoch);
        let pool = self.pool.clone();
        // A connection no other tab may share has nothing to wait for.
        let idle_timeout = if pooled.connection.shareable() {
            inner.idle_timeout
        } else {
            Duration::ZERO
        };
        self.runtime.spawn(async move {
            tokio::time::sleep(idle_timeout).await;
            if let Some(idle) = pool.upgrade().and_then(|inner| inner.take_idle(armed)) {
                // Only the pool held it: nothing else can be using it.
                if let Ok(connection) = Arc::try_unwrap(idle) {
                    connection.disconnect().await;
                }
            }
        });
    }
}

impl Inner {
    /// Takes the connection out if it is still the one the timer was armed for, untouched since.
    fn take_idle(&self, (key, id, epoch): (PoolKey, u64, u64)) -> Option<Arc<Connection>> {
        let mut slots = lock(&self.slots);
        let at = slots.iter().position(|s| s.key == key)?;
        let slot = &mut slots[at];
        let still_idle = slot
            .pooled
            .as_ref()
            .is_some_and(|p| p.id == id && p.epoch == epoch && p.leases == 0);
        if !still_idle {
            return None;
        }
        let pooled = slot.pooled.take()?;
        if slot.connecting.is_none() {
            slots.remove(at);
        }
        Some(pooled.connection)
    }
}

/// Removes the "connecting" mark when the connecting caller is done or gone.
struct ClearConnecting<'a> {
    inner: &'a Inner,
    key: PoolKey,
}

impl Drop for ClearConnecting<'_> {
    fn drop(&mut self) {
        let mut slots = lock(&self.inner.slots);
        if let Some(slot) = slots.iter_mut().find(|s| s.key == self.key) {
            slot.connecting = None;
        }
        slots.retain(|s| s.pooled.is_some() || s.connecting.is_some());
    }
}

fn slot_for<'a>(slots: &'a mut Vec<Slot>, key: &PoolKey) -> &'a mut Slot {
    let at = match slots.iter().position(|s| &s.key == key) {
        Some(at) => at,
        None => {
            slots.push(Slot {
                key: key.clone(),
                connecting: None,
                pooled: None,
            });
            slots.len() - 1
        }
    };
    &mut slots[at]
}

/// A new hold on the slot's connection, unless it has none or it dropped.
fn take_live(slot: &mut Slot) -> Option<(Arc<Connection>, u64)> {
    forget_if_closed(slot);
    // A tunnel the endpoint closes soon is no place for a new tab (or a Reconnect): that gets a
    // new connection; the tabs still on the old one keep it until they end.
    let expiring = slot.pooled.as_ref().is_some_and(|p| {
        (p.connection.tunnel_time_left()).is_some_and(|left| left < RENEW_TUNNEL_BEFORE)
    });
    if expiring {
        slot.pooled = None;
    }
    // "Connect once" trusted the host key for its own tab only: the next tab asks for itself.
    if slot
        .pooled
        .as_ref()
        .is_some_and(|p| !p.connection.shareable())
    {
        return None;
    }
    let pooled = slot.pooled.as_mut()?;
    pooled.leases += 1;
    pooled.epoch += 1;
    Some((pooled.connection.clone(), pooled.id))
}

/// A dropped connection leaves the pool; leases still on it find it gone when they release.
fn forget_if_closed(slot: &mut Slot) {
    if slot
        .pooled
        .as_ref()
        .is_some_and(|p| p.connection.is_closed())
    {
        slot.pooled = None;
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::sync::Notify;

    fn key() -> PoolKey {
        PoolKey {
            aws_profile: None,
            region: "us-east-1".into(),
            instance_id: "i-0123456789abcdef0".into(),
            os_user: "ec2-user".into(),
            port: 22,
            via: Via::Private,
        }
    }

    /// A connect that counts its runs, waits for `go`, then fails with `message`.
    async fn failing(runs: &AtomicUsize, go: &Notify, message: &'static str) -> Result<Connection> {
        runs.fetch_add(1, Ordering::SeqCst);
        go.notified().await;
        Err(Error::new(ErrorKind::Network, message))
    }

    #[tokio::test]
    async fn leases_waiting_for_a_connect_share_its_failure() {
        let pool = ConnectionPool::default();
        let (runs, go) = (AtomicUsize::new(0), Notify::new());
        let first = pool.lease(key(), failing(&runs, &go, "unreachable"));
        let second = pool.lease(key(), failing(&runs, &go, "never runs"));
        let release = async {
            // Both leases are pending once the first connect has started.
            while runs.load(Ordering::SeqCst) == 0 {
                tokio::task::yield_now().await;
            }
            go.notify_waiters();
        };
        let (first, second, ()) = tokio::join!(first, second, release);
        assert_eq!(runs.load(Ordering::SeqCst), 1, "one connect for both");
        assert_eq!(first.err().unwrap().message, "unreachable");
        assert_eq!(second.err().unwrap().message, "unreachable");
        assert!(pool.status().is_empty());
        assert!(lock(&pool.inner.slots).is_empty(), "nothing left behind");
    }

    #[tokio::test]
    async fn when_the_connecting_caller_gives_up_a_waiter_connects_itself() {
        let pool = ConnectionPool::default();
        let (runs, go) = (AtomicUsize::new(0), Notify::new());
        let gave_up = Notify::new();
        let first = async {
            tokio::select! {
                _ = pool.lease(key(), failing(&runs, &go, "the first's")) => unreachable!(),
                _ = gave_up.notified() => {}
            }
        };
        let second = async {
            while runs.load(Ordering::SeqCst) == 0 {
                tokio::task::yield_now().await;
            }
            let lease = pool.lease(key(), async {
                runs.fetch_add(1, Ordering::SeqCst);
                Err(Error::new(ErrorKind::Network, "the second's own"))
            });
            let mut lease = std::pin::pin!(lease);
            // Let it start waiting, then the first tab closes.
            tokio::select! {
                biased;
                r = &mut lease => return r.err().unwrap(),
                () = tokio::task::yield_now() => {}
            }
            gave_up.notify_one();
            lease.await.err().unwrap()
        };
        let ((), second) = tokio::join!(first, second);
        assert_eq!(second.message, "the second's own");
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(lock(&pool.inner.slots).is_empty());
    }
}
