//! `keyless sftp TARGET`: an interactive SFTP prompt on the instance (ls, cd, get, put, mkdir,
//! rm, rename, chmod, lcd, lls, help), for people who live in sftp, over one connection with one
//! key push. Commands can also be piped in, one per line; the exit status is then 1 when any of
//! them failed.

mod command;
mod listing;
mod shell;

use crate::args::SftpArgs;
use crate::output::Failure;
use std::io::IsTerminal;

pub async fn run(args: SftpArgs) -> Result<i32, Failure> {
    let verbose = args.connect.verbose;
    let ssh = args.connect.into_ssh(args.target);
    let connection = crate::cmd_ssh::connect_as_ssh(ssh).await?;
    if verbose {
        eprintln!("keyless: connected to {}", connection.route_text());
    }
    let fs = connection.open_sftp().await.map_err(Failure::ssh)?;
    let interactive = std::io::stdin().is_terminal();
    let code = match shell::Shell::new(fs, interactive).await {
        Ok(mut shell) => {
            if interactive {
                eprintln!(
                    "keyless: connected to {}; type help for the commands",
                    keyless_core::terminal_text::escape(&connection.instance.label())
                );
            }
            Ok(shell
                .run(tokio::io::BufReader::new(tokio::io::stdin()))
                .await)
        }
        Err(e) => Err(Failure::ssh(e)),
    };
    connection.disconnect().await;
    code
}
