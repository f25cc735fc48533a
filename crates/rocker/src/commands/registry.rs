//! `rocker pull`, `rocker push`, `rocker tag`, `rocker rmi`: registry transfers and image
//! names, printed as docker prints them.

use clap::Args;
use rocker_api::Client;

use crate::exit::{describe, StatusError};
use crate::progress;

/// Download an image from a registry
#[derive(Debug, Args)]
pub struct PullArgs {
    /// Suppress verbose output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    pub image: String,
}

/// Upload an image to a registry
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Suppress verbose output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[arg(value_name = "NAME[:TAG]")]
    pub image: String,
}

/// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
#[derive(Debug, Args)]
pub struct TagArgs {
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    pub source: String,
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    pub target: String,
}

/// Remove one or more images
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Do not delete untagged parents (accepted for compatibility)
    #[arg(long)]
    pub no_prune: bool,
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// The reference with docker's default tag, for the final line of `pull -q`.
fn with_default_tag(image: &str) -> String {
    let (_, tag) = rocker_api::client::split_reference(image);
    if tag.is_empty() {
        format!("{image}:latest")
    } else {
        image.to_string()
    }
}

pub async fn pull(client: &Client, args: PullArgs) -> anyhow::Result<i32> {
    if rocker_api::client::split_reference(&args.image)
        .1
        .is_empty()
        && !args.quiet
    {
        println!("Using default tag: latest");
    }
    let auth = crate::docker_config::registry_auth_header(&args.image)?;
    let lines = client.image_pull_with_auth(&args.image, auth).await?;
    if args.quiet {
        progress::display(lines, &mut std::io::sink()).await?;
    } else {
        progress::display(lines, &mut std::io::stdout()).await?;
    }
    println!("{}", qualified(&with_default_tag(&args.image)));
    Ok(0)
}

/// `docker.io/library/busybox:latest` for `busybox:latest`, as docker prints after a pull.
fn qualified(r: &str) -> String {
    let first = r.split('/').next().unwrap_or("");
    let has_domain =
        r.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_domain {
        r.to_string()
    } else if r.contains('/') {
        format!("docker.io/{r}")
    } else {
        format!("docker.io/library/{r}")
    }
}

pub async fn push(client: &Client, args: PushArgs) -> anyhow::Result<i32> {
    let auth = crate::docker_config::registry_auth_header(&args.image)?;
    let lines = client.image_push_with_auth(&args.image, auth).await?;
    if args.quiet {
        progress::display(lines, &mut std::io::sink()).await?;
        println!("{}", args.image);
    } else {
        progress::display(lines, &mut std::io::stdout()).await?;
    }
    Ok(0)
}

pub async fn tag(client: &Client, args: TagArgs) -> anyhow::Result<i32> {
    client.image_tag(&args.source, &args.target).await?;
    Ok(0)
}

pub async fn rmi(client: &Client, args: RmiArgs) -> anyhow::Result<i32> {
    let mut failed = false;
    for image in &args.images {
        match client.image_remove(image, args.force).await {
            Ok(items) => {
                for i in items {
                    if let Some(u) = i.untagged {
                        println!("Untagged: {u}");
                    }
                    if let Some(d) = i.deleted {
                        println!("Deleted: {d}");
                    }
                }
            }
            Err(e) => {
                eprintln!("{}", describe(&e));
                failed = true;
            }
        }
    }
    if failed {
        return Err(StatusError::fail(1, ""));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names() {
        assert_eq!(
            qualified("busybox:latest"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(qualified("a/b:1"), "docker.io/a/b:1");
        assert_eq!(qualified("localhost:5000/a:1"), "localhost:5000/a:1");
        assert_eq!(with_default_tag("a"), "a:latest");
        assert_eq!(
            with_default_tag("localhost:5000/a"),
            "localhost:5000/a:latest"
        );
    }
}
