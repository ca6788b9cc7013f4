//! What the trace says about its threads, call sites and objects, gathered
//! once so a view can name them: "ledger-1", "body.rs:326", "mutex #7
//! (created at body.rs:88)".

use std::collections::HashMap;

use reprise_recorder::trace::model::{ObjectIndex, ObjectKind, Record, SiteIndex, ThreadIndex};
use reprise_recorder::trace::read::TraceFile;
use reprise_recorder::trace::show::text;

/// A call site: file, line, column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// Source file, as recorded.
    pub file: String,
    /// Line (1-based).
    pub line: u32,
    /// Column (1-based).
    pub column: u32,
}

impl std::fmt::Display for Site {
    /// `file:line:column`, with the file made safe to print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", text(&self.file), self.line, self.column)
    }
}

/// An object's table entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// What it is.
    pub kind: ObjectKind,
    /// Where it was first used, if the site is in the trace.
    pub created_at: Option<Site>,
}

/// The trace's thread, site and object tables.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    names: HashMap<ThreadIndex, String>,
    sites: HashMap<(ThreadIndex, SiteIndex), Site>,
    objects: HashMap<ObjectIndex, ObjectInfo>,
}

impl Tables {
    /// Reads the tables of `trace`.
    pub fn of(trace: &TraceFile) -> Tables {
        let mut tables = Tables::default();
        let mut object_sites = Vec::new();
        for (&thread, records) in &trace.threads {
            for record in records.iter() {
                match record {
                    Record::Thread { index, name, .. } => {
                        tables.names.insert(*index, name.clone());
                    }
                    Record::Site { index, file, line, column } => {
                        let site = Site { file: file.clone(), line: *line, column: *column };
                        tables.sites.insert((thread, *index), site);
                    }
                    Record::Object { index, kind, site } => object_sites.push((*index, *kind, thread, *site)),
                    _ => {}
                }
            }
        }
        for (index, kind, thread, site) in object_sites {
            let created_at = tables.sites.get(&(thread, site)).cloned();
            tables.objects.entry(index).or_insert(ObjectInfo { kind, created_at });
        }
        tables
    }

    /// The thread's recorded name, if it has a non-empty one.
    pub fn name(&self, thread: ThreadIndex) -> Option<&str> {
        self.names.get(&thread).map(String::as_str).filter(|n| !n.is_empty())
    }

    /// How a view names a thread: its name made safe to print, or `thread N`.
    pub fn thread_label(&self, thread: ThreadIndex) -> String {
        match self.name(thread) {
            Some(name) => text(name),
            None => format!("thread {thread}"),
        }
    }

    /// The call site `site` of `thread`, if the trace has it.
    pub fn site(&self, thread: ThreadIndex, site: SiteIndex) -> Option<&Site> {
        self.sites.get(&(thread, site))
    }

    /// `file:line:col` of a thread's site, or `?` when the trace lacks it.
    pub fn site_label(&self, thread: ThreadIndex, site: SiteIndex) -> String {
        self.site(thread, site).map_or_else(|| "?".to_string(), Site::to_string)
    }

    /// The object's table entry, if the trace has it.
    pub fn object(&self, object: ObjectIndex) -> Option<&ObjectInfo> {
        self.objects.get(&object)
    }

    /// The objects the table describes, in no order.
    pub fn object_indices(&self) -> impl Iterator<Item = ObjectIndex> + '_ {
        self.objects.keys().copied()
    }

    /// How a view names an object: `mutex #7 (body.rs:88:5)`.
    pub fn object_label(&self, object: ObjectIndex) -> String {
        match self.objects.get(&object) {
            Some(ObjectInfo { kind, created_at: Some(site) }) => {
                format!("{} #{object} ({site})", kind.name())
            }
            Some(ObjectInfo { kind, created_at: None }) => format!("{} #{object}", kind.name()),
            None => format!("object #{object}"),
        }
    }
}
