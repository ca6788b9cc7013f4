//! JSON Lines: one event per line, in global order. A receive or a lock
//! names the event it follows (`"from": {"kind": "message", "event": 12}`).

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::json;

use super::event_json;
use crate::views::links::{Link, LinkKind};
use crate::views::number::Numbering;
use crate::views::tables::Tables;

pub(super) fn write(
    numbering: &Numbering<'_>,
    tables: &Tables,
    links: &[Link],
    out: &mut dyn Write,
) -> io::Result<()> {
    let from: HashMap<u64, &Link> = links.iter().map(|l| (l.to, l)).collect();
    let mut out = io::BufWriter::new(out);
    for n in numbering.iter() {
        let mut m = event_json(numbering, tables, &n);
        if let Some(link) = from.get(&n.number) {
            let kind = match link.kind {
                LinkKind::Message => "message",
                LinkKind::Lock => "lock",
            };
            m.insert("from".into(), json!({ "kind": kind, "event": link.from }));
        }
        serde_json::to_writer(&mut out, &m)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
