//! `serve --config FILE` (or `RENEWAL_MAP_CONFIG`): `serve`'s flags from a TOML file.
//!
//! Keys are the long flag names (`bind`, `tile-cache-mb`, `trusted-proxy`; `_` may stand for
//! `-`); lists are TOML arrays; switches are booleans. A flag on the command line wins over
//! its environment variable, which wins over the file, which wins over the default: the file
//! only fills in flags given neither way. An unknown key, a table, or an array for a single
//! value is an error naming the file and the key, and the service does not start.
//!
//! It works on the command line before clap sees it: each key the file sets becomes
//! `--key=value` after `serve`, so clap parses and checks the values as it does the user's.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The environment variable that names the config file when `--config` is not given.
pub const CONFIG_ENV: &str = "RENEWAL_MAP_CONFIG";

/// `args` with the flags of the config file added, if the command is `serve` and a config
/// file is named; `args` as they are otherwise. `serve` is clap's description of `serve`.
pub fn with_config_file(
    args: Vec<OsString>,
    serve: &clap::Command,
) -> Result<Vec<OsString>, String> {
    let Some(at) = args.iter().position(|a| a == "serve") else {
        return Ok(args);
    };
    let Some(path) = config_path(&args[at + 1..]) else {
        return Ok(args);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("config file {}: {e}", path.display()))?;
    let extra = flags_from_toml(&text, &path, serve, &args[at + 1..], |name| {
        std::env::var_os(name).is_some()
    })?;
    let mut out = args;
    out.extend(extra);
    Ok(out)
}

/// The config file named by `--config FILE` / `--config=FILE` among `serve`'s arguments, or
/// by [`CONFIG_ENV`].
fn config_path(serve_args: &[OsString]) -> Option<PathBuf> {
    let mut it = serve_args.iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os(CONFIG_ENV).map(PathBuf::from)
}

/// The `--key=value` arguments for the keys of `text` that neither `given` (the command
/// line after `serve`) nor the environment (`env_set`) already sets.
fn flags_from_toml(
    text: &str,
    path: &Path,
    serve: &clap::Command,
    given: &[OsString],
    env_set: impl Fn(&OsStr) -> bool,
) -> Result<Vec<OsString>, String> {
    let file = path.display();
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("config file {file}: not TOML: {e}"))?;
    let mut out = Vec::new();
    for (key, value) in &table {
        let long = key.replace('_', "-");
        let arg = serve
            .get_arguments()
            .find(|a| a.get_long() == Some(long.as_str()) && long != "config")
            .ok_or_else(|| unknown_key(&file.to_string(), key, serve))?;
        let on_command_line = given.iter().any(|a| {
            a.to_str()
                .is_some_and(|s| s == format!("--{long}") || s.starts_with(&format!("--{long}=")))
        });
        let in_env = arg.get_env().is_some_and(&env_set);
        if on_command_line || in_env {
            continue;
        }
        let is_switch = matches!(arg.get_action(), clap::ArgAction::SetTrue);
        let many = matches!(arg.get_action(), clap::ArgAction::Append);
        let bad = |what: &str| format!("config file {file}: key `{key}`: {what}");
        match value {
            toml::Value::Boolean(on) if is_switch => {
                if *on {
                    out.push(OsString::from(format!("--{long}")));
                }
            }
            _ if is_switch => return Err(bad("a switch takes true or false")),
            toml::Value::Array(items) if many => {
                for item in items {
                    out.push(flag(
                        &long,
                        scalar(item).ok_or_else(|| bad("list items are strings or numbers"))?,
                    ));
                }
            }
            toml::Value::Array(_) => return Err(bad("takes one value, not a list")),
            other => out.push(flag(
                &long,
                scalar(other).ok_or_else(|| bad("takes a string, number or boolean"))?,
            )),
        }
    }
    Ok(out)
}

fn flag(long: &str, value: String) -> OsString {
    OsString::from(format!("--{long}={value}"))
}

