//! A file read back while it is still being written: the writer counts what reached the
//! file into a [`Progress`] ([`Counting`]), and a [`Follower`] reads the same file, through
//! a handle of its own, up to there, waiting for more, until the writer says it is done.
//! So `write_file` verifies an archive as it is written, on the cores the compressor
//! leaves, and is done verifying soon after it is done writing.
//!
//! The follower reads the file itself, never the writer's buffers: what it judges is what
//! is on disk (in the page cache, where a re-read after writing would find it too). A
//! file system that showed it fewer or older bytes than were written would make the
//! check fail, never pass bytes it did not read.

use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::{Condvar, Mutex, MutexGuard};

/// How far the writer has got, shared with the [`Follower`] of the same file.
#[derive(Debug, Default)]
pub struct Progress {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    /// Bytes that reached the file.
    written: u64,
    /// `Some(true)`: the writer finished and the file is whole; `Some(false)`: it failed.
    end: Option<bool>,
}

impl Progress {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves a plain counter: still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn add(&self, n: u64) {
        self.lock().written += n;
        self.changed.notify_all();
    }

    /// The writer is done: `whole` when everything was written, false when it failed (the
    /// follower then fails instead of waiting for bytes that will never come).
    pub fn finish(&self, whole: bool) {
        let mut state = self.lock();
        state.end.get_or_insert(whole);
        drop(state);
        self.changed.notify_all();
    }

    /// A guard that calls `finish(false)` when dropped first, so a writer that returns
    /// early or panics never leaves its follower waiting.
    pub fn finish_on_drop(&self) -> FinishOnDrop<'_> {
        FinishOnDrop(self)
    }

    /// Waits until more than `pos` bytes are written or the writer is done.
    fn wait_past(&self, pos: u64) -> State {
        let mut state = self.lock();
        while state.written <= pos && state.end.is_none() {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *state
    }
}

/// See [`Progress::finish_on_drop`].
pub struct FinishOnDrop<'a>(&'a Progress);

impl Drop for FinishOnDrop<'_> {
    fn drop(&mut self) {
        self.0.finish(false);
    }
}

/// A writer that tells `progress` about every byte that reached `inner`.
pub struct Counting<'a, W> {
    inner: W,
    progress: &'a Progress,
}

impl<'a, W: Write> Counting<'a, W> {
    /// Counts what is written to `inner`.
    pub fn new(inner: W, progress: &'a Progress) -> Self {
        Self { inner, progress }
    }
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.progress.add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads a file as far as its writer got, waiting for more: the end of the file once the
/// writer finished, an error once it failed.
pub struct Follower<'a> {
    file: File,
    pos: u64,
    progress: &'a Progress,
}

impl<'a> Follower<'a> {
    /// Follows `file` (a handle of its own on the file being written, at its start).
    pub fn new(file: File, progress: &'a Progress) -> Self {
        Self {
            file,
            pos: 0,
            progress,
        }
    }
}

impl Read for Follower<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let state = self.progress.wait_past(self.pos);
        if state.written > self.pos {
            let ready = usize::try_from(state.written - self.pos).unwrap_or(usize::MAX);
            let want = ready.min(buf.len());
            let n = self.file.read(&mut buf[..want])?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file is shorter than what was written to it",
                ));
            }
            self.pos += n as u64;
            return Ok(n);
        }
        match state.end {
            Some(true) => Ok(0),
            _ => Err(io::Error::other("writing the file failed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_file_to_its_end_while_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = File::create(&path).unwrap();
        let progress = Progress::default();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let back = std::thread::scope(|s| {
            let reader = File::open(&path).unwrap();
            let follower = s.spawn(|| {
                let mut back = Vec::new();
                Follower::new(reader, &progress)
                    .read_to_end(&mut back)
                    .unwrap();
                back
            });
            let _guard = progress.finish_on_drop();
            let mut out = Counting::new(&file, &progress);
            for piece in data.chunks(7_777) {
                out.write_all(piece).unwrap();
                std::thread::yield_now();
            }
            progress.finish(true);
            follower.join().unwrap()
        });
        assert!(back == data);
    }

    #[test]
    fn a_failed_writer_fails_its_follower_instead_of_leaving_it_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = File::create(&path).unwrap();
        let progress = Progress::default();
        let result = std::thread::scope(|s| {
            let reader = File::open(&path).unwrap();
            let follower = s.spawn(|| {
                let mut back = Vec::new();
                Follower::new(reader, &progress)
                    .read_to_end(&mut back)
                    .map(|_| back)
            });
            {
                // Returns early (an error, a panic) without saying so: the guard says it.
                let _guard = progress.finish_on_drop();
                Counting::new(&file, &progress).write_all(b"half").unwrap();
            }
            follower.join().unwrap()
        });
        assert!(result.is_err());
        // After `finish(true)` the guard changes nothing.
        let progress = Progress::default();
        {
            let _guard = progress.finish_on_drop();
            progress.finish(true);
        }
        assert_eq!(progress.wait_past(0).end, Some(true));
    }
}
