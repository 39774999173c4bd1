//! Command-line syntax. Values are taken as text and checked by `keyless_core::validate`, so every
//! bad value gets the same one-line error and hint as any other failure.

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "keyless",
    version,
    about = "Open a shell on an EC2 instance with a one-time key — no SSH key to own or lose.",
    long_about = "Keyless lists the EC2 instances your AWS identity may see and connects to them \
                  with EC2 Instance Connect: a fresh Ed25519 key is made in memory for every \
                  connection, pushed with SendSSHPublicKey (valid 60 s), and never written to disk.",
    after_help = "Examples:\n  keyless ls --region eu-west-1 --state running\n  keyless ssh web\n  \
                  keyless ssh ubuntu@i-0123456789abcdef0 -- uptime\n  \
                  keyless profile add web-prod --target Env=prod,Role=web --user ubuntu\n  \
                  keyless ssh @web-prod"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the instances DescribeInstances shows you, across regions.
    #[command(
        after_help = "Examples:\n  keyless ls\n  keyless ls --region us-east-1 --region eu-west-1\n  \
                            keyless ls --all-regions --state running --filter Env=prod\n  \
                            keyless ls --json | jq '.instances[].instance_id'"
    )]
    Ls(LsArgs),
    /// Connect to an instance (by id or Name tag) with a one-time key.
    #[command(
        after_help = "Examples:\n  keyless ssh web                      # the instance named 'web', as ec2-user\n  \
                            keyless ssh ubuntu@i-0123456789abcdef0\n  \
                            keyless ssh web --via public -p 2222\n  \
                            keyless ssh private-db --via eice     # through the VPC's Instance Connect Endpoint\n  \
                            keyless ssh web -- sudo systemctl status nginx\n  \
                            keyless ssh -N -L 5432:db.internal:5432 bastion   # a local port to a database behind it\n  \
                            keyless ssh -N -D 1080 bastion       # SOCKS5: curl --socks5-hostname 127.0.0.1:1080 http://internal/\n  \
                            keyless ssh -N -R 8080:localhost:3000 web   # the instance's port 8080 to a dev server here\n  \
                            keyless ssh -N @db-prod              # the profile's saved forwards\n  \
                            keyless ssh @web-prod                # a saved profile (keyless profile --help)\n\n\
                            Exit status: the remote command's, or 255 when Keyless could not connect."
    )]
    Ssh(SshArgs),
    /// Copy files to or from an instance over SFTP, like scp: TARGET:PATH is on the instance.
    #[command(
        after_help = "Examples:\n  keyless cp web:/var/log/nginx/error.log .           # download into this directory\n  \
                            keyless cp app.conf ubuntu@i-0123456789abcdef0:/etc/app/\n  \
                            keyless cp -r ./site @web-prod:/srv/              # a saved profile's instance\n  \
                            keyless cp --resume web:/data/dump.sql.gz .         # continue an interrupted copy\n\n\
                            TARGET is as in `keyless ssh` ([USER@]ID|NAME|@PROFILE); a PATH without a leading '/' starts in the\n\
                            user's home. Anything without ':' before its first '/' is local (./a:b is a local file).\n\
                            Files arrive under a temporary name (.NAME.keyless-part) and are renamed when complete.\n\n\
                            Exit status: 0 when every file arrived whole, 1 when some did not, 255 when the connection failed."
    )]
    Cp(CpArgs),
    /// An interactive SFTP prompt on an instance: ls, cd, get, put, mkdir, rm, rename, chmod, lcd, lls.
    #[command(
        after_help = "Examples:\n  keyless sftp web                      # then: cd /var/log, get -p syslog, help\n  \
                            keyless sftp @web-prod < commands.txt  # one command per line; exit 1 if any failed\n\n\
                            TARGET is as in `keyless ssh` ([USER@]ID|NAME|@PROFILE). Downloads and uploads arrive under a\n\
                            temporary name and are renamed when complete; get -a / put -a (reget, reput) resume them."
    )]
    Sftp(SftpArgs),
    /// Forward a local port through the instance's EC2 Instance Connect Endpoint (SSH or RDP).
    #[command(
        after_help = "Examples:\n  keyless tunnel private-db                       # prints the local address; ssh -p PORT user@127.0.0.1\n  \
                            keyless tunnel win-1 --remote-port 3389 --local-port 13389   # RDP\n  \
                            keyless tunnel @db-prod\n\n\
                            Each connection to the local port gets its own tunnel (an endpoint serves at most 20 at once,\n\
                            shared by the whole VPC). No key is pushed: the client you connect authenticates itself.\n\
                            Ctrl+C ends it."
    )]
    Tunnel(TunnelArgs),
    /// Saved connection profiles: ls, show, add, edit, rm, export, import.
    #[command(after_help = crate::cmd_profile::EXAMPLES)]
    Profile {
        #[command(subcommand)]
        action: crate::cmd_profile::ProfileAction,
    },
    /// Connect with a saved profile (the same as `keyless ssh @NAME`).
    #[command(after_help = "Examples:\n  keyless connect web-prod\n  \
                            keyless connect web-prod -- uptime\n  \
                            keyless connect web-prod --region eu-west-1 -l ubuntu   # flags override the profile")]
    Connect(SshArgs),
    /// Let plain ssh, scp, rsync, Ansible and VS Code connect through Keyless (~/.ssh/keyless.conf).
    #[command(
        name = "ssh-config",
        after_help = "Examples:\n  keyless ssh-config                     # print the config: a Host per saved profile, Host i-* *.keyless\n  \
                            keyless ssh-config --install           # once; then: ssh web-prod, scp f i-0123456789abcdef0:, ssh web.keyless\n  \
                            keyless ssh-config --install --region eu-west-1 --profile work --via eice   # for ad-hoc targets\n  \
                            keyless ssh-config --uninstall\n\n\
                            --install writes ~/.ssh/keyless.conf and puts `Include ~/.ssh/keyless.conf` on top of ~/.ssh/config\n\
                            (a backup is kept; running it again changes nothing). `keyless profile add|edit|rm|import` and the app\n\
                            keep the file current. Each connection gets a one-time key from Keyless's in-memory agent; host keys\n\
                            are checked against Keyless's store (keyless known-hosts)."
    )]
    SshConfig(SshConfigArgs),
    /// Show or forget trusted host keys (pinned by instance id).
    #[command(name = "known-hosts")]
    KnownHosts {
        #[command(subcommand)]
        action: KnownHostsAction,
    },
    /// Sign in to IAM Identity Center (SSO) for an AWS profile: device code in the browser.
    Login(LoginArgs),
    /// Add IAM Identity Center profiles to ~/.aws/config as `aws configure sso` does: sign in to
    /// the portal, pick accounts and roles, write [sso-session] and [profile] sections.
    #[command(
        name = "configure-sso",
        after_help = "Examples:\n  keyless configure-sso                 # asks for the start URL, region and roles\n  \
                            keyless configure-sso --start-url https://my-org.awsapps.com/start --sso-region eu-west-1 \\\n      \
                            --account 123456789012 --role AdminAccess --region eu-central-1\n  \
                            keyless configure-sso --start-url https://my-org.awsapps.com/start --sso-region eu-west-1 --all\n\n\
                            What is missing is asked for on the terminal (or read from stdin, one answer a line). The file's\n\
                            existing text stays as it is; a copy is kept beside it (config.keyless-backup-…). An sso-session\n\
                            for the same start URL is reused, and its sign-in too while it is valid. A profile name that\n\
                            exists already is refused; the proposed names (ROLE-ACCOUNT, as `aws configure sso`) avoid them."
    )]
    ConfigureSso(ConfigureSsoArgs),
    /// Sign out of IAM Identity Center for an AWS profile, as `aws sso logout` does for it: end
    /// the session on the portal, remove the token cache and the AWS CLI's role credentials of it.
    Logout(LogoutArgs),
    /// Show who the AWS profile is (sts:GetCallerIdentity) and when the credentials expire.
    Whoami(WhoamiArgs),
    /// List the profiles of ~/.aws/config and ~/.aws/credentials with their kind and region.
    #[command(name = "aws-profiles")]
    AwsProfiles(AwsProfilesArgs),
    /// OpenSSH's ProxyCommand: one-time key through Keyless's agent, stdio to the instance's sshd.
    #[command(after_help = crate::cmd_proxy::EXAMPLES)]
    Proxy(crate::cmd_proxy::ProxyArgs),
    /// OpenSSH's KnownHostsCommand in the generated config (not for typing).
    #[command(name = "proxy-known-hosts", hide = true)]
    ProxyKnownHosts(crate::cmd_proxy::KnownHostsArgs),
    /// Keyless's in-memory ssh-agent, started by `keyless proxy` (not for typing).
    #[command(hide = true)]
    Agent(crate::cmd_proxy::AgentArgs),
}

