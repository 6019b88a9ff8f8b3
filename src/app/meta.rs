//! `ipdiag data`, `ipdiag completions`, `ipdiag man`: about ipdiag itself.

use super::Context;
use crate::classify::datasets::datasets;
use crate::cli::meta::{CompletionsArgs, ManArgs};
use crate::error::{EXIT_OK, Error, Result};
use crate::output::Format;

/// `ipdiag data`: a block per dataset, or a JSON array.
pub fn data(ctx: &mut Context<'_>) -> Result<u8> {
    let all = datasets();
    if matches!(ctx.format, Format::Json | Format::Jsonl) {
        serde_json::to_writer(&mut *ctx.out, &all).map_err(std::io::Error::from)?;
        writeln!(ctx.out)?;
        return Ok(EXIT_OK);
    }
    writeln!(ctx.out, "ipdiag {} compiled in:", env!("CARGO_PKG_VERSION"))?;
    for d in &all {
        writeln!(ctx.out, "\n{} ({} rows)", d.file, d.rows)?;
        writeln!(ctx.out, "  what     {}", d.what)?;
        writeln!(ctx.out, "  source   {}", d.source)?;
        writeln!(ctx.out, "  as of    {}", d.as_of)?;
        writeln!(ctx.out, "  licence  {}", d.licence)?;
    }
    writeln!(
        ctx.out,
        "\nRefresh: see data/README.md (scripts/gen-data.py rebuilds the tables)."
    )?;
    Ok(EXIT_OK)
}

/// `ipdiag completions SHELL`. Generated into memory first: the generator panics on a
/// write error, and a closed stdout (`| head`) must end quietly.
pub fn completions(args: &CompletionsArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let mut command = crate::cli::formats::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "ipdiag", &mut script);
    ctx.out.write_all(&script)?;
    Ok(EXIT_OK)
}

/// `ipdiag man [COMMAND]`.
pub fn man(args: &ManArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let root = crate::cli::formats::command();
    let page = match args.command.as_deref() {
        None => root,
        Some(name) => {
            let Some(sub) = root.find_subcommand(name).cloned() else {
                return Err(Error::Usage(format!(
                    "no command '{}' (ipdiag --help lists them)",
                    crate::error::printable(name)
                )));
            };
            sub.display_name(format!("ipdiag-{name}"))
                .bin_name(format!("ipdiag {name}"))
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    clap_mangen::Man::new(page).render(&mut *ctx.out)?;
    Ok(EXIT_OK)
}
