//! `spec [--bundle DIR]`: write a default `config.json` to start from, as `runc spec` does.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};

#[derive(clap::Args)]
pub struct Args {
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let path = args.bundle.join("config.json");
    if path.exists() {
        bail!("File {} exists. Remove it first", path.display());
    }
    let spec = oci_spec::runtime::Spec::default();
    spec.save(&path)
        .with_context(|| format!("write {}", path.display()))?;
    Ok(())
}
