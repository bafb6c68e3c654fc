//! Running usher (the release binary) as a separate process: start it on a free loopback port,
//! time the first answer, read its memory, run CLI commands, stop it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Resident memory: all of it, what the process allocated, and file pages it maps (the code of
/// the binary and its libraries, shared and reclaimable).
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss: u64,
    pub anon: u64,
    pub file: u64,
}

pub struct Usher {
    child: Child,
    pub addr: SocketAddr,
}

/// A loopback port nobody listens on right now.
pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    l.local_addr().expect("a bound listener has an address")
}

/// A command for `bin` with no `USHER_*` variables from the caller's environment.
fn command(bin: &Path, data_dir: &Path) -> Command {
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars() {
        if k.starts_with("USHER_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("USHER_DATA_DIR", data_dir);
    cmd
}

/// `GET path` over a fresh connection; the status code, or `None` when nothing answers yet.
pub fn raw_get(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_nodelay(true).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        match s.read(&mut buf[got..]) {
            Ok(0) | Err(_) => return None,
            Ok(n) => got += n,
        }
    }
    std::str::from_utf8(&buf[9..12]).ok()?.parse().ok()
}

impl Usher {
    /// Starts `usher serve` and waits for `/healthz` to answer 200; returns how long that took
    /// from the moment the process was spawned.
    pub fn start(
        bin: &Path,
        data_dir: &Path,
        env: &[(&str, String)],
        log: &Path,
    ) -> (Usher, Duration) {
        let addr = free_addr();
        let log = std::fs::File::create(log).expect("create the log file");
        let mut cmd = command(bin, data_dir);
        cmd.args(["serve", "--bind", &addr.to_string()])
            .env("USHER_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let started = Instant::now();
        let mut child = cmd.spawn().expect("start usher");
        loop {
            if raw_get(addr, "/healthz") == Some(200) {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("usher exited during start-up ({status}); see its log");
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("usher did not answer within 30 s");
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let took = started.elapsed();
        (Usher { child, addr }, took)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory from /proc, in bytes.
    pub fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kb| kb * 1024)
                .unwrap_or_else(|| panic!("{name} in /proc/PID/status"))
        };
        Memory {
            rss: field("VmRSS:"),
            anon: field("RssAnon:"),
            file: field("RssFile:"),
        }
    }

    /// Stops usher the way an init system does (SIGTERM) and waits for it.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Usher {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a CLI command against a data dir; its standard output, or a panic with its error.
pub fn cli(bin: &Path, data_dir: &Path, args: &[&str], stdin: &str) -> String {
    let mut child = command(bin, data_dir)
        .args(args)
        .env("USHER_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run usher");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("write to usher");
    let out = child.wait_with_output().expect("wait for usher");
    if !out.status.success() {
        panic!(
            "usher {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The release binary next to this one (`target/release/usher`).
pub fn default_binary() -> PathBuf {
    let me = std::env::current_exe().expect("the benchmark's own path");
    me.with_file_name("usher")
}

/// Resident memory of a process, in bytes (`None` once it is gone).
pub fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}
