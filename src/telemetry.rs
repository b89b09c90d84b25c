//! Log set-up for the binary: lines on stderr (stdout carries only results such as a new
//! token), filtered by `RUST_LOG` (default `info`), as text or one JSON object a line, with
//! colour only when stderr is a terminal so log files hold no ANSI codes.
//!
//! The request log itself (one line per request) is written by the HTTP layer's trace layer;
//! this module only decides where and how lines go.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable text (the default).
    #[default]
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("log format must be text or json, got {other:?}")),
        }
    }
}

/// The filter used when `RUST_LOG` is unset or empty.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the global subscriber. A `RUST_LOG` that does not parse falls back to
/// [`DEFAULT_FILTER`] with a warning rather than stopping the service.
pub fn init(format: LogFormat) {
    let (filter, bad) = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => match EnvFilter::try_new(&v) {
            Ok(f) => (f, None),
            Err(e) => (EnvFilter::new(DEFAULT_FILTER), Some(format!("{v:?}: {e}"))),
        },
        _ => (EnvFilter::new(DEFAULT_FILTER), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_ansi(false)
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    if result.is_ok()
        && let Some(bad) = bad
    {
        tracing::warn!("ignoring RUST_LOG {bad}; using {DEFAULT_FILTER}");
    }
}
