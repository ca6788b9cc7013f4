//! A line for stderr built without allocating or taking a lock: what a
//! signal handler, or a forked child where another thread of the parent
//! may have held the allocator's or stderr's lock, can still say.

/// Bytes gathered on the stack, cut at its capacity (512 bytes).
#[derive(Debug)]
pub struct StderrLine {
    bytes: [u8; 512],
    len: usize,
}

impl Default for StderrLine {
    fn default() -> Self {
        StderrLine::new()
    }
}

impl StderrLine {
    /// An empty line.
    pub const fn new() -> StderrLine {
        StderrLine { bytes: [0; 512], len: 0 }
    }

    /// Appends `text`, as much of it as fits.
    pub fn push(&mut self, text: &[u8]) {
        let n = text.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&text[..n]);
        self.len += n;
    }

    /// Appends `n` in decimal.
    pub fn number(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[at..]);
    }

    /// What it holds.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Writes it to stderr (file descriptor 2), as much as `write` takes: a
    /// failed write loses only the message.
    #[cfg(unix)]
    pub fn write(&self) {
        let mut written = 0;
        while written < self.len {
            let rest = &self.bytes[written..self.len];
            // SAFETY: writes initialized bytes of this buffer to fd 2.
            let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
            if n <= 0 {
                break;
            }
            written += n as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StderrLine;

    #[test]
    fn numbers_and_text_are_kept_and_cut_at_the_capacity() {
        let mut line = StderrLine::new();
        for n in [0, 7, 10, 4_194_304, u64::MAX] {
            line.number(n);
            line.push(b" ");
        }
        assert_eq!(line.as_bytes(), b"0 7 10 4194304 18446744073709551615 ");
        line.push(&[b'x'; 1000]);
        assert_eq!(line.as_bytes().len(), 512);
    }
}
