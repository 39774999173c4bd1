//! Leasing the pooled connection for something the app asked for by name (a tab's shell, a saved
//! forward): one pool key, and — only when the pool has no live connection for it — the instance
//! looked up (unless the backend already listed it; the key push does not wait for the lookup)
//! and connected with a one-time key.

use crate::aws::AwsContext;
use crate::connect::{connect_instance, ConnectOptions};
use crate::error::Result;
use crate::instance::Instance;
use crate::known_instances::AwsProfileKey;
use crate::live::ConnectRequest;
use crate::pool::{ConnectionPool, Lease, PoolKey};
use crate::speculate::connect_target;

/// The pool key for `request` under `aws_profile`: what tabs and forwards share.
pub(crate) fn pool_key(aws_profile: AwsProfileKey, request: &ConnectRequest) -> PoolKey {
    PoolKey {
        aws_profile,
        region: request.region.clone(),
        instance_id: request.instance_id.clone(),
        os_user: request.os_user.clone(),
        port: request.port,
        via: request.via,
    }
}

/// A lease on the connection for `request`, connecting with `opts` when there is none. `opts`
/// must say the same user, port and path as `request`.
pub(crate) async fn lease(
    aws: &AwsContext,
    pool: &ConnectionPool,
    aws_profile: AwsProfileKey,
    request: &ConnectRequest,
    known: Option<Instance>,
    opts: &ConnectOptions,
) -> Result<Lease> {
    // Runs only when the pool has no connection for the key: a reused one reports no steps.
    let connect = async {
        match known {
            Some(instance) => connect_instance(aws, instance, opts).await,
            // The lookup runs alongside the key push (see `speculate.rs`).
            None => {
                Box::pin(connect_target(
                    aws,
                    &request.region,
                    &request.instance_id,
                    opts,
                ))
                .await
            }
        }
    };
    pool.lease(pool_key(aws_profile, request), connect).await
}
