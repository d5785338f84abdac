//! `parbuild keys generate|show`: make an account or service nkey (the seed goes only to
//! a 0600 file, never to the terminal) and show the public key of a seed file.

use crate::cli::{KeyType, KeysCommand};
use crate::error::{Error, Result};
use crate::keystore;

use super::Context;

/// Runs `parbuild keys …`.
pub fn run(cmd: &KeysCommand, ctx: &Context) -> Result<()> {
    match cmd {
        KeysCommand::Generate(args) => {
            let kp = match args.key_type {
                KeyType::Account => nkeys::KeyPair::new_account(),
                KeyType::Service => nkeys::KeyPair::new_service(),
            };
            let path = args.output.as_ref().map(|p| ctx.path(p));
            if let Some(path) = &path {
                if path.exists() {
                    return Err(Error::input(
                        format!(
                            "`{}` already exists; refusing to overwrite a key",
                            path.display()
                        ),
                        Some("choose another `-o`, or delete the old key deliberately".to_owned()),
                    ));
                }
                keystore::write_seed_file(path, &kp)?;
            } else {
                ctx.reporter
                    .note("no `-o FILE`: the seed was not saved; only the public key is shown");
            }
            print(
                ctx,
                args.json,
                args.key_type,
                &kp.public_key(),
                path.as_deref(),
            );
        }
        KeysCommand::Show(args) => {
            let path = ctx.path(&args.file);
            let kp = keystore::read_seed_file(&path, "signing")?;
            let kind = match kp.key_pair_type() {
                nkeys::KeyPairType::Account => Some(KeyType::Account),
                nkeys::KeyPairType::Service => Some(KeyType::Service),
                _ => None,
            };
            match kind {
                Some(kind) => print(ctx, args.json, kind, &kp.public_key(), Some(&path)),
                None => {
                    return Err(Error::input(
                        format!(
                            "`{}` holds a {:?} key; archives use account and service keys",
                            path.display(),
                            kp.key_pair_type()
                        ),
                        None,
                    ));
                }
            }
        }
    }
    Ok(())
}

fn print(ctx: &Context, json: bool, kind: KeyType, public: &str, path: Option<&std::path::Path>) {
    let kind = match kind {
        KeyType::Account => "account",
        KeyType::Service => "service",
    };
    if json {
        ctx.reporter
            .json(&serde_json::json!({ "type": kind, "public_key": public, "path": path }));
    } else {
        ctx.reporter.out(public);
        if let Some(path) = path {
            ctx.reporter
                .status(format!("{kind} key, seed in `{}`", path.display()));
        }
    }
}
