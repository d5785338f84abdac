//! The `parbuild` binary (and `cargo-parbuild`, for `cargo parbuild`): all the work is in the library.

fn main() -> std::process::ExitCode {
    parbuild::run(std::env::args_os())
}
