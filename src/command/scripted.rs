//! `wsscope summary`, `frames` and `export` on a capture file or stream: a streaming
//! decode, its connections rendered as they are handed out, in connection order.

use std::io::{Read, Write};

use crate::export::frames;
use crate::export::ordered::{OrderedWriter, Render, Totals};
use crate::export::summary;
use crate::export::{Format, Renderer};
use crate::model::Capture;
use crate::pipeline::keep::Purpose;
use crate::pipeline::session::SessionConfig;
use crate::pipeline::{StreamError, StreamSetup, decode_reader_sharded};

/// What a decode keeps for an output in `format` ([`Purpose`]).
pub fn purpose(format: Format) -> Purpose {
    match format {
        Format::Summary => Purpose::Summary,
        Format::Frames => Purpose::Frames,
        Format::Jsonl => Purpose::Export,
    }
}

/// Decodes a capture in streaming mode and writes `renderer`'s output to `out`, keeping
/// what that output shows of the records (decoded with the user's `base` settings): the
/// same bytes as rendering a whole decode, in memory that follows the open flows and
/// the output limits, not the size of the file or the length of a connection.
/// `setup` says how ([`StreamSetup::default`] outside tests; the output does not depend
/// on it). `name` names the capture in the summary. Returns the capture's counts (no
/// connections) and totals.
pub fn write_streaming<R: Read + Send>(
    reader: R,
    base: &SessionConfig,
    renderer: Renderer,
    name: &str,
    out: &mut dyn Write,
    mut setup: StreamSetup,
) -> Result<(Capture, Totals), StreamError> {
    // The summary starts with totals, so its connections are all written at the end.
    let mut ordered = OrderedWriter::new(renderer.format != Format::Summary);
    if renderer.format == Format::Frames {
        frames::write_header(out)?;
    }
    setup.parts = renderer.renders_parts();
    let config = purpose(renderer.format).config(base);
    let capture = decode_reader_sharded(reader, config, setup, |handout| {
        ordered.take(out, handout, &renderer)
    })?;
    if renderer.format == Format::Summary {
        summary::write_header(out, &capture, ordered.totals(), name)?;
    }
    ordered.finish(out)?;
    Ok((capture, ordered.totals()))
}
