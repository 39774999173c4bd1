use std::path::PathBuf;
use std::time::Duration;

/// How a lab is shaped. `Default` gives the spec's defaults.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// The first region is the main one (the full catalogue); the second gets the `eu-*` pair.
    pub regions: Vec<String>,
    /// Stopped inventory filler (`filler-00001`, …) spread over the regions.
    pub extra_instances: usize,
    /// Delay before SendSSHPublicKey answers.
    pub eic_latency: Duration,
    /// Delay before every EC2 Query API request (DescribeInstances, …) is answered: the round
    /// trip to AWS from a real office, for benchmarks and for ordering tests.
    pub api_latency: Duration,
    /// Delay before the EC2 Instance Connect Endpoint answers a tunnel's upgrade request (its
    /// extra round trips, for benchmarks).
    pub eice_latency: Duration,
    /// How long a pushed key is served to sshd (AWS: 60 s).
    pub key_ttl: Duration,
    /// Cap on DescribeInstances page size (AWS: 1000), and on the SSO portal's list pages.
    pub max_page_size: usize,
    /// Where sshd configs, host keys, logs and the env file live. `None`: a fresh temp dir,
    /// removed when the lab is dropped.
    pub state_dir: Option<PathBuf>,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            extra_instances: 0,
            eic_latency: Duration::ZERO,
            api_latency: Duration::ZERO,
            eice_latency: Duration::ZERO,
            key_ttl: Duration::from_secs(60),
            max_page_size: 1000,
            state_dir: None,
        }
    }
}
