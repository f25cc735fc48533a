//! `rocker images`: the image list as docker's table.

use chrono::{DateTime, Utc};
use clap::Args;
use rocker_api::human::{human_since, human_size};
use rocker_api::models::ImageSummary;
use rocker_api::Client;

use crate::table::{render, short_id};

/// List images
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Filter output based on conditions provided (dangling, label, reference)
    #[arg(short = 'f', long = "filter", value_name = "filter")] // images filters (P3)
    pub filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go
    /// template ({{.Repository}}, {{.Tag}}, {{.ID}}, {{json .}}, ...)
    #[arg(long)] // images --format (P3)
    pub format: Option<String>,
    /// Only images matching REPOSITORY[:TAG] (wildcards allowed)
    #[arg(value_name = "REPOSITORY[:TAG]")] // P3
    pub reference: Option<String>,
}

pub async fn run(client: &Client, args: ImagesArgs) -> anyhow::Result<i32> {
    // images --filter/--format (P3)
    use super::images_format as fmt;
    use super::list_format::{render_rows, Format};
    use crate::exit::StatusError;
    let filters = super::ps::parse_filter_args(&args.filter)?;
    fmt::check_filters(&filters).map_err(|e| StatusError::fail(1, e))?;
    let list = client.image_list(args.all).await?;
    let list = fmt::apply(list, &filters, args.reference.as_deref());
    let format = Format::parse(args.format.as_deref());
    if args.quiet || format == Format::Default {
        print!("{}", render_images(&list, &args, Utc::now()));
        return Ok(0);
    }
    let rows = fmt::rows(&list, args.no_trunc, Utc::now());
    let out = render_rows(&format, &rows, fmt::HEADERS).map_err(|e| StatusError::fail(1, e))?;
    print!("{out}");
    Ok(0)
}

/// Splits `repo:tag` (the tag is after the last `:` that follows the last `/`).
fn split_tag(reference: &str) -> (String, String) {
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].rfind(':') {
        Some(i) => (
            reference[..slash + i].to_string(),
            reference[slash + i + 1..].to_string(),
        ),
        None => (reference.to_string(), "<none>".to_string()),
    }
}

/// The table (or id list) for `list`: one row per tag, `<none>` for untagged images.
pub fn render_images(list: &[ImageSummary], args: &ImagesArgs, now: DateTime<Utc>) -> String {
    let id = |i: &ImageSummary| {
        if args.no_trunc {
            i.id.clone()
        } else {
            short_id(&i.id)
        }
    };
    if args.quiet {
        let mut seen = std::collections::HashSet::new();
        return list
            .iter()
            .map(id)
            .filter(|i| seen.insert(i.clone()))
            .map(|i| format!("{i}\n"))
            .collect();
    }
    let mut rows = vec![["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
        .map(String::from)
        .to_vec()];
    for img in list {
        let created = DateTime::from_timestamp(img.created, 0).unwrap_or(now);
        let created = format!("{} ago", human_since(created, now));
        let size = human_size(img.size as f64, 3);
        let tags: Vec<(String, String)> = img
            .repo_tags
            .iter()
            .filter(|t| t.as_str() != "<none>:<none>")
            .map(|t| split_tag(t))
            .collect();
        if tags.is_empty() {
            rows.push(vec![
                "<none>".into(),
                "<none>".into(),
                id(img),
                created,
                size,
            ]);
            continue;
        }
        for (repo, tag) in tags {
            rows.push(vec![repo, tag, id(img), created.clone(), size.clone()]);
        }
    }
    render(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_like_docker() {
        let now = DateTime::from_timestamp(1_700_000_000 + 14 * 86400, 0).expect("time");
        let img = ImageSummary {
            id: "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824".into(),
            repo_tags: vec!["busybox:latest".into(), "localhost:5000/x/y:1.0".into()],
            created: 1_700_000_000,
            size: 4_264_000,
            ..Default::default()
        };
        let dangling = ImageSummary {
            id: "sha256:bbbbbbbbbbbbbbbbbb".into(),
            created: 1_700_000_000,
            size: 999,
            ..Default::default()
        };
        let args = ImagesArgs {
            all: false,
            quiet: false,
            no_trunc: false,
            filter: Vec::new(),
            format: None,
            reference: None,
        };
        let out = render_images(&[img.clone(), dangling], &args, now);
        let want = "REPOSITORY           TAG       IMAGE ID       CREATED       SIZE\n\
                    busybox              latest    a416a98b71e2   2 weeks ago   4.26MB\n\
                    localhost:5000/x/y   1.0       a416a98b71e2   2 weeks ago   4.26MB\n\
                    <none>               <none>    bbbbbbbbbbbb   2 weeks ago   999B\n";
        assert_eq!(out, want);
        let q = render_images(
            &[img.clone(), img],
            &ImagesArgs {
                quiet: true,
                ..args
            },
            now,
        );
        assert_eq!(q, "a416a98b71e2\n");
    }
}
