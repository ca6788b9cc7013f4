//! `select!` and `select_biased!`: crossbeam's syntax, built on
//! [`Select`](crate::channel::Select). The arms are parsed one by one into a
//! normal form, each channel expression is evaluated once and borrowed (an
//! owned end or a reference to one), the select is built, and the chosen
//! arm's operation completes before its body runs. A send's value is
//! evaluated only when its arm is chosen.

/// The arms of `select!` parsed and expanded (not for direct use).
#[doc(hidden)]
#[macro_export]
macro_rules! __reprise_select_internal {
    // ---- Parsing: each arm's head, then its body.
    (@parse $ctor:ident [$($arms:tt)*]) => {
        $crate::__reprise_select_internal!(@bind $ctor [] [] [$($arms)*])
    };
    (@parse $ctor:ident [$($arms:tt)*] recv($r:expr) -> $res:pat => $($rest:tt)*) => {
        $crate::__reprise_select_internal!(@body $ctor [$($arms)*] (recv ($r) ($res)) $($rest)*)
    };
    (@parse $ctor:ident [$($arms:tt)*] send($s:expr, $v:expr) -> $res:pat => $($rest:tt)*) => {
        $crate::__reprise_select_internal!(@body $ctor [$($arms)*] (send ($s) ($v) ($res)) $($rest)*)
    };
    (@parse $ctor:ident [$($arms:tt)*] default($t:expr) => $($rest:tt)*) => {
        $crate::__reprise_select_internal!(@body $ctor [$($arms)*] (timeout ($t)) $($rest)*)
    };
    (@parse $ctor:ident [$($arms:tt)*] default => $($rest:tt)*) => {
        $crate::__reprise_select_internal!(@body $ctor [$($arms)*] (default) $($rest)*)
    };
    (@parse $ctor:ident [$($arms:tt)*] $($rest:tt)+) => {
        ::core::compile_error!(
            "expected an arm: `recv(r) -> pat => body`, `send(s, value) -> pat => body`, \
             `default => body` or `default(timeout) => body`"
        )
    };
    // A block body's comma is optional; an expression body's is not, but
    // for the last arm.
    (@body $ctor:ident [$($arms:tt)*] $head:tt { $($body:tt)* } , $($rest:tt)*) => {
        $crate::__reprise_select_internal!(@parse $ctor [$($arms)* ($head ({ $($body)* }))] $($rest)*)
    };
    (@body $ctor:ident [$($arms:tt)*] $head:tt { $($body:tt)* } $($rest:tt)*) => {
        $crate::__reprise_select_internal!(@parse $ctor [$($arms)* ($head ({ $($body)* }))] $($rest)*)
    };
    (@body $ctor:ident [$($arms:tt)*] $head:tt $body:expr , $($rest:tt)*) => {
        $crate::__reprise_select_internal!(@parse $ctor [$($arms)* ($head ($body))] $($rest)*)
    };
    (@body $ctor:ident [$($arms:tt)*] $head:tt $body:expr) => {
        $crate::__reprise_select_internal!(@parse $ctor [$($arms)* ($head ($body))])
    };

    // ---- Binding: each channel expression evaluated once, borrowed.
    (@bind $ctor:ident [$($bound:tt)*] [$($default:tt)*] []) => {
        $crate::__reprise_select_internal!(@finish $ctor [$($bound)*] [$($default)*])
    };
    (@bind $ctor:ident [$($bound:tt)*] [$($default:tt)*]
        [((recv ($r:expr) ($res:pat)) ($body:expr)) $($rest:tt)*]) => {
        match $r {
            ref __reprise_end => {
                let __reprise_end: &$crate::channel::Receiver<_> = __reprise_end;
                $crate::__reprise_select_internal!(@bind $ctor
                    [$($bound)* (recv __reprise_end __reprise_index () ($res) ($body))]
                    [$($default)*] [$($rest)*])
            }
        }
    };
    (@bind $ctor:ident [$($bound:tt)*] [$($default:tt)*]
        [((send ($s:expr) ($v:expr) ($res:pat)) ($body:expr)) $($rest:tt)*]) => {
        match $s {
            ref __reprise_end => {
                let __reprise_end: &$crate::channel::Sender<_> = __reprise_end;
                $crate::__reprise_select_internal!(@bind $ctor
                    [$($bound)* (send __reprise_end __reprise_index ($v) ($res) ($body))]
                    [$($default)*] [$($rest)*])
            }
        }
    };
    (@bind $ctor:ident [$($bound:tt)*] [] [(($($kind:tt)*) ($body:expr)) $($rest:tt)*]) => {
        $crate::__reprise_select_internal!(@bind $ctor [$($bound)*] [($($kind)*) ($body)] [$($rest)*])
    };
    (@bind $ctor:ident [$($bound:tt)*] [$($default:tt)+] [$($rest:tt)*]) => {
        ::core::compile_error!("a select has at most one `default` arm")
    };

    // ---- The select, and the chosen arm.
    (@finish $ctor:ident [$(($kind:ident $end:ident $index:ident $($arm:tt)*))*] [$($default:tt)*]) => {{
        let mut __reprise_select = $crate::channel::Select::$ctor();
        $(let $index = __reprise_select.$kind($end);)*
        $crate::__reprise_select_internal!(@run __reprise_select
            [$(($kind $end $index $($arm)*))*] [$($default)*])
    }};
    (@run $select:ident [$($arms:tt)*] []) => {{
        let __reprise_op = $select.select();
        $crate::__reprise_select_internal!(@complete __reprise_op [$($arms)*])
    }};
    (@run $select:ident [$($arms:tt)*] [(default) ($body:expr)]) => {
        match $select.try_select() {
            ::core::result::Result::Ok(__reprise_op) => {
                $crate::__reprise_select_internal!(@complete __reprise_op [$($arms)*])
            }
            ::core::result::Result::Err(_) => $body,
        }
    };
    (@run $select:ident [$($arms:tt)*] [(timeout ($t:expr)) ($body:expr)]) => {
        match $select.select_timeout($t) {
            ::core::result::Result::Ok(__reprise_op) => {
                $crate::__reprise_select_internal!(@complete __reprise_op [$($arms)*])
            }
            ::core::result::Result::Err(_) => $body,
        }
    };
    (@complete $op:ident []) => {
        ::core::unreachable!("a select chose an operation it does not have")
    };
    (@complete $op:ident [(recv $end:ident $index:ident () ($res:pat) ($body:expr)) $($rest:tt)*]) => {
        if $op.index() == $index {
            let $res = $op.recv($end);
            $body
        } else {
            $crate::__reprise_select_internal!(@complete $op [$($rest)*])
        }
    };
    (@complete $op:ident [(send $end:ident $index:ident ($v:expr) ($res:pat) ($body:expr)) $($rest:tt)*]) => {
        if $op.index() == $index {
            let $res = $op.send($end, $v);
            $body
        } else {
            $crate::__reprise_select_internal!(@complete $op [$($rest)*])
        }
    };
}

