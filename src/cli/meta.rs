//! `ipdiag data`, `ipdiag completions`, `ipdiag man`: arguments.

use clap::Args;

/// Examples shown under `ipdiag data --help`.
pub const DATA_EXAMPLES: &str = "\
Examples:
  ipdiag data            the registries and prefix tables compiled in: source, rows, date
  ipdiag data --json

The data is compiled in: nothing is read from disk or the network at run time. Its sources
and licences are in the repository's data/sources/; data/README.md says how to refresh it
(scripts/gen-data.py rebuilds the tables).";

/// Examples shown under `ipdiag completions --help`.
pub const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  mkdir -p ~/.local/share/bash-completion/completions
  ipdiag completions bash > ~/.local/share/bash-completion/completions/ipdiag
  mkdir -p ~/.zfunc && ipdiag completions zsh > ~/.zfunc/_ipdiag   (fpath+=~/.zfunc in ~/.zshrc)
  mkdir -p ~/.config/fish/completions
  ipdiag completions fish > ~/.config/fish/completions/ipdiag.fish
  ipdiag completions powershell >> $PROFILE";

/// Examples shown under `ipdiag man --help`.
pub const MAN_EXAMPLES: &str = "\
Examples:
  ipdiag man | man -l -                       read it now
  mkdir -p ~/.local/share/man/man1
  ipdiag man > ~/.local/share/man/man1/ipdiag.1
  ipdiag man probe > ~/.local/share/man/man1/ipdiag-probe.1";

/// `ipdiag data`.
#[derive(Debug, Args)]
pub struct DataArgs {}

/// `ipdiag completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `ipdiag man [COMMAND]`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command's own page (probe, doctor, ...) instead of the main one
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}
