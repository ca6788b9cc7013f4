//! The writer thread of a recording: it owns the file and writes each chunk
//! as soon as a thread hands it over, so a crash loses only what threads
//! still held.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use crate::rt::chunk::Block;
use crate::trace::format::{Footer, Header};
use crate::trace::model::ThreadIndex;
use crate::trace::write::TraceWriter;

/// What threads send to the writer.
#[derive(Debug)]
pub(crate) enum WriterMsg {
    Chunk { thread: ThreadIndex, seq: u32, events: u32, block: Block },
    Finish { footer: Box<Footer> },
}

/// What the writer wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Chunks written.
    pub chunks: u64,
    /// Events in them.
    pub events: u64,
    /// Bytes in the file.
    pub bytes: u64,
}

pub(crate) fn start(
    file: File,
    header: &Header,
    inbox: Receiver<WriterMsg>,
    recycle: Sender<Block>,
) -> io::Result<JoinHandle<io::Result<WriterStats>>> {
    let mut writer = TraceWriter::create(BufWriter::with_capacity(64 * 1024, file), header)?;
    writer.get_mut().flush()?;
    std::thread::Builder::new().name("reprise-writer".into()).spawn(move || run(writer, inbox, recycle))
}

fn run(
    mut writer: TraceWriter<BufWriter<File>>,
    inbox: Receiver<WriterMsg>,
    recycle: Sender<Block>,
) -> io::Result<WriterStats> {
    let mut stats = WriterStats::default();
    let mut failed: Option<io::Error> = None;
    for msg in inbox.iter() {
        match msg {
            WriterMsg::Chunk { thread, seq, events, mut block } => {
                if failed.is_none() {
                    let written = writer
                        .write_chunk(thread, seq, block.payload())
                        .and_then(|()| writer.get_mut().flush());
                    match written {
                        Ok(()) => {
                            stats.chunks += 1;
                            stats.events += u64::from(events);
                        }
                        Err(e) => failed = Some(e),
                    }
                }
                if block.bytes.len() == crate::rt::chunk::CHUNK_CAPACITY {
                    block.len = 0;
                    let _ = recycle.try_send(block);
                }
            }
            WriterMsg::Finish { mut footer } => {
                footer.events = stats.events;
                return match failed.take() {
                    Some(e) => Err(e),
                    None => finish(writer, &footer).map(|bytes| WriterStats { bytes, ..stats }),
                };
            }
        }
    }
    Err(failed.unwrap_or_else(|| io::Error::other("the recording ended without finishing its trace")))
}

fn finish(writer: TraceWriter<BufWriter<File>>, footer: &Footer) -> io::Result<u64> {
    let mut out = writer.finish(footer)?;
    out.flush()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(file.metadata()?.len())
}
