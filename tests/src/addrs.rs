//! Loopback address blocks and ports. Each lab takes `127.A.B.0/24` (private), `127.A.B+1.0/24`
//! (public) and `127.A.B+2.0/24` ("behind the endpoint": where the sshd of an instance reachable
//! only through the EC2 Instance Connect Endpoint really listens), so several labs, and the
//! instances within one lab, never collide.

use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::sync::{Mutex, MutexGuard};

use crate::random;

/// Hosts `.10` … `.249` of the private /24; filler beyond that spills into further /24s.
const FIRST_HOST: usize = 10;
const PER_BLOCK: usize = 240;

#[derive(Debug)]
pub struct Block {
    a: u8,
    b: u8,
    /// The last /24 of the span (overflow included).
    last: u8,
}

/// Overflow /24s needed for `instances` private addresses.
fn overflow(instances: usize) -> usize {
    instances.saturating_sub(PER_BLOCK).div_ceil(250)
}

/// The /24s before the overflow ones: private, public, behind the endpoint.
const FIXED_BLOCKS: usize = 3;

/// Blocks taken by labs of this process, as `(A, first B, last B)` (the /proc check cannot see
/// a block whose sshds are not listening yet).
static TAKEN: Mutex<Option<HashSet<(u8, u8, u8)>>> = Mutex::new(None);

fn taken() -> MutexGuard<'static, Option<HashSet<(u8, u8, u8)>>> {
    TAKEN.lock().unwrap_or_else(|e| e.into_inner())
}

impl Block {
    /// Reserves a block with room for `instances` private addresses.
    pub fn pick(instances: usize) -> io::Result<Block> {
        let overflow = overflow(instances);
        let Some(top) = 254usize.checked_sub(FIXED_BLOCKS + overflow) else {
            return Err(io::Error::other("too many instances for one lab"));
        };
        let listening = listening_v4();
        for _ in 0..200 {
            let a = random::range(16, 239) as u8;
            let b = random::range(0, top as u64) as u8;
            if let Some(block) = Self::take(a, b, overflow, &listening) {
                return Ok(block);
            }
        }
        Err(io::Error::other("no free 127.A.B.0/24 block"))
    }

    /// Reserves the block `127.a.b.0/24` of an earlier run of the same lab, if it is still free.
    pub fn claim(a: u8, b: u8, instances: usize) -> io::Result<Block> {
        let overflow = overflow(instances);
        let fits = usize::from(b) + FIXED_BLOCKS + overflow <= 254 && (16..=239).contains(&a);
        if !fits {
            return Err(io::Error::other(format!(
                "127.{a}.{b}.0/24 is not a lab block"
            )));
        }
        Self::take(a, b, overflow, &listening_v4())
            .ok_or_else(|| io::Error::other(format!("127.{a}.{b}.0/24 is in use")))
    }

    fn take(a: u8, b: u8, overflow: usize, listening: &[Ipv4Addr]) -> Option<Block> {
        let last = b.checked_add((FIXED_BLOCKS - 1 + overflow) as u8)?;
        let span = b..=last;
        let busy = listening.iter().any(|ip| {
            let o = ip.octets();
            o[1] == a && span.contains(&o[2])
        });
        let mut guard = taken();
        let set = guard.get_or_insert_with(HashSet::new);
        let overlaps = set
            .iter()
            .any(|(ta, tb, tl)| *ta == a && *tb <= last && b <= *tl);
        if busy || overlaps {
            return None;
        }
        set.insert((a, b, last));
        Some(Block { a, b, last })
    }

    /// `(A, B)` of `127.A.B.0/24`.
    pub fn octets(&self) -> (u8, u8) {
        (self.a, self.b)
    }

    pub fn private(&self, n: usize) -> Ipv4Addr {
        if n < PER_BLOCK {
            return Ipv4Addr::new(127, self.a, self.b, (FIRST_HOST + n) as u8);
        }
        let k = n - PER_BLOCK;
        Ipv4Addr::new(
            127,
            self.a,
            self.b + FIXED_BLOCKS as u8 + (k / 250) as u8,
            (1 + k % 250) as u8,
        )
    }

    pub fn public(&self, n: usize) -> Ipv4Addr {
        Ipv4Addr::new(
            127,
            self.a,
            self.b + 1,
            (FIRST_HOST + n.min(PER_BLOCK - 1)) as u8,
        )
    }

    /// Where instance `n`'s sshd really listens when only the endpoint reaches it (its
    /// reported private address has no listener).
    pub fn behind_endpoint(&self, n: usize) -> Ipv4Addr {
        Ipv4Addr::new(
            127,
            self.a,
            self.b + 2,
            (FIRST_HOST + n.min(PER_BLOCK - 1)) as u8,
        )
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        if let Some(set) = taken().as_mut() {
            set.remove(&(self.a, self.b, self.last));
        }
    }
}

/// Local IPv4 addresses of listening TCP sockets, from /proc/net/tcp.
fn listening_v4() -> Vec<Ipv4Addr> {
    let Ok(text) = std::fs::read_to_string("/proc/net/tcp") else {
        return Vec::new();
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split_whitespace();
            let local = cols.nth(1)?;
            let st = cols.nth(1)?;
            let hex_ip = local.split(':').next()?;
            (st == "0A").then(|| u32::from_str_radix(hex_ip, 16).ok())?
        })
        .map(|le| Ipv4Addr::from(le.swap_bytes()))
        .collect()
}

fn port_free_on_all(addrs: &[Ipv4Addr], port: u16) -> bool {
    addrs
        .iter()
        .all(|ip| TcpListener::bind(SocketAddrV4::new(*ip, port)).is_ok())
}

/// `preferred` (an earlier run's port) when it is free on every instance address, else port 22
/// when we may bind it and it is free on all of them, else a high port free on all of them.
/// All sshds of a lab share this port (each on its own addresses).
pub fn pick_ssh_port(addrs: &[Ipv4Addr], root: bool, preferred: Option<u16>) -> io::Result<u16> {
    if let Some(p) = preferred.filter(|p| (root || *p >= 1024) && port_free_on_all(addrs, *p)) {
        return Ok(p);
    }
    if root && port_free_on_all(addrs, 22) {
        return Ok(22);
    }
    let first = *addrs
        .first()
        .ok_or_else(|| io::Error::other("no addresses"))?;
    for _ in 0..50 {
        let port = TcpListener::bind(SocketAddrV4::new(first, 0))?
            .local_addr()?
            .port();
        if port_free_on_all(addrs, port) {
            return Ok(port);
        }
    }
    Err(io::Error::other("no port free on all instance addresses"))
}
