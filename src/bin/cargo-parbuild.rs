//! `cargo parbuild …`: cargo runs `cargo-parbuild parbuild …`, and `parbuild::run` drops the
//! extra word, so this is the same program as `parbuild`.

fn main() -> std::process::ExitCode {
    parbuild::run(std::env::args_os())
}
