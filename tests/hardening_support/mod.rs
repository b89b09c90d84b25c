//! Helpers of the hardening tests: the real binary started on 127.0.0.1 over a fixture data
//! set, its log captured, tokens made with `renewal-map token add`, and raw sockets.
#![allow(
    dead_code,
    reason = "each hardening test binary uses a different subset"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_renewal-map");

/// A running `renewal-map serve`, killed on drop.
pub struct Server {
    /// The process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every line it wrote to stdout and stderr so far.
    pub log: Arc<Mutex<Vec<String>>>,
    /// Bytes it wrote so far.
    pub log_bytes: Arc<Mutex<usize>>,
}

impl Server {
    /// `serve --bind 127.0.0.1:0 --data <data> --today 2026-06-01` plus `extra`, waiting for
    /// the "serving on" line (panics with the log when it does not come).
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--today",
            "2026-06-01",
            "--data",
        ])
        .arg(data)
        .args(extra);
        Server::spawn(cmd)
    }

    /// Starts `cmd` (a `serve` command line) and waits until it listens.
    pub fn spawn(cmd: Command) -> Server {
        Server::try_spawn(cmd).unwrap_or_else(|log| panic!("server did not start: {log}"))
    }

    /// [`Server::start`] that returns the log when the server exits instead of listening.
    pub fn try_start(data: &Path, extra: &[&str]) -> Result<Server, String> {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--today",
            "2026-06-01",
            "--data",
        ])
        .arg(data)
        .args(extra);
        Server::try_spawn(cmd)
    }

    /// Starts `cmd`; the server once it listens, or its log when it exited first.
    pub fn try_spawn(mut cmd: Command) -> Result<Server, String> {
        let mut child = cmd
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the binary");
        let log = Arc::new(Mutex::new(Vec::new()));
        let log_bytes = Arc::new(Mutex::new(0));
        let (tx, rx) = mpsc::channel();
        let outs: [Option<Box<dyn Read + Send>>; 2] = [
            child.stdout.take().map(|s| Box::new(s) as _),
            child.stderr.take().map(|s| Box::new(s) as _),
        ];
        for out in outs.into_iter().flatten() {
            let (tx, log, log_bytes) = (tx.clone(), log.clone(), log_bytes.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(out);
                let mut line = Vec::new();
                while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                    *log_bytes.lock().expect("log") += line.len();
                    let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                    if let Some(rest) = text.split("serving on http://").nth(1)
                        && let Ok(addr) = rest.trim_end_matches('/').parse::<SocketAddr>()
                    {
                        let _ = tx.send(addr);
                    }
                    log.lock().expect("log").push(text);
                    line.clear();
                }
            });
        }
        let start = Instant::now();
        let addr = loop {
            if let Ok(addr) = rx.recv_timeout(Duration::from_millis(50)) {
                break addr;
            }
            let exited = matches!(child.try_wait(), Ok(Some(_)));
            if exited || start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                // Let the reader threads take the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return Err(log.lock().expect("log").join("\n"));
            }
        };
        Ok(Server {
            child,
            addr,
            log,
            log_bytes,
        })
    }

    /// The log so far, one string.
    pub fn log_text(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("pid");
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// `GET path` on a fresh connection: status and body (`None` when no answer came).
    pub fn get(&self, path: &str) -> Option<(u16, Vec<u8>)> {
        super::common::http(self.addr, "GET", path, &[], "").map(|(s, _, b)| (s, b))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `renewal-map token add` for a planner named `name` over `data` and returns the token.
pub fn planner_token(data: &Path, name: &str) -> String {
    planner_token_with(data, name, &[])
}

/// [`planner_token`] with `extra` arguments (`--db PATH --init-db`).
pub fn planner_token_with(data: &Path, name: &str, extra: &[&str]) -> String {
    let out = Command::new(BIN)
        .args([
            "token", "add", "--role", "planner", "--name", name, "--data",
        ])
        .arg(data)
        .args(extra)
        .output()
        .expect("token add runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// A raw connection with a read timeout.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    s
}

/// Whether the server closed `s` (EOF or reset) — reads and discards what was sent.
pub fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// Polls until the server closed `s`, up to `limit`; returns how long it took.
pub fn wait_closed(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if closed_by_server(s) {
            return Some(start.elapsed());
        }
    }
    None
}

/// Writes `bytes`, ignoring errors (the server may have closed the connection).
pub fn send(s: &mut TcpStream, bytes: &[u8]) {
    let _ = s.write_all(bytes);
}

/// A temp directory for a test, with a path.
pub fn tempdir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_owned();
    (dir, path)
}
