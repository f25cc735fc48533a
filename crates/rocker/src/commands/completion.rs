//! `rocker completion bash|zsh|fish`: shell completion scripts generated from the clap
//! definitions, so they always match the verbs and flags the CLI has.

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;

/// Generate the autocompletion script for the specified shell
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// Shell to generate the script for
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// The completion script for `shell`.
pub fn script(shell: CompletionShell) -> Vec<u8> {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut cmd = crate::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "rocker", &mut out);
    out
}

/// Prints the script; needs no daemon.
pub fn run(args: &CompletionArgs) -> i32 {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&script(args.shell)) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_name_the_verbs() {
        for shell in [
            CompletionShell::Bash,
            CompletionShell::Zsh,
            CompletionShell::Fish,
        ] {
            let s = String::from_utf8(script(shell)).unwrap();
            assert!(s.contains("attach") && s.contains("prune"), "{shell:?}");
        }
    }

    /// Every verb and sub-verb has docker-like help text (a one-line about).
    #[test]
    fn every_command_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for sub in cmd.get_subcommands() {
                let name = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(name.clone());
                }
                walk(sub, &name, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&crate::Cli::command(), "rocker", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }
}
