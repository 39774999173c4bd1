//! Twenty `ssh` processes at once to four instances (Ansible-sized fan-out): all log in, and each
//! is offered exactly one key — its own, made for its instance.

use crate::setup::OpenSsh;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_ssh_each_offered_only_its_own_key() {
    let o = OpenSsh::start().await;
    let ids: Vec<String> = o
        .env
        .lab
        .instances()
        .into_iter()
        .filter(|i| {
            i.state == "running"
                && matches!(
                    i.name.as_deref(),
                    Some("web" | "db-primary" | "café-α") | None
                )
        })
        .map(|i| i.id)
        .take(4)
        .collect();
    assert_eq!(ids.len(), 4, "four running lab instances");
    let config = o.config.display().to_string();
    let runs = (0..20).map(|n| {
        let id = ids[n % ids.len()].clone();
        let cmd = o.command(
            "ssh",
            &[
                "-F",
                &config,
                "-v",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=accept-new",
                &id,
                "true",
            ],
        );
        async move { (id, crate::setup::output(cmd).await) }
    });
    let results = join_all(runs).await;
    for (id, out) in &results {
        assert_eq!(out.code, 0, "{id}: {out:?}");
        let offered: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.contains("Will attempt key:"))
            .collect();
        assert_eq!(
            offered.len(),
            1,
            "{id}: exactly one key offered:\n{}",
            out.stderr
        );
        assert!(
            offered[0].contains(&format!("keyless one-time key for {id}")),
            "{offered:?}"
        );
    }
    assert_eq!(o.env.successful_pushes(), 20);
}

/// Every future on its own task, the results in order.
async fn join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task runs"));
    }
    out
}
