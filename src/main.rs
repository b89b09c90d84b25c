//! Command line of renewal-map: `serve` the service, `generate` a data set, manage `token`s.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use renewal_map::config::{
    Config, DEFAULT_BIND, DEFAULT_DATA_DIR, DEFAULT_WEB_DIR, Limits, ServerLimits,
};
use renewal_map::http::server;
use renewal_map::model::{Date, Role, SiteId};
use renewal_map::snapshot::Snapshot;
use renewal_map::store::pg;
use renewal_map::store::{NewAccount, OpenMode, OpenedStore, ServeLock, StoreLocation};
use renewal_map::{AppState, app, load};

mod cli {
    pub mod config_file;
}

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
    #[arg(
        long,
        global = true,
        env = "RENEWAL_MAP_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: renewal_map::telemetry::LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Load a data set, index it and serve it over HTTP.
    ///
    /// Every flag can also be given as an environment variable (shown in `--help`).
    Serve(Box<ServeArgs>),
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
    /// Export sites (CSV, XLSX ledger, GeoJSON) or every tile (PMTiles, MBTiles).
    Export {
        #[command(subcommand)]
        command: renewal_map::export::cli::ExportCommand,
    },
    /// Import sites (GeoJSON, CSV, XLSX) into a data set's store, through the write service.
    Import {
        #[command(subcommand)]
        command: renewal_map::import::ImportCommand,
    },
    /// Move a store between backends.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Copy a SQLite store into an empty PostgreSQL/PostGIS database (every site, version,
    /// account and change, ids kept), then compare the row counts of every table.
    Copy {
        /// The SQLite store file (stop `serve` on it first).
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database, `postgres://user:pass@host:port/dbname`.
        #[arg(long)]
        to: String,
    },
}

/// The flags of `serve`; each also read from a `RENEWAL_MAP_…` environment variable.
#[derive(clap::Args)]
struct ServeArgs {
    /// Data set directory.
    #[arg(long, env = "RENEWAL_MAP_DATA", default_value = DEFAULT_DATA_DIR)]
    data: PathBuf,
    /// Address to listen on: IP:PORT or HOST:PORT (`localhost:8080`; the first address the
    /// name resolves to).
    #[arg(long, env = "RENEWAL_MAP_BIND", default_value = DEFAULT_BIND)]
    bind: String,
    /// Directory of the web front-end served at `/`.
    #[arg(long, env = "RENEWAL_MAP_WEB", default_value = DEFAULT_WEB_DIR)]
    web: PathBuf,
    /// Fixed date (YYYY-MM-DD) for lateness, instead of today's.
    #[arg(long, env = "RENEWAL_MAP_TODAY")]
    today: Option<Date>,
    /// Memory for cached tiles in MiB (0 turns the cache off).
    #[arg(long, env = "RENEWAL_MAP_TILE_CACHE_MB", default_value_t = 64)]
    tile_cache_mb: usize,
    /// Seconds a client has to send a request head; also the idle keep-alive timeout.
    #[arg(long, env = "RENEWAL_MAP_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    header_timeout_secs: u64,
    /// Seconds a client has to send a request body once its token was accepted.
    #[arg(long, env = "RENEWAL_MAP_BODY_TIMEOUT_SECS", default_value_t = 30)]
    body_timeout_secs: u64,
    /// Seconds one write may wait for a slow client to read before it is disconnected.
    #[arg(long, env = "RENEWAL_MAP_WRITE_TIMEOUT_SECS", default_value_t = 30)]
    write_timeout_secs: u64,
    /// Most connections at once (lowered to fit the open-file limit).
    #[arg(long, env = "RENEWAL_MAP_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Most `GET /api/events` streams open at once; one more gets 503.
    #[arg(long, env = "RENEWAL_MAP_MAX_EVENT_STREAMS", default_value_t = 1024)]
    max_event_streams: usize,
    /// Largest request head in bytes (at least 8192).
    #[arg(long, env = "RENEWAL_MAP_MAX_HEADER_BYTES", default_value_t = 64 * 1024)]
    max_header_bytes: usize,
    /// Seconds in-flight requests get to finish on SIGTERM before every connection is closed.
    #[arg(long, env = "RENEWAL_MAP_SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    shutdown_timeout_secs: u64,
    /// Failed token checks per minute one client address may make before getting 429.
    #[arg(
        long,
        env = "RENEWAL_MAP_AUTH_FAILURES_PER_MINUTE",
        default_value_t = 10
    )]
    auth_failures_per_minute: u32,
    #[command(flatten)]
    web_access: WebAccessArgs,
    #[command(flatten)]
    db: DbArgs,
    /// TOML file of serve's flags (keys are the flag names, lists as arrays); flags and
    /// environment variables win over it.
    #[arg(long, env = cli::config_file::CONFIG_ENV)]
    config: Option<PathBuf>,
}

