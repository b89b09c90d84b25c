//! Command line of renewal-map: `serve` the service, `generate` a data set, manage `token`s.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use renewal_map::config::{Config, DEFAULT_BIND, DEFAULT_DATA_DIR, DEFAULT_WEB_DIR};
use renewal_map::model::{Dataset, Date, Role, SiteId};
use renewal_map::snapshot::Snapshot;
use renewal_map::store::{self, NewAccount, OpenMode, ServeLock, Store};
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
    /// Log lines as text or json (filter them with RUST_LOG, default info).
    #[arg(long, global = true, default_value = "text")]
    log_format: renewal_map::telemetry::LogFormat,
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
        /// Memory for cached tiles in MiB (0 turns the cache off).
        #[arg(long, default_value_t = 64)]
        tile_cache_mb: usize,
        #[command(flatten)]
        web_access: WebAccessArgs,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage the bearer tokens that may write status updates.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
        /// Data set directory.
        #[arg(long, global = true, default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
        #[command(flatten)]
        db: DbArgs,
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

/// Who may reach the API from where: CORS origins and trusted proxies.
#[derive(clap::Args)]
struct WebAccessArgs {
    /// Origin (scheme://host[:port]) whose pages may read the API; repeat for more. Default: any.
    #[arg(long = "cors-read-origin")]
    cors_read_origins: Vec<String>,
    /// Origin whose pages may also write; repeat for more. Default: none.
    #[arg(long = "cors-write-origin")]
    cors_write_origins: Vec<String>,
    /// Address or CIDR block of a reverse proxy whose Forwarded / X-Forwarded-* headers are
    /// believed; repeat or comma-separate for more.
    #[arg(long = "trusted-proxy", value_delimiter = ',')]
    trusted_proxies: Vec<String>,
}

impl WebAccessArgs {
    /// The trusted proxies as networks; a bare address is a one-address network.
    fn proxies(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("--trusted-proxy {p:?} is not an address or CIDR block"))
            })
            .collect()
    }
}

/// Where the store is.
#[derive(clap::Args)]
struct DbArgs {
    /// Store file [default: <data>/renewal.sqlite, created on first start].
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    /// Create the store given by --db if it does not exist (the default path is always created).
    #[arg(long, global = true)]
    init_db: bool,
}

impl DbArgs {
    /// The store file and whether it may be created.
    fn location(&self, data_dir: &std::path::Path) -> (PathBuf, OpenMode) {
        match &self.db {
            Some(p) if !self.init_db => (p.clone(), OpenMode::MustExist),
            Some(p) => (p.clone(), OpenMode::CreateIfMissing),
            None => (store::default_path(data_dir), OpenMode::CreateIfMissing),
        }
    }

