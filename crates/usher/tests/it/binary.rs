//! The real `usher` binary as a child process: `usher serve` on port 0 with a data dir, its log
//! captured line by line, stopped with SIGTERM or killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    log: Arc<Mutex<String>>,
    lines: Receiver<String>,
    reader: Option<JoinHandle<()>>,
}

impl Served {
    /// Starts `usher serve` and waits (bounded) until it says where it listens.
    pub fn start(data_dir: &Path, env: &[(&str, String)]) -> Served {
        // Every part of these tests is a real process, so the real clock is shared by all.
        let mut cmd = crate::helpers::usher_command(None);
        cmd.args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("USHER_LOG", "info")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start usher");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = channel();
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
                drop(log);
                let _ = tx.send(line);
            }
        });
        let mut served = Served {
            child,
            base: String::new(),
            log,
            lines,
            reader: Some(reader),
        };
        let line = served.wait_for_line("listening on http://", Duration::from_secs(30));
        let at = line.find("http://").expect("a URL in the line");
        served.base = line[at..]
            .split_whitespace()
            .next()
            .expect("the URL")
            .to_string();
        served
    }

    /// The first log line containing `needle`, waiting up to `timeout` for it.
    pub fn wait_for_line(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.log().lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    panic!("usher never logged `{needle}`:\n{}", self.log())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    if let Some(line) = self.log().lines().find(|l| l.contains(needle)) {
                        return line.to_string();
                    }
                    panic!("usher exited before logging `{needle}`:\n{}", self.log())
                }
            }
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no shutdown, no checkpoint, like a power cut for the process. Returns the log.
    pub fn kill(mut self) -> String {
        self.child.kill().expect("SIGKILL usher");
        self.child.wait().expect("reap usher");
        self.finish()
    }

    /// SIGTERM, then waits for a clean exit. Returns the log.
    pub fn stop(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let exit = self.child.wait().expect("reap usher");
        let log = self.finish();
        assert!(exit.success(), "usher exited with {exit:?}:\n{log}");
        log
    }

    fn finish(&mut self) -> String {
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the log reader");
        }
        self.log()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// [`Served::start`] off the async runtime, so fakes served by the test keep answering.
pub async fn serve(data_dir: &Path, env: &[(&'static str, String)]) -> Served {
    let dir = data_dir.to_path_buf();
    let env = env.to_vec();
    tokio::task::spawn_blocking(move || Served::start(&dir, &env))
        .await
        .unwrap()
}
