//! The trace writer: the preamble and header, then one frame per chunk, then
//! the end frame (see [`format`](super::format) for the layout).

use super::format::{
    header_checksum, Footer, FormatVersion, FrameHeader, Header, Seal, FRAME_CHUNK, FRAME_END, MAGIC,
    MAX_CHUNK_PAYLOAD, MAX_FOOTER_LEN, MAX_HEADER_LEN,
};
use std::io::{self, Write};

/// Writes a trace to `W`, frame by frame.
///
/// It adds no buffering of its own: give it a `BufWriter` and flush that after
/// the chunks that must reach the disk. A writer dropped without
/// [`finish`](TraceWriter::finish) leaves a trace without an end marker, which
/// reads as a recording that did not finish, whole up to its last chunk.
///
/// # Examples
///
/// ```
/// use reprise_recorder::trace::format::{Footer, Header, TraceMode, Verdict};
/// use reprise_recorder::trace::write::TraceWriter;
///
/// let header = Header {
///     program: "demo".into(),
///     program_version: "1.0.0".into(),
///     recorder_version: "0.1.0".into(),
///     mode: TraceMode::Record,
///     parameters: vec![],
///     start_unix_ms: 0,
/// };
/// let mut w = TraceWriter::create(Vec::new(), &header)?;
/// w.write_chunk(0, 0, &[0x84, 1])?; // one clock record
/// let footer = Footer { verdict: Verdict::Completed, annotations: vec![], events: 0 };
/// let bytes = w.finish(&footer)?;
/// let trace = reprise_recorder::trace::read::read_trace(&bytes).unwrap();
/// assert!(trace.is_whole());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TraceWriter<W: Write> {
    w: W,
    bytes: u64,
    failed: bool,
    seal: Seal,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn encode<T: serde::Serialize>(value: &T, what: &str, limit: u32) -> io::Result<Vec<u8>> {
    let bytes = postcard::to_stdvec(value)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("encoding {what}: {e}")))?;
    if bytes.len() > limit as usize {
        return Err(invalid(format!("{what} takes {} bytes, more than the limit of {limit}", bytes.len())));
    }
    Ok(bytes)
}

impl<W: Write> TraceWriter<W> {
    /// Writes the magic bytes, the format version and `header`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the header's parameters are invalid (see
    /// [`Header::validate`]) or it encodes to more than
    /// [`MAX_HEADER_LEN`] bytes; otherwise what `w` returns.
    pub fn create(w: W, header: &Header) -> io::Result<Self> {
        header.validate().map_err(|e| invalid(format!("header: {e}")))?;
        let bytes = encode(header, "the header", MAX_HEADER_LEN)?;
        let version = FormatVersion::CURRENT;
        let mut writer = TraceWriter { w, bytes: 0, failed: false, seal: Seal::default() };
        let len = bytes.len() as u32;
        let mut preamble = Vec::with_capacity(16 + bytes.len() + 4);
        preamble.extend_from_slice(&MAGIC);
        preamble.extend_from_slice(&version.major.to_le_bytes());
        preamble.extend_from_slice(&version.minor.to_le_bytes());
        preamble.extend_from_slice(&len.to_le_bytes());
        preamble.extend_from_slice(&bytes);
        preamble.extend_from_slice(&header_checksum(version, &bytes).to_le_bytes());
        writer.put(&preamble)?;
        Ok(writer)
    }

    /// Writes one chunk frame: `payload` holds records of `thread` (see
    /// [`codec`](super::codec)), and `seq` is that thread's chunk number,
    /// counted from 0 with no gap.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `payload` is longer than [`MAX_CHUNK_PAYLOAD`];
    /// otherwise what the underlying writer returns. After an I/O error the
    /// file ends with a partial frame, so every later write fails too.
    pub fn write_chunk(&mut self, thread: u32, seq: u32, payload: &[u8]) -> io::Result<()> {
        if payload.len() > MAX_CHUNK_PAYLOAD as usize {
            return Err(invalid(format!(
                "chunk of {} bytes, more than the limit of {MAX_CHUNK_PAYLOAD}",
                payload.len()
            )));
        }
        let checksum = self.frame(FRAME_CHUNK, thread, seq, payload)?;
        self.seal.add(checksum);
        Ok(())
    }

