//! Command line of renewal-map: `serve` the service, `generate` a data set.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use renewal_map::config::{Config, DEFAULT_BIND, DEFAULT_DATA_DIR, DEFAULT_WEB_DIR};
use renewal_map::model::Date;
use renewal_map::snapshot::Snapshot;
use renewal_map::{AppState, app, load};

#[derive(Parser)]
#[command(
    name = "renewal-map",
    version,
    about = "Urban renewal map service: vector tiles, OGC API – Features, nearest pocket parks, progress"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load a data set, index it and serve it over HTTP.
    Serve {
        /// Data set directory.
        #[arg(long, default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = DEFAULT_BIND)]
        bind: SocketAddr,
        /// Directory of the web front-end served at `/`.
        #[arg(long, default_value = DEFAULT_WEB_DIR)]
        web: PathBuf,
        /// Fixed date (YYYY-MM-DD) for lateness, instead of today's.
        #[arg(long)]
        today: Option<Date>,
    },
    /// Generate the illustrative parts of a data set inside the real district outline.
    Generate {
        /// Seed of the generator; the same seed gives the same bytes.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Make a K-times-larger synthetic region (K copies of the district side by side).
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// Directory of the real source files.
        #[arg(long, default_value = "data/sources")]
        sources: PathBuf,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_target(false).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            data,
            bind,
            web,
            today,
        } => serve(Config {
            data_dir: data,
            bind,
            web_dir: web,
            today,
            ..Config::default()
        }),
        Command::Generate {
            seed,
            scale,
            sources,
            out,
        } => generate(seed, scale, sources, out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("renewal-map: {message}");
            ExitCode::FAILURE
        }
    }
}

fn generate(seed: u64, scale: u32, sources: PathBuf, out: PathBuf) -> Result<(), String> {
    if scale == 0 {
        return Err("--scale must be at least 1".into());
    }
    let opts = renewal_map::generate::GenerateOptions {
        seed,
        scale,
        sources,
        out: out.clone(),
    };
    let summary = renewal_map::generate::generate(&opts).map_err(|e| e.to_string())?;
    println!("wrote {} ({summary:?})", out.display());
    Ok(())
}

fn serve(config: Config) -> Result<(), String> {
    config.validate().map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let dataset = load::load_dataset(&config.data_dir).map_err(|e| e.to_string())?;
    let snapshot = Snapshot::build(dataset);
    tracing::info!(
        sites = snapshot.sites.len(),
        base_features = snapshot.fixed.base.len(),
        "loaded {} in {:?}",
        config.data_dir.display(),
        started.elapsed()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tracing::info!("serving on http://{addr}/");
        let router = app(AppState::new(snapshot, config));
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| format!("server error: {e}"))
    })
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish before exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