#[derive(Args, Debug, Default)]
pub struct AwsArgs {
    /// AWS profile from ~/.aws/config (default: AWS_PROFILE or "default").
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Region to list; repeat for several (default: the profile's region).
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// List every region enabled for the account.
    #[arg(long, conflicts_with = "regions")]
    pub all_regions: bool,
    /// Only instances in this state (pending, running, stopping, stopped, …); repeatable.
    #[arg(long = "state", value_name = "STATE")]
    pub states: Vec<String>,
    /// Tag filter KEY=VALUE (wildcards * and ?); repeatable, all must match.
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,
    /// Only instances whose name, id or IP contains this text.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Print JSON: {"instances": [...], "errors": [...]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct SshArgs {
    /// [USER@]TARGET: an instance id or Name tag; USER defaults to ec2-user. @NAME: a saved profile.
    #[arg(value_name = "[USER@]TARGET")]
    pub destination: String,
    /// OS user to log in as (overrides USER@ and the profile's user).
    #[arg(short = 'l', long = "login", value_name = "USER")]
    pub login: Option<String>,
    /// SSH port on the instance [default: the profile's, else KEYLESS_SSH_PORT, else 22].
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Region of the instance (default: the profile's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// How to reach the instance: private (default: its private IP, over VPN/Direct Connect),
    /// public, eice (through the VPC's EC2 Instance Connect Endpoint), or auto (public IP if any,
    /// else the private IP raced against the endpoint).
    #[arg(long, value_name = "PATH")]
    pub via: Option<String>,
    /// Ask the EC2 Instance Connect Endpoint to close the tunnel after SECS (needed when an IAM
    /// policy caps ec2-instance-connect:maxTunnelDuration below AWS's 3600).
    #[arg(long, value_name = "SECS")]
    pub max_tunnel_duration: Option<String>,
    /// Unknown host keys: ask (default on a terminal), accept-new, or strict (default otherwise).
    #[arg(long, value_name = "POLICY")]
    pub host_key_policy: Option<String>,
    /// Forward a local port over the connection: [BIND:]PORT:HOST:HOSTPORT (sshd on the instance
    /// connects to HOST:HOSTPORT). Repeatable. Binds 127.0.0.1 unless BIND is given.
    #[arg(short = 'L', value_name = "[BIND:]PORT:HOST:HOSTPORT")]
    pub local_forward: Vec<String>,
    /// Forward a port on the instance back here: [BIND:]PORT:HOST:HOSTPORT (sshd on the instance
    /// listens on PORT, 0: any; its connections go to HOST:HOSTPORT from this machine).
    /// Repeatable. sshd binds its loopback unless BIND is given and its GatewayPorts allows it.
    #[arg(short = 'R', value_name = "[BIND:]PORT:HOST:HOSTPORT")]
    pub remote_forward: Vec<String>,
    /// A SOCKS5 proxy on [BIND:]PORT whose connections leave from the instance (no
    /// authentication; CONNECT to addresses and names, resolved on the instance). Repeatable.
    /// Binds 127.0.0.1 unless BIND is given.
    #[arg(short = 'D', value_name = "[BIND:]PORT")]
    pub dynamic_forward: Vec<String>,
    /// No shell or command: only forward ports (with -L, -R or -D), until Ctrl+C. With @NAME
    /// and none of them: the profile's saved forwards.
    #[arg(short = 'N')]
    pub no_command: bool,
    /// Force a pseudo-terminal even when running a command.
    #[arg(short = 't')]
    pub force_tty: bool,
    /// Print how long each connect step took.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Seconds the server may take for each connect step (banner and key exchange,
    /// authentication, opening the session) [default: KEYLESS_TIMEOUT, else 15].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<String>,
    /// Command to run instead of a login shell.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct CpArgs {
    /// Sources, then the destination; exactly one side is TARGET:PATH on an instance.
    #[arg(value_name = "SRC... DST", required = true, num_args = 2..)]
    pub operands: Vec<String>,
    /// Copy directories and everything below them (symlinks are copied as links).
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// Keep modes and modification and access times.
    #[arg(short = 'p', long)]
    pub preserve: bool,
    /// Continue interrupted copies from their temporary files instead of starting over.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Args, Debug)]
pub struct SftpArgs {
    /// [USER@]ID|NAME|@PROFILE, as for `keyless ssh`.
    #[arg(value_name = "TARGET")]
    pub target: String,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// How `cp` and `sftp` connect: the options they share with `ssh`.
#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// OS user to log in as (overrides USER@ and the profile's user).
    #[arg(short = 'l', long = "login", value_name = "USER")]
    pub login: Option<String>,
    /// SSH port on the instance [default: the profile's, else KEYLESS_SSH_PORT, else 22].
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Region of the instance (default: the profile's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// How to reach the instance: private (default), public, eice or auto (as for ssh).
    #[arg(long, value_name = "PATH")]
    pub via: Option<String>,
    /// Ask the EC2 Instance Connect Endpoint to close the tunnel after SECS.
    #[arg(long, value_name = "SECS")]
    pub max_tunnel_duration: Option<String>,
    /// Unknown host keys: ask (default on a terminal), accept-new, or strict (default otherwise).
    #[arg(long, value_name = "POLICY")]
    pub host_key_policy: Option<String>,
    /// Seconds the server may take for each connect step [default: KEYLESS_TIMEOUT, else 15].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<String>,
    /// Print how long each connect step took.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

impl ConnectArgs {
    /// The same connection said as `ssh` arguments to `destination`, so all connect one way.
    pub fn into_ssh(self, destination: String) -> SshArgs {
        SshArgs {
            destination,
            login: self.login,
            port: self.port,
            aws: self.aws,
            region: self.region,
            via: self.via,
            max_tunnel_duration: self.max_tunnel_duration,
            host_key_policy: self.host_key_policy,
            local_forward: Vec::new(),
            remote_forward: Vec::new(),
            dynamic_forward: Vec::new(),
            no_command: false,
            force_tty: false,
            verbose: self.verbose,
            timeout: self.timeout,
            command: Vec::new(),
        }
    }
}

#[derive(Args, Debug)]
pub struct TunnelArgs {
    /// An instance id or Name tag; @NAME: a saved profile's target, region and AWS profile.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Local port to listen on (on 127.0.0.1) [default: a free one].
    #[arg(long, value_name = "PORT")]
    pub local_port: Option<String>,
    /// Port on the instance: 22 (SSH) or 3389 (RDP).
    #[arg(long, value_name = "PORT", default_value = "22")]
    pub remote_port: String,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Region of the instance (default: the profile's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Ask the endpoint to close each tunnel after SECS (when IAM caps maxTunnelDuration).
    #[arg(long, value_name = "SECS")]
    pub max_tunnel_duration: Option<String>,
    /// Seconds to open each tunnel [default: KEYLESS_TIMEOUT, else 15].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<String>,
}

#[derive(Args, Debug)]
pub struct SshConfigArgs {
    /// Write ~/.ssh/keyless.conf and include it from the top of ~/.ssh/config.
    #[arg(long, conflicts_with = "uninstall")]
    pub install: bool,
    /// Remove the Include line from ~/.ssh/config (after a backup) and ~/.ssh/keyless.conf.
    #[arg(long, conflicts_with_all = ["region", "profile", "via"])]
    pub uninstall: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Region of ad-hoc targets (i-…, NAME.keyless); saved profiles keep their own.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// How to reach ad-hoc targets: private, public, eice or auto (as for ssh).
    #[arg(long, value_name = "PATH")]
    pub via: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum KnownHostsAction {
    /// Show the trusted keys of an instance (or all).
    Show { instance_id: Option<String> },
    /// Forget the keys of an instance (after verifying that it was really rebuilt).
    Forget { instance_id: String },
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Only print the URL; do not try to open a browser.
    #[arg(long)]
    pub no_browser: bool,
}

#[derive(Args, Debug)]
pub struct ConfigureSsoArgs {
    /// The AWS access portal's start URL, e.g. https://my-org.awsapps.com/start.
    #[arg(long, value_name = "URL")]
    pub start_url: Option<String>,
    /// The region of the IAM Identity Center instance.
    #[arg(long, value_name = "REGION")]
    pub sso_region: Option<String>,
    /// The [sso-session] name [default: the file's session for the start URL, else the portal's host name].
    #[arg(long, value_name = "NAME")]
    pub session_name: Option<String>,
    /// The new profiles' default region [asked for; with --account or --all: the --sso-region].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// An account to add a profile for, with the --role at the same position (repeatable).
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// The role of the --account at the same position (repeatable).
    #[arg(long = "role", value_name = "NAME")]
    pub roles: Vec<String>,
    /// Every role the portal lists that has no profile yet.
    #[arg(long, conflicts_with_all = ["accounts", "roles"])]
    pub all: bool,
    /// Only print the sign-in URL; do not try to open a browser.
    #[arg(long)]
    pub no_browser: bool,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Args, Debug)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Print JSON: {"account", "arn", "user_id", "expires_at", "profile"}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct AwsProfilesArgs {
    /// Print JSON: {"profiles": [...]}.
    #[arg(long)]
    pub json: bool,
}
