//! The breakdown of `build --timings` as the compact table printed on stderr after the
//! archive is written: a row per target, per invocation's host work and for the archive,
//! columns `wait compile link pack verify total` in seconds and the largest part. Pure
//! text, so the layout is tested exactly.

use std::fmt::Write as _;

use super::model::{ArchiveTime, Breakdown, Row};
use crate::pipeline::ui::column_width;

/// `1.25s`, or `-` for what was not measured.
fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}s"))
}

/// A row as shown: its name, its cells (wait, compile, link, pack, verify, total) and its
/// largest part.
pub(super) type Line = (String, [String; 6], &'static str);

/// The archive's row.
fn archive_line(a: &ArchiveTime) -> Line {
    let label = if a.unchanged {
        "archive (up to date)"
    } else {
        "archive"
    };
    let verify = a
        .verify
        .map_or_else(|| "in pack".to_owned(), |v| secs(Some(v)));
    let total = a.pack + a.verify.unwrap_or(0.0);
    let dominant = match a.verify {
        None => "pack+verify",
        Some(v) if v > a.pack => "verify",
        Some(_) => "pack",
    };
    (
        label.to_owned(),
        [
            "-".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            secs(Some(a.pack)),
            verify,
            secs(Some(total)),
        ],
        dominant,
    )
}

/// The rows as shown: targets, host work, the archive.
pub(super) fn lines(b: &Breakdown) -> Vec<Line> {
    let cells = |r: &Row| [r.wait, r.compile, r.link, r.pack, r.verify, r.total].map(secs);
    let mut lines: Vec<Line> = b
        .targets
        .iter()
        .chain(&b.host)
        .map(|r| (r.label.clone(), cells(r), r.dominant.unwrap_or("-")))
        .collect();
    lines.extend(b.archive.as_ref().map(archive_line));
    lines
}

/// The table.
pub fn table(b: &Breakdown) -> String {
    const HEAD: &str = "where the time went";
    let rows = lines(b);
    let lw = column_width(rows.iter().map(|r| r.0.as_str()).chain([HEAD]), 0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{HEAD:<lw$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}  mostly",
        "wait", "compile", "link", "pack", "verify", "total"
    );
    for (label, c, dominant) in &rows {
        let _ = writeln!(
            out,
            "{label:<lw$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}  {dominant}",
            c[0], c[1], c[2], c[3], c[4], c[5]
        );
    }
    if !b.supported {
        let _ = writeln!(out, "(no timeline: recording needs Linux's /proc)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, parts: [Option<f64>; 6], dominant: Option<&'static str>) -> Row {
        let [wait, compile, link, pack, verify, total] = parts;
        Row {
            label: label.into(),
            wait,
            compile,
            link,
            pack,
            verify,
            total,
            dominant,
        }
    }

    #[test]
    fn a_row_per_target_host_work_and_the_archive() {
        let s = Some;
        let b = Breakdown {
            supported: true,
            targets: vec![
                row(
                    "x86_64-linux",
                    [s(1.5), s(2.25), s(0.5), None, None, s(4.25)],
                    Some("compile"),
                ),
                row("armv7-linux", [None; 6], None),
            ],
            host: vec![row(
                "host work (zig)",
                [None, s(0.0), s(0.0), None, None, s(0.0)],
                None,
            )],
            archive: Some(ArchiveTime {
                pack: 0.75,
                verify: None,
                unchanged: false,
            }),
            seconds: 4.5,
        };
        assert_eq!(
            table(&b),
            "\
where the time went     wait  compile     link     pack   verify    total  mostly
x86_64-linux           1.50s    2.25s    0.50s        -        -    4.25s  compile
armv7-linux                -        -        -        -        -        -  -
host work (zig)            -    0.00s    0.00s        -        -    0.00s  -
archive                    -        -        -    0.75s  in pack    0.75s  pack+verify
"
        );
    }

    #[test]
    fn an_archive_measured_apart_and_no_proc() {
        let b = Breakdown {
            supported: false,
            targets: Vec::new(),
            host: Vec::new(),
            archive: Some(ArchiveTime {
                pack: 0.5,
                verify: Some(1.0),
                unchanged: true,
            }),
            seconds: 0.0,
        };
        assert_eq!(
            table(&b),
            "\
where the time went      wait  compile     link     pack   verify    total  mostly
archive (up to date)        -        -        -    0.50s    1.00s    1.50s  verify
(no timeline: recording needs Linux's /proc)
"
        );
    }
}
