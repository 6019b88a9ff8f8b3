//! `ipdiag classify`: tokens and streams → classification → the chosen format.
//!
//! Command-line tokens are all validated before any output (a typo is exit 2, nothing
//! printed); lines from files and stdin are streamed, bad ones reported and counted.

use super::Context;
use super::lookups::Ordered;
use super::report::Reporter;
use crate::classify::ipv4_parse::parse_fast;
use crate::classify::{Classified, Item, parse_item};
use crate::cli::classify::ClassifyArgs;
use crate::error::{Error, InputError, LineError, Problem, Result, printable};
use crate::lines::{Line, LineReader, MAX_LINE};
use crate::output::Format;
use crate::output::classify_csv::ClassifyCsv;
use crate::output::classify_sink::ClassifySink;
use crate::output::classify_table::ClassifyTable;
use crate::output::json_stream::JsonStream;
use crate::resolve::{Resolver, SystemResolver};
use std::fs::File;
use std::io::{self, Read, Write};

/// Runs `ipdiag classify`.
pub fn run(args: &ClassifyArgs, ctx: &mut Context<'_>) -> Result<u8> {
    if args.items.is_empty() && args.file.is_empty() {
        return Err(Error::Usage(
            "nothing to classify: give addresses, '-' for stdin, or --file FILE".into(),
        ));
    }
    let tokens = args
        .items
        .iter()
        .map(|t| {
            if t == "-" {
                Ok(None)
            } else {
                parse_token(t, args.numeric).map(|item| Some((t.as_str(), item)))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (out, err) = (&mut *ctx.out, &mut *ctx.err);
    match ctx.format {
        // `app::formats` refuses Prometheus metrics for classify before this.
        Format::Table | Format::Prometheus => execute(
            Run::new(ClassifyTable::new(out, ctx.style), err, args),
            tokens,
            args,
        ),
        Format::Json => execute(
            Run::new(JsonStream::new(out, true), err, args),
            tokens,
            args,
        ),
        Format::Jsonl => execute(
            Run::new(JsonStream::new(out, false), err, args),
            tokens,
            args,
        ),
        Format::Csv => execute(Run::new(ClassifyCsv::new(out), err, args), tokens, args),
    }
}

/// Parses a token; with `--numeric` a host name is an input error, never a lookup.
fn parse_token(token: &str, numeric: bool) -> Result<Item<'_>, InputError> {
    match parse_item(token)? {
        Item::Host(name) if numeric => {
            Err(InputError::new("address", name, Problem::NameWithNumeric))
        }
        item => Ok(item),
    }
}

/// Classifies the tokens (`None` = stdin) in order, then the files.
fn execute<S: ClassifySink>(
    mut run: Run<'_, S>,
    tokens: Vec<Option<(&str, Item<'_>)>>,
    args: &ClassifyArgs,
) -> Result<u8> {
    for token in tokens {
        match token {
            Some((token, item)) => run.item(token, item)?,
            None => run.stream(io::stdin().lock(), "<stdin>")?,
        }
    }
    for path in &args.file {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| Error::Read {
            path: name.clone(),
            source,
        })?;
        run.stream(file, &name)?;
    }
    run.sink.finish()?;
    Ok(run.reporter.finish(run.err)?)
}

/// The state of one classify run.
struct Run<'a, S> {
    sink: S,
    err: &'a mut dyn Write,
    reporter: Reporter,
    strict: bool,
    numeric: bool,
    /// Look names in streams up (`--resolve`); by default a stream is numeric.
    resolve: bool,
    /// The lines behind a lookup still running (`--resolve`).
    ordered: Ordered,
}

impl<'a, S: ClassifySink> Run<'a, S> {
    fn new(sink: S, err: &'a mut dyn Write, args: &ClassifyArgs) -> Self {
        Self {
            sink,
            err,
            reporter: Reporter::default(),
            strict: args.strict,
            numeric: args.numeric,
            resolve: args.resolve,
            ordered: Ordered::default(),
        }
    }

    /// Classifies one parsed item; a host name is resolved and each address classified.
    fn item(&mut self, token: &str, item: Item<'_>) -> Result<()> {
        let input = token.trim();
        match item {
            Item::Address(address) => self.sink.record(&Classified::address(input, address))?,
            Item::Network(net) => self.sink.record(&Classified::network(input, net))?,
            Item::Host(name) => match SystemResolver.resolve(name) {
                Ok(addresses) => {
                    for address in addresses {
                        self.sink.record(&Classified::address(name, address))?;
                    }
                }
                Err(e) => self
                    .reporter
                    .failure(self.err, format_args!("cannot resolve '{name}': {e}"))?,
            },
        }
        Ok(())
    }

    /// Streams one file or stdin, one item a line.
    fn stream(&mut self, reader: impl Read, source: &str) -> Result<()> {
        let mut lines = LineReader::new(reader, MAX_LINE);
        let mut number = 0u64;
        let read_error = |e| Error::Read {
            path: source.to_owned(),
            source: e,
        };
        while let Some(line) = lines.next_line().map_err(read_error)? {
            number += 1;
            let text = match line {
                Line::Text(text) => text.trim_ascii(),
                Line::TooLong => {
                    self.bad_line(
                        source,
                        number,
                        LineError::Line(Problem::LineTooLong(MAX_LINE)),
                    )?;
                    continue;
                }
            };
            if text.is_empty() || text[0] == b'#' {
                continue;
            }
            // The hot path: a canonical dotted quad, the only form parse_fast accepts.
            if let Some(address) = parse_fast(text) {
                if self.ordered.is_empty() {
                    self.sink.record(&Classified::canonical(address.into()))?;
                } else {
                    self.ordered.address(None, address.into());
                }
                continue;
            }
            let Ok(input) = std::str::from_utf8(text) else {
                self.bad_line(source, number, LineError::Line(Problem::NotUtf8))?;
                continue;
            };
            match parse_token(input, self.numeric) {
                Ok(Item::Host(name)) => self.name_in_stream(name, source, number)?,
                Ok(item) if !self.ordered.is_empty() => match item {
                    Item::Address(a) => self.ordered.address(Some(input.trim()), a),
                    Item::Network(net) => self.ordered.network(input.trim(), net),
                    Item::Host(_) => {}
                },
                Ok(item) => self.item(input, item)?,
                Err(e) => self.bad_line(source, number, LineError::Token(e))?,
            }
        }
        self.with_lookups(|ordered, sink, failed| ordered.finish(sink, failed))
    }

    /// Runs `f` on the queue of lookups, the sink, and the report of a name that did not
    /// resolve.
    fn with_lookups(
        &mut self,
        f: impl FnOnce(
            &mut Ordered,
            &mut S,
            &mut dyn FnMut(&str, &str) -> io::Result<()>,
        ) -> io::Result<()>,
    ) -> Result<()> {
        let Self {
            sink,
            err,
            reporter,
            ordered,
            ..
        } = self;
        f(ordered, sink, &mut |name, e| {
            reporter.failure(*err, format_args!("cannot resolve '{name}': {e}"))
        })?;
        Ok(())
    }

    /// A host name read from a file or stdin: looked up with `--resolve` (concurrently,
    /// its records in input order), else reported as a name (a binary file sent to
    /// classify once made hundreds of lookups, one after another).
    fn name_in_stream(&mut self, name: &str, source: &str, line: u64) -> Result<()> {
        if !self.resolve {
            return Ok(self.reporter.failure(
                self.err,
                format_args!(
                    "{source}:{line}: '{}' is a host name: not looked up in a file or stdin (--resolve looks names up)",
                    printable(name)
                ),
            )?);
        }
        self.with_lookups(|ordered, sink, failed| ordered.lookup(name, sink, failed))
    }

    fn bad_line(&mut self, source: &str, line: u64, error: LineError) -> Result<()> {
        if self.strict {
            return Err(Error::InputLine {
                source_name: source.to_owned(),
                line,
                error,
            });
        }
        Ok(self
            .reporter
            .failure(self.err, format_args!("{source}:{line}: {error}"))?)
    }
}