    fn open(&self, data_dir: &std::path::Path, dataset: &Dataset) -> Result<Store, String> {
        let (path, mode) = self.location(data_dir);
        Store::open(&path, &dataset.sites, mode).map_err(|e| e.to_string())
    }
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an account and print its token (shown only this once).
    Add {
        /// Unique name of the account, recorded with every change (`Team 3`).
        #[arg(long)]
        name: String,
        /// field, planner or admin.
        #[arg(long)]
        role: Role,
        /// Team label; for field teams, a sub-district name or code here also assigns it.
        #[arg(long)]
        team: Option<String>,
        /// Assigned sub-districts, comma separated (codes or names).
        #[arg(long, value_delimiter = ',')]
        subdistricts: Vec<String>,
        /// Assigned site ids, comma separated.
        #[arg(long, value_delimiter = ',')]
        sites: Vec<String>,
    },
    /// List accounts (never their tokens).
    List,
    /// Revoke the token of an account, by name or id.
    Revoke {
        /// Account name or numeric id.
        name_or_id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    renewal_map::telemetry::init(cli.log_format);
    let result = match cli.command {
        Command::Serve {
            data,
            bind,
            web,
            today,
            tile_cache_mb,
            web_access,
            db,
        } => web_access.proxies().and_then(|trusted_proxies| {
            serve(
                Config {
                    data_dir: data,
                    bind,
                    web_dir: web,
                    today,
                    tile_cache_bytes: tile_cache_mb.saturating_mul(1024 * 1024),
                    cors_read_origins: web_access.cors_read_origins,
                    cors_write_origins: web_access.cors_write_origins,
                    trusted_proxies,
                    ..Config::default()
                },
                &db,
            )
        }),
        Command::Token { command, data, db } => token(command, &data, &db),
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

fn serve(config: Config, db: &DbArgs) -> Result<(), String> {
    config.validate().map_err(|e| e.to_string())?;
    // Held until serve returns: a second `serve` on this database would write behind this
    // one's snapshot. Taken before the store is opened, so two first starts cannot both
    // create it.
    let (db_path, mode) = db.location(&config.data_dir);
    let _serving = ServeLock::acquire(&db_path, mode).map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let mut dataset = load::load_dataset(&config.data_dir).map_err(|e| e.to_string())?;
    let store = db.open(&config.data_dir, &dataset)?;
    store
        .overlay(&mut dataset.sites)
        .map_err(|e| e.to_string())?;
    let snapshot = Snapshot::build(dataset);
    tracing::info!(
        sites = snapshot.sites.len(),
        base_features = snapshot.fixed.base.len(),
        "loaded {} with store {} in {:?}",
        config.data_dir.display(),
        store.path().display(),
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
        let router = app(AppState::with_store(snapshot, store, config));
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| format!("server error: {e}"))
    })
}

fn token(command: TokenCommand, data: &std::path::Path, db: &DbArgs) -> Result<(), String> {
    let dataset = load::load_dataset(data).map_err(|e| e.to_string())?;
    let store = db.open(data, &dataset)?;
    match command {
        TokenCommand::Add {
            name,
            role,
            team,
            subdistricts,
            sites,
        } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 100 {
                return Err("--name must be 1 to 100 characters".into());
            }
            let mut assigned = Vec::new();
            let find = |d: &str| {
                dataset
                    .subdistricts
                    .iter()
                    .find(|s| s.code == d || s.name == d || s.name == format!("{d}街道"))
            };
            for d in subdistricts
                .iter()
                .map(|d| d.trim())
                .filter(|d| !d.is_empty())
            {
                let found = find(d).ok_or_else(|| {
                    format!(
                        "unknown sub-district {d:?}; known: {}",
                        dataset
                            .subdistricts
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
                assigned.push(found.code.clone());
            }
            if role == Role::Field
                && let Some(found) = team.as_deref().and_then(find)
            {
                assigned.push(found.code.clone());
            }
            assigned.sort();
            assigned.dedup();
            let mut site_ids = Vec::new();
            for s in sites.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
                if !dataset.sites.iter().any(|x| x.id.as_str() == s) {
                    return Err(format!("unknown site id {s:?}"));
                }
                site_ids.push(SiteId(s.to_owned()));
            }
            if role == Role::Field && assigned.is_empty() && site_ids.is_empty() {
                return Err(
                    "a field account needs an assignment: --team or --subdistricts naming a sub-district, or --sites"
                        .into(),
                );
            }
            if role != Role::Field
                && (!assigned.is_empty() || !site_ids.is_empty())
                && (!subdistricts.is_empty() || !sites.is_empty())
            {
                return Err(format!(
                    "--subdistricts and --sites apply to field accounts, not {role}"
                ));
            }
            let (account, token) = store
                .add_account(&NewAccount {
                    name,
                    role,
                    team,
                    subdistricts: assigned,
                    sites: site_ids,
                })
                .map_err(|e| e.to_string())?;
            eprintln!(
                "created {} account {:?} (id {}); the token below is shown only once:",
                account.role, account.name, account.id
            );
            println!("{token}");
        }
        TokenCommand::List => {
            println!("id\tname\trole\tteam\tassignment\tcreated\trevoked");
            for e in store.accounts().map_err(|e| e.to_string())? {
                let a = &e.account;
                let assignment: Vec<&str> = a
                    .subdistricts
                    .iter()
                    .map(String::as_str)
                    .chain(a.sites.iter().map(|s| s.as_str()))
                    .collect();
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    a.id,
                    a.name,
                    a.role,
                    a.team.as_deref().unwrap_or("-"),
                    if assignment.is_empty() {
                        "-".to_owned()
                    } else {
                        assignment.join(",")
                    },
                    e.created_at,
                    e.revoked_at
                        .map_or_else(|| "-".to_owned(), |t| t.to_string()),
                );
            }
        }
        TokenCommand::Revoke { name_or_id } => {
            let account = store.revoke(&name_or_id).map_err(|e| e.to_string())?;
            println!(
                "revoked the token of {:?} (id {})",
                account.name, account.id
            );
        }
    }
    Ok(())
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
