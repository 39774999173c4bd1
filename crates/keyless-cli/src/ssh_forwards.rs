//! The `-L`, `-R` and `-D` forwards of `keyless ssh`: local listeners bound before anything is
//! connected (a taken port fails before any key push), the remote ones asked for once the
//! connection is up, each announced on stderr.

use keyless_core::forward::{
    DynamicForwardSpec, ForwardEvent, ForwardSink, LocalForward, LocalForwardSpec, RemoteForward,
    RemoteForwardSpec, SocksForward,
};
use keyless_core::terminal_text::escape;
use keyless_core::Connection;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Every forward the command line asked for, checked.
#[derive(Default)]
pub struct ForwardSpecs {
    pub local: Vec<LocalForwardSpec>,
    pub remote: Vec<RemoteForwardSpec>,
    pub dynamic: Vec<DynamicForwardSpec>,
}

impl ForwardSpecs {
    pub fn parse(
        local: &[String],
        remote: &[String],
        dynamic: &[String],
    ) -> keyless_core::Result<Self> {
        Ok(ForwardSpecs {
            local: local
                .iter()
                .map(|s| s.parse())
                .collect::<keyless_core::Result<_>>()?,
            remote: remote
                .iter()
                .map(|s| s.parse())
                .collect::<keyless_core::Result<_>>()?,
            dynamic: dynamic
                .iter()
                .map(|s| s.parse())
                .collect::<keyless_core::Result<_>>()?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.local.is_empty() && self.remote.is_empty() && self.dynamic.is_empty()
    }

    /// Binds every local listener now.
    pub async fn bind(&self) -> keyless_core::Result<Bound> {
        let mut bound = Bound {
            local: Vec::new(),
            socks: Vec::new(),
            remote: self.remote.clone(),
        };
        for spec in &self.local {
            bound.local.push(LocalForward::bind(spec.clone()).await?);
        }
        for spec in &self.dynamic {
            bound.socks.push(SocksForward::bind(spec.clone()).await?);
        }
        Ok(bound)
    }
}

/// Listeners bound, waiting for the connection.
pub struct Bound {
    local: Vec<LocalForward>,
    socks: Vec<SocksForward>,
    remote: Vec<RemoteForwardSpec>,
}

/// Forwards being served; dropping this ends them.
pub struct Running {
    tasks: Vec<JoinHandle<()>>,
    _remote: Vec<RemoteForward>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl Bound {
    /// Asks for the remote forwards (an instance that refuses one is an error naming its port)
    /// and serves every listener on `connection`.
    pub async fn start(self, connection: &Arc<Connection>) -> keyless_core::Result<Running> {
        let sink = refusals_on_stderr();
        let mut remote = Vec::new();
        for spec in self.remote {
            let forward = connection.forward_remote(spec, sink.clone()).await?;
            let spec = forward.spec();
            let bind = if spec.bind.is_empty() {
                "*"
            } else {
                &spec.bind
            };
            eprintln!(
                "keyless: forwarding {}:{} on the instance → {}:{} here",
                escape(bind),
                forward.remote_port(),
                escape(&spec.host),
                spec.port
            );
            remote.push(forward);
        }
        let mut tasks = Vec::new();
        for listener in self.local {
            eprintln!(
                "keyless: forwarding {} → {}:{} on the instance",
                listener.local_addr()?,
                escape(&listener.spec().host),
                listener.spec().port
            );
            let (connection, sink) = (connection.clone(), sink.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(e) = listener.serve(connection, sink).await {
                    eprintln!("keyless: a forward stopped: {}", escape(&e.message));
                }
            }));
        }
        for socks in self.socks {
            eprintln!(
                "keyless: SOCKS5 proxy on {} (connections leave from the instance)",
                socks.local_addr()?
            );
            let (connection, sink) = (connection.clone(), sink.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(e) = socks.serve(connection, sink).await {
                    eprintln!("keyless: the SOCKS proxy stopped: {}", escape(&e.message));
                }
            }));
        }
        Ok(Running {
            tasks,
            _remote: remote,
        })
    }
}

/// A connection that could not be forwarded is said on stderr; the rest go on.
fn refusals_on_stderr() -> ForwardSink {
    Arc::new(|event: ForwardEvent| {
        if let ForwardEvent::Refused {
            peer,
            target,
            error,
        } = event
        {
            let to = if target.is_empty() {
                String::new()
            } else {
                format!(" → {}", escape(&target))
            };
            eprintln!("keyless: {peer}{to}: {}", escape(&error.message));
        }
    })
}