/// A TOML scalar as the text a flag takes; `None` for tables and arrays.
fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        toml::Value::Array(_) | toml::Value::Table(_) => None,
    }
}

fn unknown_key(file: &str, key: &str, serve: &clap::Command) -> String {
    let known: Vec<&str> = serve
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| *l != "config" && *l != "help")
        .collect();
    format!(
        "config file {file}: unknown key `{key}`; the keys are serve's flags: {}",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve() -> clap::Command {
        clap::Command::new("serve")
            .arg(clap::Arg::new("bind").long("bind").env("T_BIND"))
            .arg(clap::Arg::new("tile-cache-mb").long("tile-cache-mb"))
            .arg(
                clap::Arg::new("trusted-proxy")
                    .long("trusted-proxy")
                    .action(clap::ArgAction::Append),
            )
            .arg(
                clap::Arg::new("init-db")
                    .long("init-db")
                    .action(clap::ArgAction::SetTrue),
            )
            .arg(clap::Arg::new("config").long("config"))
    }

    fn flags(text: &str, given: &[&str], env: &[&str]) -> Result<Vec<String>, String> {
        let given: Vec<OsString> = given.iter().map(OsString::from).collect();
        flags_from_toml(text, Path::new("c.toml"), &serve(), &given, |n| {
            env.iter().any(|e| OsStr::new(e) == n)
        })
        .map(|v| {
            // Keys come in the table's order, not the file's: compare as sets.
            let mut v: Vec<String> = v.into_iter().map(|s| s.into_string().unwrap()).collect();
            v.sort();
            v
        })
    }

    #[test]
    fn file_fills_in_what_flags_and_env_leave_open() {
        let text = "bind = \"0.0.0.0:80\"\ntile_cache_mb = 16\ntrusted-proxy = [\"10.0.0.0/8\", \"127.0.0.1\"]\ninit-db = true\n";
        assert_eq!(
            flags(text, &[], &[]).unwrap(),
            [
                "--bind=0.0.0.0:80",
                "--init-db",
                "--tile-cache-mb=16",
                "--trusted-proxy=10.0.0.0/8",
                "--trusted-proxy=127.0.0.1"
            ]
        );
        // The command line and the environment win.
        assert_eq!(
            flags(text, &["--tile-cache-mb", "0"], &["T_BIND"]).unwrap(),
            [
                "--init-db",
                "--trusted-proxy=10.0.0.0/8",
                "--trusted-proxy=127.0.0.1"
            ]
        );
        assert_eq!(
            flags("init-db = false", &[], &[]).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn bad_files_name_the_file_and_key() {
        let e = flags("bnd = \"x\"", &[], &[]).unwrap_err();
        assert!(
            e.contains("c.toml") && e.contains("unknown key `bnd`") && e.contains("bind"),
            "{e}"
        );
        let e = flags("bind = [\"a\", \"b\"]", &[], &[]).unwrap_err();
        assert!(e.contains("`bind`: takes one value"), "{e}");
        let e = flags("init-db = \"yes\"", &[], &[]).unwrap_err();
        assert!(e.contains("true or false"), "{e}");
        let e = flags("[bind]\nx = 1", &[], &[]).unwrap_err();
        assert!(e.contains("`bind`"), "{e}");
        let e = flags("config = \"other.toml\"", &[], &[]).unwrap_err();
        assert!(e.contains("unknown key `config`"), "{e}");
        assert!(flags("bind = ", &[], &[]).unwrap_err().contains("not TOML"));
    }

    #[test]
    fn config_path_from_flag_or_env() {
        let a = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            config_path(&a(&["--bind", "x", "--config", "f.toml"])),
            Some(PathBuf::from("f.toml"))
        );
        assert_eq!(
            config_path(&a(&["--config=g.toml"])),
            Some(PathBuf::from("g.toml"))
        );
    }
}