/// Who may reach the API from where: CORS origins and trusted proxies.
#[derive(clap::Args)]
struct WebAccessArgs {
    /// Origin (scheme://host[:port]) whose pages may read the API; repeat or comma-separate
    /// for more. Default: any.
    #[arg(
        long = "cors-read-origin",
        env = "RENEWAL_MAP_CORS_READ_ORIGINS",
        value_delimiter = ','
    )]
    cors_read_origins: Vec<String>,
    /// Origin whose pages may also write; repeat or comma-separate for more. Default: none.
    #[arg(
        long = "cors-write-origin",
        env = "RENEWAL_MAP_CORS_WRITE_ORIGINS",
        value_delimiter = ','
    )]
    cors_write_origins: Vec<String>,
    /// Address or CIDR block of a reverse proxy whose Forwarded / X-Forwarded-* headers are
    /// believed; repeat or comma-separate for more.
    #[arg(
        long = "trusted-proxy",
        env = "RENEWAL_MAP_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
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

impl ServeArgs {
    /// The configuration these flags describe.
    fn config(&self) -> Result<Config, String> {
        let secs = Duration::from_secs;
        Ok(Config {
            data_dir: self.data.clone(),
            bind: resolve_bind(&self.bind)?,
            web_dir: self.web.clone(),
            today: self.today,
            tile_cache_bytes: self.tile_cache_mb.saturating_mul(1024 * 1024),
            server: ServerLimits {
                header_timeout: secs(self.header_timeout_secs),
                body_timeout: secs(self.body_timeout_secs),
                write_timeout: secs(self.write_timeout_secs),
                max_connections: self.max_connections,
                max_header_bytes: self.max_header_bytes,
                shutdown_timeout: secs(self.shutdown_timeout_secs),
                auth_failures_per_minute: self.auth_failures_per_minute,
            },
            cors_read_origins: self.web_access.cors_read_origins.clone(),
            cors_write_origins: self.web_access.cors_write_origins.clone(),
            trusted_proxies: self.web_access.proxies()?,
            limits: Limits {
                max_event_streams: self.max_event_streams,
                ..Limits::default()
            },
            ..Config::default()
        })
    }
}

/// `IP:PORT`, or `HOST:PORT` resolved to its first address.
fn resolve_bind(bind: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = bind.parse::<SocketAddr>() {
        return Ok(addr);
    }
    bind.to_socket_addrs()
        .map_err(|e| format!("--bind {bind:?} is not IP:PORT or HOST:PORT: {e}"))?
        .next()
        .ok_or_else(|| format!("--bind {bind:?} resolves to no address"))
}

/// Where the store is.
#[derive(clap::Args)]
struct DbArgs {
    /// Store: a SQLite file [default: <data>/renewal.sqlite, created on first start], or a
    /// PostgreSQL/PostGIS database `postgres://user:pass@host:port/dbname` that several
    /// instances share (migrated and seeded on first use).
    #[arg(long, global = true, env = "RENEWAL_MAP_DB")]
    db: Option<PathBuf>,
    /// Create the store given by --db if it does not exist (the default path is always created).
    #[arg(long, global = true, env = "RENEWAL_MAP_INIT_DB")]
    init_db: bool,
}

