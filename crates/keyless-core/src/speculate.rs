//! Connecting to a target by id or Name tag without waiting for its lookup more than needed.
//! `DescribeInstances` is one more AWS round trip, so it runs beside the rest:
//! - for an instance id the key push starts at once (EC2 Instance Connect itself refuses unknown
//!   and stopped instances, and a key pushed to one is harmless: only we hold its private half);
//! - with a recent sighting of the instance (the CLI's address cache, an app listing), the push
//!   goes to the id seen for the name and the TCP connect and key exchange start at once, to
//!   the address seen then.
//!
//! That address may since have passed to another machine. The host key is pinned by instance
//! id, so before the lookup answers only the pinned key is accepted there; any other key waits
//! for the lookup: if it names the same address the usual checks (and questions) follow, else
//! the attempt is dropped without a word and the looked-up address is dialled. Whatever the
//! push or the speculative attempt said, the lookup's explanation ("stopped", "not found")
//! comes first.

use crate::address::{plan_route, RoutePlan};
use crate::aws::AwsContext;
use crate::connect::{
    finish, one_time_key, push_request, timed_push, ConnectOptions, Pushed, Step, StepTiming,
};
use crate::error::Result;
use crate::instance::Instance;
use crate::inventory::resolve_target;
use crate::push::PushReceipt;
use crate::reach::{direct_failed, Reach, Reached};
use crate::session::Connection;
use crate::validate::looks_like_instance_id;
use crate::verifier::Speculation;
use futures::future::OptionFuture;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Resolves `target` (id or Name tag) in `region` and connects, pushing the key for an id while
/// the lookup runs.
pub async fn connect_target(
    aws: &AwsContext,
    region: &str,
    target: &str,
    opts: &ConnectOptions,
) -> Result<Connection> {
    connect_target_with(aws, region, target, None, opts).await
}

/// Like [`connect_target`], starting early with `recent`: the instance as a recent listing saw
/// it. Ignored unless it is in `region` and `target` is its id or its Name tag.
pub async fn connect_target_with(
    aws: &AwsContext,
    region: &str,
    target: &str,
    recent: Option<&Instance>,
    opts: &ConnectOptions,
) -> Result<Connection> {
    crate::validate::target(target)?;
    crate::validate::os_user(&opts.os_user)?;
    let by_id = looks_like_instance_id(target);
    let recent = recent.filter(|r| {
        r.region == region
            && (r.instance_id == target || (!by_id && r.name.as_deref() == Some(target)))
    });
    let early_id = if by_id {
        Some(target)
    } else {
        recent.map(|r| r.instance_id.as_str())
    };
    let early_address = recent.and_then(|r| match plan_route(r, opts.via) {
        Ok(RoutePlan::Direct(address)) => Some(address),
        _ => None,
    });

    let mut timings = Vec::new();
    let key = one_time_key(opts, &mut timings)?;
    let public = key.public_openssh();
    let early_req = early_id.map(|id| push_request(id, region, opts, &public));
    let mut early_push: Option<Boxed<'_, (Result<PushReceipt>, StepTiming)>> =
        (early_req.as_ref()).map(|req| Box::pin(timed_push(aws, req, opts)) as Boxed<'_, _>);
    let (confirm, confirmed) = tokio::sync::watch::channel(None);
    let mut early_reach: Option<Boxed<'_, Result<Reached>>> =
        recent.zip(early_address).map(|(seen, address)| {
            let reach = Reach {
                aws,
                instance: seen,
                opts,
                speculation: Some(Speculation(confirmed)),
            };
            Box::pin(async move { reach.direct(address, None).await }) as Boxed<'_, _>
        });

    let started = Instant::now();
    // Boxed, like the other branches: together they are too big for a worker's stack.
    let mut lookup = Box::pin(resolve_target(aws, region, target));
    let (mut pushed, mut reached_early) = (None, None);
    let found = loop {
        tokio::select! {
            found = &mut lookup => break found,
            p = OptionFuture::from(early_push.as_mut()), if pushed.is_none() && early_push.is_some() => {
                pushed = p;
            }
            r = OptionFuture::from(early_reach.as_mut()), if reached_early.is_none() && early_reach.is_some() => {
                // Told now, so progress shows when the key exchange really ended.
                reached_early = r.map(|r| r.map(|r| told(r, opts)));
            }
        }
    };
    // The lookup's error explains more than the push's for the same cause (unknown, stopped).
    let instance = found?;
    timings.insert(0, opts.report(Step::Resolve, started));
    instance.ensure_running()?;
    let plan = plan_route(&instance, opts.via)?;
    let same_instance = early_id == Some(instance.instance_id.as_str());
    let same_address = early_address.is_some_and(|a| plan == RoutePlan::Direct(a));
    confirm.send_replace(Some(same_instance && same_address));
    if !same_instance {
        // The name has moved to another instance since it was seen: start over for that one.
        (early_push, pushed, early_reach, reached_early) = (None, None, None, None);
    }

    let req = push_request(&instance.instance_id, &instance.region, opts, &public);
    let push = Box::pin(async {
        match (pushed, early_push) {
            (Some(done), _) => done,
            (None, Some(pending)) => pending.await,
            (None, None) => timed_push(aws, &req, opts).await,
        }
    });
    let looked_up = Reach {
        aws,
        instance: &instance,
        opts,
        speculation: None,
    };
    let reach = Box::pin(async {
        match (reached_early, early_reach) {
            // Only the pinned key gets this far before the lookup: it is this instance.
            (Some(Ok(early)), _) => Ok(early),
            // The address is the looked-up one after all: this is the connection attempt.
            (None, Some(pending)) if same_address => match pending.await {
                Ok(reached) => Ok(told(reached, opts)),
                Err(e) => Err(direct_failed(e, opts.via)),
            },
            (None, Some(pending)) => first_ok(pending, looked_up.run(plan), opts).await,
            _ => looked_up.run(plan).await,
        }
    });
    let ((pushed, push_timing), reached) = tokio::join!(push, reach);
    timings.push(push_timing);
    // A push error explains more than a connection error caused by the same root problem.
    let receipt = pushed?;
    let reached = reached?;
    let done = Pushed {
        key: &key,
        request: &req,
        receipt,
    };
    finish(aws, &instance, done, reached, timings, opts).await
}

/// The speculative attempt if it succeeds first (only the pinned key can make it now), else the
/// looked-up address's; the speculative attempt's own failure is never shown.
async fn first_ok(
    early: Boxed<'_, Result<Reached>>,
    looked_up: impl Future<Output = Result<Reached>>,
    opts: &ConnectOptions,
) -> Result<Reached> {
    tokio::pin!(early, looked_up);
    let mut early_failed = false;
    loop {
        tokio::select! {
            r = &mut early, if !early_failed => match r {
                Ok(reached) => return Ok(told(reached, opts)),
                Err(_) => early_failed = true,
            },
            r = &mut looked_up => return r,
        }
    }
}

/// Reports the steps of an attempt that ran outside `Reach::run` (which reports its own).
fn told(reached: Reached, opts: &ConnectOptions) -> Reached {
    for timing in &reached.timings {
        opts.tell(*timing);
    }
    reached
}
