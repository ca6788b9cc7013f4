//! Remembers where the current thread panicked, so the thread's panic event
//! can name its call site.

use std::cell::RefCell;
use std::sync::Once;

/// Where a panic happened: file, line, column.
pub(crate) type PanicSite = (String, u32, u32);

thread_local! {
    static LAST_PANIC: RefCell<Option<PanicSite>> = const { RefCell::new(None) };
    /// The recorded site of the panic this thread is about to raise again
    /// (a replayed capture whose read panicked): the hook notes it instead
    /// of where the replay raises it.
    static REPLAYED_SITE: RefCell<Option<PanicSite>> = const { RefCell::new(None) };
    /// The message of this thread's last panic: a thread whose panic reprise
    /// does not catch itself (the main thread under a [`crate::RecordGuard`])
    /// has no payload to read it from.
    static LAST_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// Installs (once per process) a panic hook that notes the location and then
/// calls the hook that was there before.
pub(crate) fn install_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            crate::rt::coop::panic_started();
            let replayed = REPLAYED_SITE.try_with(|c| c.borrow_mut().take()).ok().flatten();
            let site =
                replayed.or_else(|| info.location().map(|l| (l.file().to_string(), l.line(), l.column())));
            if let Some(site) = site {
                let _ = LAST_PANIC.try_with(|c| *c.borrow_mut() = Some(site));
            }
            let text = message(info.payload());
            let _ = LAST_MESSAGE.try_with(|c| *c.borrow_mut() = Some(text));
            previous(info);
        }));
    });
}

/// The location of this thread's last panic, left in place (the thread's
/// panic event takes it if the panic ends the thread).
pub(crate) fn last_site() -> Option<PanicSite> {
    LAST_PANIC.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// Makes this thread's next panic note `site` as where it was raised.
pub(crate) fn raise_next_at(site: PanicSite) {
    let _ = REPLAYED_SITE.try_with(|c| *c.borrow_mut() = Some(site));
}

/// The location of this thread's last panic, taken.
pub(crate) fn take_site() -> PanicSite {
    LAST_PANIC
        .try_with(|c| c.borrow_mut().take())
        .ok()
        .flatten()
        .unwrap_or_else(|| ("<unknown>".to_string(), 0, 0))
}

/// The message of this thread's last panic, taken.
pub(crate) fn take_message() -> Option<String> {
    LAST_MESSAGE.try_with(|c| c.borrow_mut().take()).ok().flatten()
}

/// The text of a panic payload.
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}
