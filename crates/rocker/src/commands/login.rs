//! `rocker login` and `rocker logout`: check credentials through the daemon (`POST /auth`)
//! and keep them in Docker's client config file, which `pull` and `push` then use.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use clap::Args;
use rocker_api::Client;

use crate::docker_config::{self, DOCKER_HUB};
use crate::exit::{describe, StatusError};

/// Log in to a registry
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Username
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Take the password from stdin
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,
    /// Registry server (default: Docker Hub)
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}

/// Log out from a registry
#[derive(Debug, Args)]
pub struct LogoutArgs {
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}

fn prompt(label: &str) -> anyhow::Result<String> {
    eprint!("{label}");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Reads a password from the terminal without echo.
fn prompt_hidden(label: &str) -> anyhow::Result<String> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin).context("reading terminal settings")?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet).context("turning echo off")?;
    let got = prompt(label);
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    eprintln!();
    got
}

pub async fn login(client: &Client, args: LoginArgs) -> anyhow::Result<i32> {
    let server = args
        .server
        .clone()
        .unwrap_or_else(|| DOCKER_HUB.to_string());
    if args.password.is_some() && args.password_stdin {
        return Err(StatusError::fail(
            1,
            "--password and --password-stdin are mutually exclusive",
        ));
    }
    let interactive = std::io::stdin().is_terminal();
    let username = match args.username.clone() {
        Some(u) => u,
        None if args.password_stdin => {
            return Err(StatusError::fail(
                1,
                "Must provide --username with --password-stdin",
            ))
        }
        None if interactive => prompt("Username: ")?,
        None => {
            return Err(StatusError::fail(
                1,
                "Error: Cannot perform an interactive login from a non TTY device",
            ))
        }
    };
    let password = match (args.password.clone(), args.password_stdin) {
        (Some(p), _) => {
            eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
            p
        }
        (None, true) => {
            let mut s = String::new();
            std::io::stdin().lock().read_line(&mut s)?;
            s.trim_end_matches(['\r', '\n']).to_string()
        }
        (None, false) if interactive => prompt_hidden("Password: ")?,
        (None, false) => {
            return Err(StatusError::fail(
                1,
                "Error: Cannot perform an interactive login from a non TTY device",
            ))
        }
    };
    if username.is_empty() {
        return Err(StatusError::fail(1, "Error: Username is required"));
    }
    if password.is_empty() {
        return Err(StatusError::fail(1, "Error: Password is required"));
    }
    match client.auth(&username, &password, &server).await {
        Ok(_) => {
            docker_config::store(&server, &username, &password)?;
            println!("Login Succeeded");
            Ok(0)
        }
        Err(e) => Err(StatusError::fail(1, describe(&e))),
    }
}

pub async fn logout(_client: &Client, args: LogoutArgs) -> anyhow::Result<i32> {
    let server = args.server.unwrap_or_else(|| DOCKER_HUB.to_string());
    let key = docker_config::server_key(&server);
    if docker_config::erase(&server)? {
        println!("Removing login credentials for {key}");
    } else {
        println!("Not logged in to {key}");
    }
    Ok(0)
}