/// Waits on several channel operations and runs the arm of the one that
/// completes. crossbeam's [`select!`](crossbeam_channel::select) with its
/// syntax:
///
/// ```
/// use reprise_recorder::channel::{self, select};
/// use std::time::Duration;
///
/// let (tx_n, rx_n) = channel::unbounded::<u32>();
/// let (tx_s, rx_s) = channel::bounded::<String>(1);
/// tx_n.send(7).unwrap();
/// let got = select! {
///     recv(rx_n) -> n => n.map(|n| n.to_string()).ok(),
///     send(tx_s, "hello".to_string()) -> sent => { sent.ok().map(|()| "sent".to_string()) }
///     default(Duration::from_secs(1)) => None,
/// };
/// assert!(got.is_some());
/// ```
///
/// Arms: `recv(r) -> pat => body`, `send(s, value) -> pat => body` (the
/// value is evaluated only when the arm is chosen), `default => body`
/// (nothing ready now), `default(timeout) => body`; `r`/`s` may be an end
/// or a reference to one. Recorded and replayed like [`Select`](crate::channel::Select),
/// explored arm by arm.
#[macro_export]
macro_rules! __reprise_select {
    ($($arms:tt)*) => {
        $crate::__reprise_select_internal!(@parse new [] $($arms)*)
    };
}

/// Like `select!`, but picks the first ready arm in the order written.
/// crossbeam's [`select_biased!`](crossbeam_channel::select_biased).
#[macro_export]
macro_rules! __reprise_select_biased {
    ($($arms:tt)*) => {
        $crate::__reprise_select_internal!(@parse new_biased [] $($arms)*)
    };
}
