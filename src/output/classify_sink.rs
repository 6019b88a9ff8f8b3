//! The `classify` renderers behind one small trait, so the command's loop does not care
//! which format it writes. The loop is generic over the sink (not `dyn`), so the bulk CSV
//! path inlines into it.

use super::classify_csv::ClassifyCsv;
use super::classify_json::ClassifyRecord;
use super::classify_table::ClassifyTable;
use super::json_stream::JsonStream;
use crate::classify::Classified;
use std::io::{self, Write};

/// Receives classified records one at a time.
pub trait ClassifySink {
    /// Renders one record.
    fn record(&mut self, item: &Classified<'_>) -> io::Result<()>;
    /// Ends the output (closes a JSON array, flushes buffers).
    fn finish(&mut self) -> io::Result<()>;
}

impl<W: Write> ClassifySink for ClassifyCsv<W> {
    fn record(&mut self, item: &Classified<'_>) -> io::Result<()> {
        ClassifyCsv::record(self, item)
    }
    fn finish(&mut self) -> io::Result<()> {
        ClassifyCsv::finish(self)
    }
}

impl<W: Write> ClassifySink for ClassifyTable<W> {
    fn record(&mut self, item: &Classified<'_>) -> io::Result<()> {
        ClassifyTable::record(self, item)
    }
    fn finish(&mut self) -> io::Result<()> {
        ClassifyTable::finish(self)
    }
}

impl<W: Write> ClassifySink for JsonStream<W> {
    fn record(&mut self, item: &Classified<'_>) -> io::Result<()> {
        JsonStream::record(self, &ClassifyRecord::from(item))
    }
    fn finish(&mut self) -> io::Result<()> {
        JsonStream::finish(self)
    }
}
