//! Service configuration: where the data is, where to listen, and every request limit.
//!
//! One `Config`, built from the command line (and defaults), validated at start-up so that a
//! typo fails before the port opens. Limits are named constants, not numbers in handlers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::model::Date;

/// Default data set directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "data/huanggu";
/// Default listen address: loopback only; pass `--bind 0.0.0.0:8080` to expose it.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Default directory of the web front-end.
pub const DEFAULT_WEB_DIR: &str = "web";

/// Request limits. Each is enforced with a 4xx JSON error naming the limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest `limit` of an OGC API items page (default 1,000).
    pub max_page: usize,
    /// Page size when `limit` is not given (default 100).
    pub default_page: usize,
    /// Largest `limit` of a nearest-parks query (default 50).
    pub max_nearest: usize,
    /// Nearest parks returned when `limit` is not given (default 5).
    pub default_nearest: usize,
    /// Largest request body in bytes (default 64 KiB); larger bodies get 413. Sized for the
    /// largest valid update: a 2,000-character note and reason written as `\uXXXX` surrogate
    /// pairs take 12 bytes a character, about 48 KB together. Lower it only if clients never
    /// escape non-ASCII text.
    pub max_body_bytes: usize,
    /// Most `GET /api/events` streams open at once (default 1,024); one more gets 503. Each
    /// open stream costs a task and a small buffer; raise it with the file-descriptor limit.
    pub max_event_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_page: 1_000,
            default_page: 100,
            max_nearest: 50,
            default_nearest: 5,
            max_body_bytes: 64 * 1024,
            max_event_streams: 1024,
        }
    }
}

/// Everything the service needs to start.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Data set directory (default [`DEFAULT_DATA_DIR`]).
    pub data_dir: PathBuf,
    /// Listen address (default [`DEFAULT_BIND`]).
    pub bind: SocketAddr,
    /// Directory served at `/` (default [`DEFAULT_WEB_DIR`]); absent directories serve nothing.
    pub web_dir: PathBuf,
    /// Fixed "today" for lateness, for reproducible demos and tests; `None` uses the clock.
    pub today: Option<Date>,
    /// Memory for encoded tiles, in bytes (default 64 MiB; 0 turns the cache off). An edit
    /// drops only the tiles it touches.
    pub tile_cache_bytes: usize,
    /// Smallest and largest area of a pocket park a planner may draw, in m² (default 200 to
    /// 20,000: the plan's 口袋公园 are small parks of 0.02–2 ha; the data set's run 890–8,200).
    /// Change it when another district's plan defines pocket parks otherwise.
    pub pocket_park_area_m2: (f64, f64),
    /// Request limits.
    pub limits: Limits,
    /// Connection timeouts and limits of the HTTP server.
    pub server: ServerLimits,
    /// Browser origins whose pages may read the API (CORS), e.g. `https://maps.example.org`;
    /// empty (the default) lets any origin read. Change it to keep other sites' pages out.
    pub cors_read_origins: Vec<String>,
    /// Browser origins whose pages may write (PATCH, POST, PUT, DELETE); empty (the default)
    /// lets no page on another origin write. The map page served by this service is
    /// same-origin and needs no entry.
    pub cors_write_origins: Vec<String>,
    /// Peers (addresses or CIDR blocks) whose `Forwarded` / `X-Forwarded-Host|Proto|Prefix`
    /// headers are believed when links are built; empty (the default) believes none. Set it
    /// to the reverse proxy's address.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Timeouts and limits of the serve loop (connections, not requests). Each has a `serve` flag
