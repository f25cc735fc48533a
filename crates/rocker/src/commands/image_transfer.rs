//! `rocker load` and `rocker import`: upload a tarball, print the daemon's progress.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use rocker_api::client::ImportOptions;
use rocker_api::Client;
use tokio::io::AsyncRead;

use crate::exit::StatusError;
use crate::progress;

/// Load an image from a tar archive or STDIN
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short = 'i', long)]
    pub input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Import the contents from a tarball to create a filesystem image
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change")]
    pub change: Vec<String>,
    /// Set commit message for imported image
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    pub platform: Option<String>,
    /// File path or - for STDIN
    #[arg(value_name = "file|-")]
    pub source: String,
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

type Source = Box<dyn AsyncRead + Unpin + Send>;

async fn open(path: Option<&std::path::Path>) -> anyhow::Result<Source> {
    match path {
        Some(p) => {
            let f = tokio::fs::File::open(p)
                .await
                .map_err(|e| StatusError::fail(1, format!("open {}: {e}", p.display())))?;
            Ok(Box::new(f))
        }
        None => Ok(Box::new(tokio::io::stdin())),
    }
}

pub async fn load(client: &Client, args: LoadArgs) -> anyhow::Result<i32> {
    if args.input.is_none() && std::io::stdin().is_terminal() {
        return Err(StatusError::fail(
            1,
            "requested load from stdin, but stdin is empty",
        ));
    }
    let src = open(args.input.as_deref()).await?;
    let lines = client.image_load(src, args.quiet).await?;
    progress::display(lines, &mut std::io::stdout()).await?;
    Ok(0)
}

pub async fn import(client: &Client, args: ImportArgs) -> anyhow::Result<i32> {
    let path = (args.source != "-").then(|| PathBuf::from(&args.source));
    let src = open(path.as_deref()).await?;
    let (repo, tag) = match args.reference.as_deref() {
        Some(r) => {
            let slash = r.rfind('/').map_or(0, |i| i + 1);
            match r[slash..].rfind(':') {
                Some(i) => (r[..slash + i].to_string(), r[slash + i + 1..].to_string()),
                None => (r.to_string(), String::new()),
            }
        }
        None => (String::new(), String::new()),
    };
    let opts = ImportOptions {
        repo,
        tag,
        changes: args.change.clone(),
        message: args.message.clone().unwrap_or_default(),
        platform: args.platform.clone(),
    };
    let lines = client.image_import(src, &opts).await?;
    progress::display(lines, &mut std::io::stdout()).await?;
    Ok(0)
}