    /// Writes the end frame with `footer` and the [`Seal`] of the chunks
    /// written, flushes, and returns the writer.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the footer and seal encode to more than
    /// [`MAX_FOOTER_LEN`] bytes; otherwise what the underlying writer returns.
    pub fn finish(mut self, footer: &Footer) -> io::Result<W> {
        let mut bytes = encode(footer, "the footer", MAX_FOOTER_LEN)?;
        bytes.extend(encode(&self.seal, "the seal", MAX_FOOTER_LEN)?);
        if bytes.len() > MAX_FOOTER_LEN as usize {
            let n = bytes.len();
            return Err(invalid(format!(
                "the footer takes {n} bytes, more than the limit of {MAX_FOOTER_LEN}"
            )));
        }
        self.frame(FRAME_END, 0, 0, &bytes)?;
        self.w.flush()?;
        Ok(self.w)
    }

    /// How many bytes have been handed to the underlying writer.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// The underlying writer, e.g. to flush it.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.w
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.w
    }

    /// The seal of the chunks written so far.
    pub fn seal(&self) -> Seal {
        self.seal
    }

    /// Writes a frame; returns its checksum.
    fn frame(&mut self, tag: u8, thread: u32, seq: u32, payload: &[u8]) -> io::Result<u32> {
        let header = FrameHeader::new(tag, thread, seq, payload);
        self.put(&header.to_bytes())?;
        self.put(payload)?;
        Ok(header.checksum)
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other("an earlier write to this trace failed"));
        }
        if let Err(e) = self.w.write_all(bytes) {
            self.failed = true;
            return Err(e);
        }
        self.bytes += bytes.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::format::{TraceMode, Verdict, FRAME_HEADER_LEN, PREAMBLE_LEN};

    fn header() -> Header {
        Header {
            program: "p".into(),
            program_version: "1".into(),
            recorder_version: "0.1.0".into(),
            mode: TraceMode::Record,
            parameters: vec![],
            start_unix_ms: 5,
        }
    }

    #[test]
    fn chunks_over_the_limit_are_refused() {
        let mut w = TraceWriter::create(Vec::new(), &header()).unwrap();
        let before = w.bytes_written();
        let big = vec![0u8; MAX_CHUNK_PAYLOAD as usize + 1];
        let err = w.write_chunk(1, 0, &big).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(w.bytes_written(), before);
        w.write_chunk(1, 0, &big[1..]).unwrap();
    }

    #[test]
    fn bytes_written_counts_every_byte() {
        let mut w = TraceWriter::create(Vec::new(), &header()).unwrap();
        assert_eq!(w.bytes_written() as usize, w.get_ref().len());
        assert!(w.bytes_written() as usize > PREAMBLE_LEN);
        let start = w.bytes_written();
        w.write_chunk(0, 0, b"xyz").unwrap();
        assert_eq!(w.bytes_written(), start + FRAME_HEADER_LEN as u64 + 3);
        let footer = Footer { verdict: Verdict::Completed, annotations: vec![], events: 0 };
        let out = w.finish(&footer).unwrap();
        assert!(out.starts_with(&MAGIC));
    }

    #[test]
    fn invalid_headers_are_refused() {
        let mut h = header();
        h.parameters = vec![("k".into(), "1".into()), ("k".into(), "2".into())];
        let err = TraceWriter::create(Vec::new(), &h).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let mut h = header();
        h.program = "x".repeat(MAX_HEADER_LEN as usize);
        let err = TraceWriter::create(Vec::new(), &h).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    struct FailAfter(usize);
    impl Write for FailAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = buf.len().min(self.0);
            self.0 -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_fails_every_later_write() {
        let mut w = TraceWriter::create(FailAfter(200), &header()).unwrap();
        let payload = [0u8; 300];
        assert!(w.write_chunk(0, 0, &payload).is_err());
        let err = w.write_chunk(0, 1, &[]).unwrap_err();
        assert_eq!(err.to_string(), "an earlier write to this trace failed");
    }
}
