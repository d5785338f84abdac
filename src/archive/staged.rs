//! A file written beside its destination and renamed into place whole, so a reader sees
//! the old file or the new one and never half of one, and so what a killed writer leaves
//! behind is removed by the next writer of the same destination.
//!
//! Every staging file is `.<dest name>.<random>.tmp` in the destination's directory, and
//! its writer holds an exclusive advisory lock on it (`flock`) for as long as it lives. The
//! kernel drops that lock when the writer dies, however it dies (SIGKILL included), so a
//! staging file nobody has locked is one whose writer is gone: [`Staged::beside`] removes
//! those first. A live writer's file stays locked and is never touched, so two processes
//! writing the same destination each finish, and the last rename wins with a whole file.
//!
//! The one race, a cleaner taking a file its writer created but has not locked yet, is
//! closed by order: the cleaner unlinks while it holds the lock, and the writer, once its
//! own lock is granted, checks that its path still names its file, and starts over if not.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A staging file, locked, removed on drop unless [`persist`](Self::persist)ed.
#[derive(Debug)]
pub struct Staged {
    temp: NamedTempFile,
}

/// What [`Staged::beside`] removed: staging files of writers that are gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleaned {
    /// How many files.
    pub files: usize,
    /// Their size in bytes.
    pub bytes: u64,
}

impl Staged {
    /// A new staging file for `dest`, after removing the staging files of `dest` that no
    /// live writer holds.
    pub fn beside(dest: &Path) -> io::Result<(Self, Cleaned)> {
        let (dir, prefix) = parts(dest);
        let cleaned = remove_stale(&dir, &prefix)?;
        for _ in 0..8 {
            let temp = tempfile::Builder::new()
                .prefix(&prefix)
                .suffix(SUFFIX)
                .tempfile_in(&dir)?;
            temp.as_file().lock()?;
            if names_this_file(temp.path(), temp.as_file())? {
                return Ok((Self { temp }, cleaned));
            }
            // A cleaner unlinked it before the lock was ours: take another.
        }
        Err(io::Error::other(format!(
            "cannot keep a staging file in `{}`: each one was removed as it was made",
            dir.display()
        )))
    }

    /// The open file.
    pub fn file(&self) -> &File {
        self.temp.as_file()
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// Sets its permission bits (staging files are created 0600).
    #[cfg(unix)]
    pub fn set_mode(&self, mode: u32) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(self.path(), std::fs::Permissions::from_mode(mode))
    }

    /// Renames it to `dest`, replacing what is there.
    pub fn persist(self, dest: &Path) -> io::Result<()> {
        self.temp.persist(dest).map(drop).map_err(|e| e.error)
    }

    /// Renames it to `dest` unless something is there (`AlreadyExists`).
    pub fn persist_noclobber(self, dest: &Path) -> io::Result<()> {
        self.temp
            .persist_noclobber(dest)
            .map(drop)
            .map_err(|e| e.error)
    }
}

const SUFFIX: &str = ".tmp";

/// The directory of `dest` and the prefix of its staging files' names.
fn parts(dest: &Path) -> (PathBuf, String) {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    (dir, format!(".{name}."))
}

/// Whether `path` names the very file `file` is open on.
fn names_this_file(path: &Path, file: &File) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let open = file.metadata()?;
        Ok(match std::fs::symlink_metadata(path) {
            Ok(at) => at.dev() == open.dev() && at.ino() == open.ino(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(e),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(path.exists())
    }
}

/// Removes the regular files `<dir>/<prefix>*.tmp` that no process holds locked.
pub fn remove_stale(dir: &Path, prefix: &str) -> io::Result<Cleaned> {
    let mut cleaned = Cleaned::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        // No directory yet: nothing to clean; creating the file will say what is wrong.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(cleaned),
        Err(e) => return Err(e),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(prefix) && name.ends_with(SUFFIX) && name.len() > prefix.len()) {
            continue;
        }
        let path = entry.path();
        // Never follow a link, never touch anything but a plain file.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.file_type().is_file() {
            continue;
        }
        let Ok(file) = File::open(&path) else {
            continue;
        };
        match file.try_lock() {
            Ok(()) => {
                // Still ours to judge: unlink while holding the lock (see the module docs).
                if names_this_file(&path, &file).unwrap_or(false)
                    && std::fs::remove_file(&path).is_ok()
                {
                    cleaned.files += 1;
                    cleaned.bytes += meta.len();
                }
            }
            // A live writer holds it, or locks are not supported here: leave it.
            Err(_) => continue,
        }
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staging_files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_dead_writers_file_goes_a_live_writers_stays() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.par.gz");
        // What a killed writer leaves: a staging file nobody holds.
        std::fs::write(dir.path().join(".x.par.gz.dead01.tmp"), vec![0u8; 1000]).unwrap();
        // Not ours: other names, a directory, a link.
        std::fs::write(dir.path().join(".y.par.gz.other.tmp"), b"y").unwrap();
        std::fs::write(dir.path().join("x.par.gz.tmp"), b"z").unwrap();
        std::fs::create_dir(dir.path().join(".x.par.gz.dir.tmp")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            dir.path().join("elsewhere"),
            dir.path().join(".x.par.gz.link.tmp"),
        )
        .unwrap();

        let (live, cleaned) = Staged::beside(&dest).unwrap();
        assert_eq!(
            cleaned,
            Cleaned {
                files: 1,
                bytes: 1000
            }
        );
        assert!(!dir.path().join(".x.par.gz.dead01.tmp").exists());
        // A second writer of the same destination leaves the first one's file alone.
        let (second, cleaned) = Staged::beside(&dest).unwrap();
        assert_eq!(cleaned, Cleaned::default());
        assert!(live.path().exists() && second.path().exists());

        std::fs::write(live.path(), b"first").unwrap();
        std::fs::write(second.path(), b"second").unwrap();
        live.persist(&dest).unwrap();
        second.persist(&dest).unwrap();
        assert_eq!(
            std::fs::read(&dest).unwrap(),
            b"second",
            "the last rename wins"
        );
        let mut left = staging_files(dir.path());
        left.retain(|n| n.starts_with(".x.par.gz."));
        assert_eq!(left, [".x.par.gz.dir.tmp", ".x.par.gz.link.tmp"]);
        assert!(dir.path().join(".y.par.gz.other.tmp").exists());
        assert!(dir.path().join("x.par.gz.tmp").exists());
    }

    #[test]
    fn dropped_unpersisted_and_noclobber() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.yml");
        let (s, _) = Staged::beside(&dest).unwrap();
        let path = s.path().to_owned();
        drop(s);
        assert!(!path.exists(), "removed on drop");
        std::fs::write(&dest, b"mine").unwrap();
        let (s, _) = Staged::beside(&dest).unwrap();
        let err = s.persist_noclobber(&dest).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&dest).unwrap(), b"mine");
        assert!(staging_files(dir.path()).is_empty());
    }

    #[test]
    fn a_missing_directory_is_nothing_to_clean() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            remove_stale(&dir.path().join("nope"), ".x.").unwrap(),
            Cleaned::default()
        );
    }
}
