//! One module per subcommand: each turns its clap arguments into domain values and drives
//! the pipeline. [`dispatch`] picks the module.

pub mod assemble;
pub mod build;
pub mod ci;
pub mod doctor;
pub mod init;
pub mod inspect;
pub mod keys;
pub mod pack;
pub mod parts;
pub mod plan;
pub mod publish;
pub mod pull;
pub mod push;
pub mod verify;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::progress::Reporter;

/// What every command receives.
#[derive(Debug)]
pub struct Context<'a> {
    /// The environment, with the working directory after `-C`.
    pub env: Env,
    /// The output.
    pub reporter: &'a Reporter,
    /// Global flags.
    pub global: GlobalArgs,
}

impl Context<'_> {
    /// `--manifest-path`, else `par.toml` in the working directory (absolute).
    pub fn manifest_path(&self) -> std::path::PathBuf {
        match &self.global.manifest_path {
            Some(p) => self.env.cwd().join(p),
            None => self.env.cwd().join(crate::manifest::FILE_NAME),
        }
    }

    /// A path given on the command line, made absolute against the working directory.
    pub fn path(&self, p: &std::path::Path) -> std::path::PathBuf {
        self.env.cwd().join(p)
    }
}

/// Makes the directory an archive will be written to (`build` and `assemble` do, as
/// `wash build` does; `pack` instead refuses a directory that does not exist).
pub fn create_output_dir(output: &std::path::Path) -> Result<()> {
    match output.parent() {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            action: "cannot create the output directory",
            path: dir.to_owned(),
            source,
        }),
        None => Ok(()),
    }
}

/// Runs the command `cli` names.
pub fn dispatch(cli: Cli, env: Env, reporter: &Reporter) -> Result<()> {
    let env = match &cli.global.directory {
        Some(dir) => {
            let dir = env.cwd().join(dir);
            if !dir.is_dir() {
                return Err(Error::input(
                    format!("`-C {}`: no such directory", dir.display()),
                    None,
                ));
            }
            env.with_cwd(dir)
        }
        None => env,
    };
    let ctx = Context {
        env,
        reporter,
        global: cli.global.clone(),
    };
    match cli.command {
        None => build::run(&cli.build, &ctx),
        Some(Command::Build(args)) => build::run(&args, &ctx),
        Some(Command::Plan(args)) => plan::run(&args, &ctx),
        Some(Command::Pack(args)) => pack::run(&args, &ctx),
        Some(Command::Inspect(args)) => inspect::run(&args, &ctx),
        Some(Command::Verify(args)) => verify::run(&args, &ctx),
        Some(Command::Keys(cmd)) => keys::run(&cmd, &ctx),
        Some(Command::Doctor(args)) => doctor::run(&args, &ctx),
        Some(Command::Init(args)) => init::run(&args, &ctx),
        Some(Command::Assemble(args)) => assemble::run(&args, &ctx),
        Some(Command::Ci(cmd)) => ci::run(&cmd, &ctx),
        Some(Command::Push(args)) => push::run(&args, &ctx),
        Some(Command::Pull(args)) => pull::run(&args, &ctx),
    }
}