/// and an environment variable; `docs/operations.md` says when to change them.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerLimits {
    /// Time a client has to send a request's whole header (default 10 s). The timer also runs
    /// while a kept-alive connection waits for its next request, so it is the idle keep-alive
    /// timeout too: hyper has one timer for both. Slow-header ("slowloris") and silent
    /// connections are closed when it expires.
    pub header_timeout: Duration,
    /// Time a client has to send a request's whole body once the request was accepted
    /// (default 30 s; bodies are at most `max_body_bytes`); a late body gets `408`. Bodies are
    /// read only after the token was checked.
    pub body_timeout: Duration,
    /// Longest a single write to a client may wait for the client to read (default 30 s);
    /// a reader slower than that is disconnected.
    pub write_timeout: Duration,
    /// Most connections served at once (default 1,024, and never more than the process's
    /// open-file limit leaves room for). Beyond it new connections wait in the listen queue
    /// while the open ones are served.
    pub max_connections: usize,
    /// Largest request head (request line and headers) in bytes (default 64 KiB; hyper's
    /// minimum is 8 KiB); a larger head gets `431`.
    pub max_header_bytes: usize,
    /// On SIGTERM or Ctrl-C, how long in-flight requests get to finish before every
    /// connection (event streams included) is closed and the process exits (default 10 s).
    pub shutdown_timeout: Duration,
    /// Failed authentications one client address may make per minute before it gets `429`
    /// with `Retry-After` (default 10). Successful authentications do not count.
    pub auth_failures_per_minute: u32,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_header_bytes: 64 * 1024,
            shutdown_timeout: Duration::from_secs(10),
            auth_failures_per_minute: 10,
        }
    }
}

/// Default tile cache size in bytes.
pub const DEFAULT_TILE_CACHE_BYTES: usize = 64 * 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            bind: DEFAULT_BIND
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            web_dir: PathBuf::from(DEFAULT_WEB_DIR),
            today: None,
            tile_cache_bytes: DEFAULT_TILE_CACHE_BYTES,
            pocket_park_area_m2: (200.0, 20_000.0),
            limits: Limits::default(),
            server: ServerLimits::default(),
            cors_read_origins: Vec::new(),
            cors_write_origins: Vec::new(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The data directory does not exist.
    #[error("data directory {0} does not exist (run from the repository root, or pass --data DIR)")]
    MissingDataDir(PathBuf),
    /// A limit is zero or inconsistent.
    #[error("invalid limit: {0}")]
    Limit(&'static str),
    /// A CORS origin that is not `scheme://host[:port]`.
    #[error(
        "invalid CORS origin {0:?}: write scheme://host[:port], without a path or trailing slash"
    )]
    Origin(String),
}

/// Whether `o` is a serialised origin: `http(s)://host[:port]`, nothing after.
fn valid_origin(o: &str) -> bool {
    let Some(rest) = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

impl Config {
    /// Checks the configuration before the service starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.data_dir.is_dir() {
            return Err(ConfigError::MissingDataDir(self.data_dir.clone()));
        }
        let l = &self.limits;
        if l.max_page == 0 || l.default_page == 0 || l.default_page > l.max_page {
            return Err(ConfigError::Limit(
                "page sizes must satisfy 0 < default_page <= max_page",
            ));
        }
        if l.max_nearest == 0 || l.default_nearest == 0 || l.default_nearest > l.max_nearest {
            return Err(ConfigError::Limit(
                "nearest limits must satisfy 0 < default_nearest <= max_nearest",
            ));
        }
        let (lo, hi) = self.pocket_park_area_m2;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi) {
            return Err(ConfigError::Limit(
                "pocket_park_area_m2 must satisfy 0 <= min <= max",
            ));
        }
        for origin in self
            .cors_read_origins
            .iter()
            .chain(&self.cors_write_origins)
        {
            if !valid_origin(origin) {
                return Err(ConfigError::Origin(origin.clone()));
            }
        }
        if l.max_event_streams == 0 {
            return Err(ConfigError::Limit("max_event_streams must be at least 1"));
        }
        if l.max_body_bytes < 256 {
            return Err(ConfigError::Limit("max_body_bytes must be at least 256"));
        }
        let s = &self.server;
        if [
            s.header_timeout,
            s.body_timeout,
            s.write_timeout,
            s.shutdown_timeout,
        ]
        .iter()
        .any(Duration::is_zero)
        {
            return Err(ConfigError::Limit("timeouts must be longer than zero"));
        }
        if s.max_connections == 0 {
            return Err(ConfigError::Limit("max_connections must be at least 1"));
        }
        if s.max_header_bytes < 8192 {
            return Err(ConfigError::Limit(
                "max_header_bytes must be at least 8192 (hyper's minimum)",
            ));
        }
        if s.auth_failures_per_minute == 0 {
            return Err(ConfigError::Limit(
                "auth_failures_per_minute must be at least 1",
            ));
        }
        Ok(())
    }

    /// The date lateness is measured against: the fixed date if set, else today (UTC).
    pub fn today(&self) -> Date {
        self.today.unwrap_or_else(Date::today)
    }
}