impl DbArgs {
    /// The store these flags name (see [`StoreLocation::from_flag`]).
    fn location(&self, data_dir: &std::path::Path) -> StoreLocation {
        StoreLocation::from_flag(self.db.as_deref(), data_dir, self.init_db)
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
    let command = Cli::command();
    let serve_flags = command
        .find_subcommand("serve")
        .expect("serve is a subcommand");
    let args = match cli::config_file::with_config_file(std::env::args_os().collect(), serve_flags)
    {
        Ok(args) => args,
        Err(message) => {
            eprintln!("renewal-map: {message}");
            return ExitCode::FAILURE;
        }
    };
    let cli = Cli::parse_from(args);
    renewal_map::telemetry::init(cli.log_format);
    if let Command::Serve(args) = &cli.command
        && let Some(file) = &args.config
    {
        tracing::info!(
            "flags not given on the command line or in the environment from {}",
            file.display()
        );
    }
    let result = match cli.command {
        Command::Serve(args) => args.config().and_then(|config| serve(config, &args.db)),
        Command::Token { command, data, db } => token(command, &data, &db),
        Command::Generate {
            seed,
            scale,
            sources,
            out,
        } => generate(seed, scale, sources, out),
        Command::Export { command } => renewal_map::export::cli::run(command),
        Command::Import { command } => renewal_map::import::run(command),
        Command::Store {
            command: StoreCommand::Copy { from, to },
        } => store_copy(&from, &to),
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
    let started = std::time::Instant::now();
    let location = db.location(&config.data_dir);
    let mut dataset = load::load_dataset(&config.data_dir).map_err(|e| e.to_string())?;
    // Held until serve returns (SQLite only): a second `serve` on this file would write
    // behind this one's snapshot. PostgreSQL is made for several instances: no lock.
    let OpenedStore {
        store,
        lock: _serving,
    } = location
        .open(&dataset.sites, true)
        .map_err(|e| e.to_string())?;
    if let Some(fault) = store.fault(None) {
        tracing::warn!(
            "{fault} ({}): serving reads; writes are refused until this is fixed",
            store.describe()
        );
    }
    // From the first start on, the store is the record of every site (seeded from the data
    // set's sites.geojson then); the data set still gives the base map and the plan. On a
    // shared store this reads the newest state every instance committed: an instance started
    // later is caught up before it listens.
    // The file's copy is dropped first, so the two are never in memory together.
    dataset.sites = Vec::new();
    dataset.sites = store.sites().map_err(|e| e.to_string())?;
    let snapshot = Snapshot::build(dataset);
    tracing::info!(
        sites = snapshot.sites.len(),
        base_features = snapshot.fixed.base.len(),
        "loaded {} with store {} in {:?}",
        config.data_dir.display(),
        store.describe(),
        started.elapsed()
    );
    // Built before the runtime: the PostgreSQL client blocks, and may not inside it.
    let bind = config.bind;
    let limits = config.server.clone();
    let state = AppState::with_site_store(snapshot, store, config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let served = runtime.block_on(async move {
        // On a shared store: follow the other instances' changes from the seq just loaded.
        if let Some(updates) = &state.updates {
            renewal_map::follow::spawn(Arc::clone(updates));
        }
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tracing::info!("serving on http://{addr}/");
        let router = app(state);
        server::serve(listener, router, &limits, shutdown_signal()).await;
        Ok::<(), String>(())
    });
    // Connections still open after the shutdown deadline are dropped here; a store write in
    // flight (a blocking task) gets a moment to commit.
    runtime.shutdown_timeout(Duration::from_secs(2));
    served
}

fn store_copy(from: &std::path::Path, to: &str) -> Result<(), String> {
    if !pg::is_url(to) {
        return Err(format!(
            "--to must be a postgres:// URL, got {:?}",
            pg::redacted(to)
        ));
    }
    // The lock keeps a running `serve` from writing behind the copy.
    let _lock = ServeLock::acquire(from, OpenMode::MustExist).map_err(|e| e.to_string())?;
    let report = pg::copy::copy(from, to).map_err(|e| e.to_string())?;
    println!("table\tsqlite\tpostgresql");
    for (table, a, b) in &report.counts {
        println!("{table}\t{a}\t{b}");
    }
    eprintln!(
        "copied {} into {}; every table's count verified",
        from.display(),
        pg::redacted(to)
    );
    Ok(())
}

fn token(command: TokenCommand, data: &std::path::Path, db: &DbArgs) -> Result<(), String> {
    let dataset = load::load_dataset(data).map_err(|e| e.to_string())?;
    let store = db
        .location(data)
        .open(&dataset.sites, false)
        .map_err(|e| e.to_string())?
        .store;
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
