//! bench-provider: a small but realistic capability provider used only to benchmark
//! parbuild. It has what real providers have (a tokio runtime, serde JSON messages,
//! tracing, C code through zstd) so cross builds exercise proc-macros, build scripts and a
//! C compiler for every target. Run it and it answers one request read from stdin.

use std::io::Read as _;

use anyhow::Context as _;
use base64::Engine as _;
use clap::Parser;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use tokio::sync::mpsc;
use tracing::{info, instrument};

/// Command-line options, as a provider host would pass them.
#[derive(Debug, Parser)]
struct Args {
    /// Log as JSON.
    #[arg(long, env = "BENCH_PROVIDER_JSON_LOGS")]
    json_logs: bool,
    /// How many workers handle requests.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

/// One request: a payload to compress and digest.
#[derive(Debug, Deserialize)]
struct Request {
    id: Option<uuid::Uuid>,
    payload: String,
    link: Option<url::Url>,
}

/// The answer.
#[derive(Debug, Serialize)]
struct Response {
    id: uuid::Uuid,
    arch: &'static str,
    os: &'static str,
    compressed: String,
    sha256: String,
    link_host: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum ProviderError {
    #[error("the payload is empty")]
    Empty,
}

#[instrument(skip(req), fields(id))]
fn handle(req: Request) -> anyhow::Result<Response> {
    if req.payload.is_empty() {
        return Err(ProviderError::Empty.into());
    }
    let id = req.id.unwrap_or_else(uuid::Uuid::new_v4);
    tracing::Span::current().record("id", tracing::field::display(id));
    let compressed = zstd::encode_all(req.payload.as_bytes(), 3).context("zstd")?;
    let digest = sha2::Sha256::digest(req.payload.as_bytes());
    info!(bytes = compressed.len(), "handled");
    Ok(Response {
        id,
        arch: std::env::consts::ARCH,
        os: std::env::consts::OS,
        compressed: base64::engine::general_purpose::STANDARD.encode(&compressed),
        sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        link_host: req.link.and_then(|l| l.host_str().map(str::to_owned)),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::from_default_env();
    if args.json_logs {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let (tx, mut rx) = mpsc::channel::<bytes::Bytes>(args.workers.max(1));
    let worker = tokio::spawn(async move {
        let mut out = Vec::new();
        while let Some(line) = rx.recv().await {
            let req: Request = serde_json::from_slice(&line)?;
            out.push(tokio::task::spawn_blocking(move || handle(req)).await??);
        }
        anyhow::Ok(out)
    });
    for line in input.lines().filter(|l| !l.trim().is_empty()) {
        tx.send(bytes::Bytes::copy_from_slice(line.as_bytes())).await?;
    }
    drop(tx);
    let responses = futures::future::try_join_all([worker]).await?;
    for r in responses.into_iter().next().transpose()?.unwrap_or_default() {
        println!("{}", serde_json::to_string(&r)?);
    }
    Ok(())
}
