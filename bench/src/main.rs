//! usher's benchmark. Drives the release binary as a separate process against fakes started
//! here on 127.0.0.1, and prints DESIGN's performance budget as a markdown table with the
//! measured figure beside each budget. See bench/README.md.

mod client;
mod load;
mod page;
mod process;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, header};
use http_body_util::Full;

use client::{Conn, Error, csrf_of};
use process::{Usher, cli};

const ADMIN: &str = "bench";
const ADMIN_PASSWORD: &str = "bench password 0123";
const ANON: &str = "usher_anon=benchmarkvisitor0001";

/// How big each part of the run is.
struct Sizes {
    starts: usize,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    redemptions: usize,
    uses: usize,
    members: usize,
    member_repeats: usize,
    requests: usize,
    logins: usize,
}

const FULL: Sizes = Sizes {
    starts: 5,
    connections: 64,
    warmup: Duration::from_secs(2),
    duration: Duration::from_secs(10),
    redemptions: 500,
    uses: 100,
    members: 10_000,
    member_repeats: 20,
    requests: 200,
    logins: 200,
};

const QUICK: Sizes = Sizes {
    starts: 1,
    connections: 8,
    warmup: Duration::from_millis(200),
    duration: Duration::from_secs(1),
    redemptions: 40,
    uses: 10,
    members: 500,
    member_repeats: 3,
    requests: 20,
    logins: 20,
};

struct Options {
    quick: bool,
    usher: PathBuf,
    record: Option<PathBuf>,
    /// Only these parts (all when empty).
    only: Vec<String>,
}

impl Options {
    fn runs(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

const PARTS: &[&str] = &[
    "size",
    "start",
    "page",
    "throughput",
    "pages",
    "redeem",
    "members",
    "requests",
    "logins",
    "reference",
];

fn usage() -> ExitCode {
    eprintln!(
        "usage: bench [--quick] [--usher PATH] [--record RESULTS.md] [--only PART,…]\n\
         \n\
         --quick    tiny numbers, a smoke test of the benchmark itself (figures are not comparable)\n\
         --usher    the usher binary to measure (default: `usher` next to this binary)\n\
         --record   also write the table, date and machine into this file\n\
         --only     measure only some parts: {}",
        PARTS.join(", ")
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("hello") {
        return hello(args.get(1).map(String::as_str).unwrap_or("127.0.0.1:0"));
    }
    let mut opts = Options {
        quick: false,
        usher: process::default_binary(),
        record: None,
        only: Vec::new(),
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => opts.quick = true,
            "--usher" => match it.next() {
                Some(p) => opts.usher = p.into(),
                None => return usage(),
            },
            "--record" => match it.next() {
                Some(p) => opts.record = Some(p.into()),
                None => return usage(),
            },
            "--only" => match it.next() {
                Some(list) => {
                    for part in list.split(',') {
                        if !PARTS.contains(&part) {
                            return usage();
                        }
                        opts.only.push(part.to_string());
                    }
                }
                None => return usage(),
            },
            _ => return usage(),
        }
    }
    if !opts.usher.is_file() {
        eprintln!(
            "no usher binary at {} (build it with `cargo build --release -p usher`)",
            opts.usher.display()
        );
        return ExitCode::FAILURE;
    }
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(&opts)) {
        Ok(rows) => {
            let table = render(&rows);
            println!("{table}");
            if let Some(path) = &opts.record
                && let Err(e) = record(path, &table, opts.quick, &load)
            {
                eprintln!("could not write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            if rows
                .iter()
                .any(|r| !r.hard && matches!(r.verdict, Verdict::Misses(_)))
            {
                eprintln!("some figures miss the budget (see the table)");
            }
            if rows.iter().any(Row::went_wrong) {
                eprintln!("usher got something wrong under load (see the table)");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A bare axum hello-world, run as a separate process for the reference row.
fn hello(bind: &str) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .expect("bind the hello-world");
        axum::serve(listener, app).await.expect("serve");
    });
    ExitCode::SUCCESS
}

// --- the table ----------------------------------------------------------------------------------

enum Verdict {
    Meets,
    Misses(String),
    /// No budget: shown for context.
    Info,
}

struct Row {
    figure: String,
    measured: String,
    budget: String,
    verdict: Verdict,
    /// A correctness figure (counts that must be exact): missing it fails the run, in any mode.
    hard: bool,
}

impl Row {
    /// A correctness figure that missed.
    fn went_wrong(&self) -> bool {
        self.hard && matches!(self.verdict, Verdict::Misses(_))
    }
}

fn row(figure: &str, measured: String, budget: &str, verdict: Verdict) -> Row {
    Row {
        figure: figure.into(),
        measured,
        budget: budget.into(),
        verdict,
        hard: false,
    }
}

fn check(figure: &str, measured: String, budget: &str, verdict: Verdict) -> Row {
    Row {
        hard: true,
        ..row(figure, measured, budget, verdict)
    }
}

/// At most `limit`: meets, or says by how much it is over.
fn at_most(value: f64, limit: f64, unit: &str) -> Verdict {
    if value <= limit {
        Verdict::Meets
    } else {
        Verdict::Misses(format!(
            "over by {} {unit} ({:.0} %)",
            fmt_num(value - limit),
            (value / limit - 1.0) * 100.0
        ))
    }
}

/// At least `floor`.
fn at_least(value: f64, floor: f64, unit: &str) -> Verdict {
    if value >= floor {
        Verdict::Meets
    } else {
        Verdict::Misses(format!(
            "short by {} {unit} ({:.0} %)",
            fmt_num(floor - value),
            (1.0 - value / floor) * 100.0
        ))
    }
}

fn exactly(value: u64, want: u64) -> Verdict {
    if value == want {
        Verdict::Meets
    } else {
        Verdict::Misses(format!("{value} instead of {want}"))
    }
}

fn fmt_num(v: f64) -> String {
    if v >= 100.0 {
        let n = v.round() as u64;
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn render(rows: &[Row]) -> String {
    let mut out = String::from("| figure | measured | budget | |\n|---|---|---|---|\n");
    for r in rows {
        let verdict = match &r.verdict {
            Verdict::Meets => "✅ meets".to_string(),
            Verdict::Misses(how) => format!("❌ {how}"),
            Verdict::Info => "—".to_string(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.figure, r.measured, r.budget, verdict
        ));
    }
    out
}

/// Writes the table between the markers in `path`, keeping everything else (the notes).
fn record(path: &Path, table: &str, quick: bool, load: &str) -> std::io::Result<()> {
    const BEGIN: &str = "<!-- bench:begin -->";
    const END: &str = "<!-- bench:end -->";
    let block = format!("{BEGIN}\n{}\n\n{table}{END}", machine(quick, load));
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if e > b => format!("{}{block}{}", &old[..b], &old[e + END.len()..]),
        _ if old.is_empty() => format!("# Benchmark results\n\n{block}\n"),
        _ => format!("{old}\n{block}\n"),
    };
    std::fs::write(path, new)
}

/// Date and machine, for the record.
fn machine(quick: bool, load: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, m, d) = civil_date(secs.div_euclid(86_400));
    let quick = if quick {
        " (--quick: not comparable)"
    } else {
        ""
    };
    format!(
        "Run {y:04}-{m:02}-{d:02}{quick} · {cores} CPUs ({cpu}) · Linux {kernel} · usher {} · \
         loopback · load average before the run (other work shares the cores): {load}",
        env!("CARGO_PKG_VERSION")
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_date(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// --- the run ------------------------------------------------------------------------------------

fn note(msg: impl AsRef<str>) {
    eprintln!("bench: {}", msg.as_ref());
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a blocking step panicked")
}

async fn run(opts: &Options) -> Result<Vec<Row>, Error> {
    let sizes = if opts.quick { &QUICK } else { &FULL };
    let bin = opts.usher.clone();
    let work = std::env::temp_dir().join(format!("usher-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let mut rows = Vec::new();

    if opts.runs("size") {
        let size = std::fs::metadata(&bin)?.len();
        rows.push(row(
            "release binary size",
            mb(size),
            "≤ 25 MB",
            at_most(size as f64 / 1e6, 25.0, "MB"),
        ));
    }
    if opts.runs("start") {
        rows.extend(start(&bin, &work, sizes).await);
    }
    // The reference is measured first: the public pages are judged against it.
    let reference = if opts.runs("reference") {
        let (rps, shown) = reference(sizes).await?;
        Some((rps, shown))
    } else {
        None
    };
    let serving = [
        "page",
        "throughput",
        "pages",
        "redeem",
        "members",
        "requests",
    ];
    if serving.iter().any(|p| opts.runs(p)) {
        let rps = reference.as_ref().map(|(rps, _)| *rps);
        rows.extend(serving_figures(opts, &bin, &work, sizes, rps).await?);
    }
    if opts.runs("logins") {
        // A fresh usher of its own, so the figure is what the burst costs and nothing else.
        let dir = work.join("logins");
        let log = work.join("logins.log");
        let b = bin.clone();
        // The burst comes from many addresses (X-Forwarded-For), as an attack would.
        let env = vec![("USHER_TRUST_PROXY_HEADERS", "true".to_string())];
        let (usher, _) = blocking(move || Usher::start(&b, &dir, &env, &log)).await;
        let result = logins(usher.addr, usher.pid(), sizes).await;
        blocking(move || usher.stop()).await;
        rows.extend(result?);
    }
    if let Some((_, shown)) = reference {
        rows.push(shown);
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(rows)
}

/// Start-up and idle memory: a fresh data dir each time (migrations, new secret key).
async fn start(bin: &Path, work: &Path, sizes: &Sizes) -> Vec<Row> {
    let mut rows = Vec::new();

    let mut starts = Vec::new();
    let mut memory = Vec::new();
    for i in 0..sizes.starts {
        let dir = work.join(format!("start{i}"));
        let b = bin.to_path_buf();
        let log = work.join(format!("start{i}.log"));
        let (usher, took) = blocking(move || Usher::start(&b, &dir, &[], &log)).await;
        starts.push(took);
        // Let start-up work settle, then read what it holds while idle.
        tokio::time::sleep(Duration::from_secs(1)).await;
        memory.push(usher.memory());
        blocking(move || usher.stop()).await;
    }
    starts.sort();
    let start = starts[starts.len() / 2];
    note(format!("start to first answer: {starts:?}"));
    memory.sort_by_key(|m| m.rss);
    note(format!("idle memory: {memory:?}"));
    let idle = memory[memory.len() / 2];
    rows.push(row(
        "idle resident memory after start (median)",
        format!(
            "{} ({} allocated, {} mapped code of the binary and libc)",
            mb(idle.rss),
            mb(idle.anon),
            mb(idle.file)
        ),
        "≤ 20 MB",
        at_most(idle.rss as f64 / 1e6, 20.0, "MB"),
    ));
    rows.push(row(
        "start to first HTTP answer (fresh data dir, median)",
        format!("{:.1} ms", start.as_secs_f64() * 1e3),
        "≤ 100 ms",
        at_most(start.as_secs_f64() * 1e3, 100.0, "ms"),
    ));
    rows
}

/// One usher for the rest, connected to a fake Jellyfin run here.
async fn serving_figures(
    opts: &Options,
    bin: &Path,
    work: &Path,
    sizes: &Sizes,
    reference: Option<f64>,
) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    let jf = fakes::jellyfin::FakeJellyfin::start(fakes::jellyfin::FakeKind::Jellyfin).await;
    let data = work.join("data");
    let (b, d, url, key) = (bin.to_path_buf(), data.clone(), jf.url(), jf.api_key());
    let uses = sizes.uses.to_string();
    let (page_code, burst_codes) = blocking(move || {
        cli(
            &b,
            &d,
            &["admin", "create", "--username", ADMIN, "--password-stdin"],
            ADMIN_PASSWORD,
        );
        cli(
            &b,
            &d,
            &[
                "server",
                "add",
                "jellyfin",
                "--name",
                "Bench",
                "--url",
                &url,
                "--api-key-stdin",
            ],
            &key,
        );
        let invite = |uses: &str, expires: &str| {
            let out = cli(
                &b,
                &d,
                &[
                    "invite",
                    "create",
                    "--server",
                    "Bench",
                    "--uses",
                    uses,
                    "--expires",
                    expires,
                    "--label",
                    "Movie night",
                    "--json",
                ],
                "",
            );
            let v: serde_json::Value = serde_json::from_str(&out).expect("invite JSON");
            v["code"].as_str().expect("a code").to_string()
        };
        let bursts = [
            invite(&uses, "7d"),
            invite(&uses, "7d"),
            invite(&uses, "7d"),
            invite(&uses, "7d"),
        ];
        (invite("unlimited", "never"), bursts)
    })
    .await;
    let env = vec![
        // One address sends everything here: lift the per-address limits for the run.
        ("USHER_REDEMPTIONS_PER_HOUR", "1000000".to_string()),
        ("USHER_CODE_MISSES_PER_HOUR", "1000000".to_string()),
        // No background sync or reminders touching the database during measurements.
        ("USHER_SYNC_HOURS", "0".to_string()),
        ("USHER_REMINDER_DAYS", "0".to_string()),
    ];
    let (b, d, log) = (bin.to_path_buf(), data.clone(), work.join("usher.log"));
    let (usher, _) = blocking(move || Usher::start(&b, &d, &env, &log)).await;
    let addr = usher.addr;
    let host = addr.to_string();
    let session = login(addr).await?;
    let fixture = Fixture {
        addr,
        jf: &jf,
        data: &data,
        session: &session,
        page_code: &page_code,
    };

    if opts.runs("page") {
        rows.extend(page_weight(addr, &host, &page_code).await?);
    }
    // Twice in the same process: the figures shown are the first round's, and the second shows
    // whether what the first left behind keeps growing (anything it gets wrong is shown too).
    let mut memory = Vec::new();
    for (round, burst_code) in burst_codes.iter().enumerate() {
        let figures = serving_round(opts, &fixture, burst_code, reference, sizes, round).await?;
        memory.push(usher.memory());
        if round == 0 {
            rows.extend(figures);
        } else {
            rows.extend(figures.into_iter().filter(Row::went_wrong).map(|r| Row {
                figure: format!("second round: {}", r.figure),
                ..r
            }));
        }
    }
    rows.push(memory_rounds(&memory));
    blocking(move || usher.stop()).await;
    drop(jf);
    Ok(rows)
}

/// What every round measures against: one usher, its fake Jellyfin, a signed-in admin.
struct Fixture<'a> {
    addr: std::net::SocketAddr,
    jf: &'a fakes::jellyfin::FakeJellyfin,
    data: &'a Path,
    session: &'a str,
    page_code: &'a str,
}

/// The figures measured under load, once.
async fn serving_round(
    opts: &Options,
    f: &Fixture<'_>,
    burst_code: &str,
    reference: Option<f64>,
    sizes: &Sizes,
    round: usize,
) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    if opts.runs("throughput") {
        rows.extend(throughput(f.addr, f.page_code, sizes, reference).await?);
    }
    if opts.runs("pages") {
        for path in ["/join", "/guide", "/request"] {
            rows.push(page_throughput(f.addr, path, sizes, reference).await?);
        }
    }
    if opts.runs("redeem") {
        rows.extend(redemptions(f.addr, f.jf, f.data, burst_code, sizes, round).await?);
    }
    if opts.runs("members") {
        rows.extend(members(f.addr, f.data, f.session, sizes).await?);
    }
    if opts.runs("requests") {
        rows.extend(request_form(f.addr, f.data, f.session, sizes, round).await?);
    }
    Ok(rows)
}

/// Resident memory after each round. What the first round leaves (buffers, caches, memory the
/// allocator keeps) is allowed; what the second adds on top of it would be a leak.
fn memory_rounds(after: &[process::Memory]) -> Row {
    let shown: Vec<String> = after
        .iter()
        .map(|m| format!("{} ({} allocated)", mb(m.rss), mb(m.anon)))
        .collect();
    let (first, last) = (after[0].rss as f64, after[after.len() - 1].rss as f64);
    let growth = (last / first - 1.0) * 100.0;
    row(
        "resident memory after the whole run, then after running it again in the same process",
        shown.join(" → "),
        "not growing (≤ +10 % the second time)",
        if growth <= 10.0 {
            Verdict::Meets
        } else {
            Verdict::Misses(format!("grew {growth:.0} % the second time"))
        },
    )
}

async fn page_weight(
    addr: std::net::SocketAddr,
    host: &str,
    code: &str,
) -> Result<Vec<Row>, Error> {
    let mut conn = Conn::open(addr).await?;
    let page_req = conn
        .request(Method::GET, &format!("/i/{code}"))
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
        .body(Full::<Bytes>::default())?;
    let page = conn.send(page_req).await?;
    if !page.status.is_success() {
        return Err(format!("the invite page answered {}", page.status).into());
    }
    let html = decode(&page)?;
    let mut total = page.body.len();
    let mut third_party = Vec::new();
    let mut uncached = Vec::new();
    let mut parts = vec![format!("HTML {}", page.body.len())];
    let mut seen = 0;
    for url in page::resources(&html) {
        if page::is_third_party(&url, host) {
            third_party.push(url);
            continue;
        }
        let path = url
            .strip_prefix(&format!("http://{host}"))
            .unwrap_or(&url)
            .to_string();
        let req = conn
            .request(Method::GET, &path)
            .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
            .body(Full::<Bytes>::default())?;
        let asset = conn.send(req).await?;
        if !asset.status.is_success() {
            return Err(format!("{path} answered {}", asset.status).into());
        }
        seen += 1;
        total += asset.body.len();
        let name = path.rsplit('/').next().unwrap_or("");
        parts.push(format!("{name} {}", asset.body.len()));
        let cache = asset.header("cache-control").unwrap_or("").to_string();
        let max_age = cache
            .split(',')
            .find_map(|d| d.trim().strip_prefix("max-age="))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        // Fingerprinted: a content hash in the file name (`app.3f2a9c1b70.css`).
        let fingerprinted = name
            .split('.')
            .any(|seg| seg.len() >= 8 && seg.chars().all(|c| c.is_ascii_hexdigit()));
        if max_age < 30 * 86_400 || !fingerprinted {
            uncached.push(name.to_string());
        }
        if asset
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/css"))
        {
            for u in page::css_resources(&decode(&asset)?) {
                if page::is_third_party(&u, host) {
                    third_party.push(u);
                }
            }
        }
    }
    note(format!(
        "page weight: {} bytes ({}); resources {seen}",
        total,
        parts.join(", ")
    ));
    Ok(vec![
        row(
            "public invite page weight (HTML + CSS + JS + icon, compressed)",
            format!("{:.1} KB ({})", total as f64 / 1e3, parts.join(", ")),
            "≤ 50 KB",
            at_most(total as f64 / 1e3, 50.0, "KB"),
        ),
        check(
            "third-party requests from the invite page",
            if third_party.is_empty() {
                "0".into()
            } else {
                format!("{} ({})", third_party.len(), third_party.join(", "))
            },
            "0",
            exactly(third_party.len() as u64, 0),
        ),
        check(
            "page assets fingerprinted and cached (max-age)",
            if uncached.is_empty() {
                format!("all {seen}")
            } else {
                format!("not: {}", uncached.join(", "))
            },
            "all",
            exactly(uncached.len() as u64, 0),
        ),
    ])
}

/// The body as text, gunzipped when it came compressed.
fn decode(reply: &client::Reply) -> Result<String, Error> {
    match reply.header("content-encoding") {
        None | Some("identity") => Ok(reply.text()),
        Some("gzip") => Ok(gunzip(&reply.body)?),
        Some(other) => Err(format!("unexpected content-encoding {other}").into()),
    }
}

/// Gunzips with the system's `gzip` (only for reading the page, never on the measured path).
fn gunzip(data: &[u8]) -> Result<String, Error> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    child.stdin.take().ok_or("no stdin")?.write_all(data)?;
    let out = child.wait_with_output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn throughput(
    addr: std::net::SocketAddr,
    code: &str,
    sizes: &Sizes,
    reference: Option<f64>,
) -> Result<Vec<Row>, Error> {
    let stats = returning_phone_load(addr, format!("/i/{code}"), sizes).await?;
    note(format!("invite page: {}", stats.summary()));
    let p99 = stats.percentile_ms(99.0);
    Ok(vec![
        against_reference(
            &format!(
                "public invite page, {} keep-alive connections, {} s: throughput",
                sizes.connections,
                sizes.duration.as_secs_f64()
            ),
            &stats,
            reference,
            "",
        ),
        row(
            "public invite page: latency p50 / p99",
            format!("{:.2} ms / {:.2} ms", stats.percentile_ms(50.0), p99),
            "p99 ≤ 10 ms",
            at_most(p99, 10.0, "ms"),
        ),
    ])
}

/// A public page's throughput, judged against a third of what the same load generator gets from
/// a bare hello-world in the same run (absolute figures move ±30 % with the machine's load).
fn against_reference(
    figure: &str,
    stats: &load::Stats,
    reference: Option<f64>,
    extra: &str,
) -> Row {
    let bad = stats.count() - stats.status(200) + stats.errors;
    let rps = stats.per_second();
    let share = reference
        .map(|r| format!(", {:.0} % of the reference", rps / r * 100.0))
        .unwrap_or_default();
    let not_ok = if bad > 0 {
        format!(" ({bad} not 200)")
    } else {
        String::new()
    };
    let (budget, verdict) = match reference {
        _ if bad > 0 => (
            "≥ ⅓ of the reference".to_string(),
            Verdict::Misses(format!("{bad} answers were not 200")),
        ),
        Some(r) => (
            format!("≥ ⅓ of the reference ({} req/s)", fmt_num(r / 3.0)),
            at_least(rps, r / 3.0, "req/s"),
        ),
        None => ("≥ ⅓ of the reference (not run)".to_string(), Verdict::Info),
    };
    row(
        figure,
        format!("{} req/s{extra}{share}{not_ok}", fmt_num(rps)),
        &budget,
        verdict,
    )
}

/// `GET path` back to back on every connection, with what a phone's browser sends on a second
/// visit: compression, a language, its cookie.
async fn returning_phone_load(
    addr: std::net::SocketAddr,
    path: String,
    sizes: &Sizes,
) -> Result<load::Stats, Error> {
    let make = Arc::new(move |c: &Conn| {
        c.request(Method::GET, &path)
            .header(header::ACCEPT, "text/html")
            .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
            .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
            .header(header::COOKIE, ANON)
            .body(Full::<Bytes>::default())
            .expect("a valid request")
    });
    load::keep_alive(addr, sizes.connections, sizes.warmup, sizes.duration, make).await
}

/// Another public page under the same load as the invite page (a returning phone's headers).
async fn page_throughput(
    addr: std::net::SocketAddr,
    path: &'static str,
    sizes: &Sizes,
    reference: Option<f64>,
) -> Result<Row, Error> {
    let stats = returning_phone_load(addr, path.to_string(), sizes).await?;
    note(format!("{path}: {}", stats.summary()));
    Ok(against_reference(
        &format!(
            "`{path}`, {} keep-alive connections: throughput (p99)",
            sizes.connections
        ),
        &stats,
        reference,
        &format!(" (p99 {:.2} ms)", stats.percentile_ms(99.0)),
    ))
}

async fn db(data: &Path) -> Result<sqlx::SqlitePool, Error> {
    use sqlx::sqlite::SqliteConnectOptions;
    let opts = SqliteConnectOptions::new()
        .filename(data.join("usher.db"))
        .busy_timeout(Duration::from_secs(10));
    Ok(sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?)
}

/// `round` keeps the guests' names apart when the benchmark runs twice in one process.
async fn redemptions(
    addr: std::net::SocketAddr,
    jf: &fakes::jellyfin::FakeJellyfin,
    data: &Path,
    code: &str,
    sizes: &Sizes,
    round: usize,
) -> Result<Vec<Row>, Error> {
    let before = jf.users().len();
    jf.control().set_latency(Duration::from_millis(50));
    let path = format!("/api/v1/invites/{code}/redeem");
    let make = Arc::new(move |c: &Conn, i: usize| {
        let body = serde_json::json!({
            "username": format!("guest{}", (round + 1) * 100_000 + i),
            "password": format!("guest password {i}"),
        });
        c.request(Method::POST, &path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("a valid request")
    });
    let stats = load::burst(addr, sizes.redemptions, make).await?;
    note(format!("redemptions: {}", stats.summary()));
    // Provisioning a server found busy finishes in the background: wait for the queue to drain.
    let pool = db(data).await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let open: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
                .fetch_one(&pool)
                .await?;
        if open == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    jf.control().set_latency(Duration::ZERO);
    let provisioned = (jf.users().len() - before) as u64;
    // Each round meets the same server: every provisioning job reads the whole user list, so a
    // server a hundred users bigger each round would make each round's work (and the memory it
    // needs at its peak) larger than the last, and hide a leak or show one that is not there.
    for user in jf.users().iter().skip(before) {
        jf.remove_user(&user.id);
    }
    let used: i64 = sqlx::query_scalar("SELECT used FROM invites WHERE code = ?")
        .bind(code)
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    let created = stats.status(201);
    let n = sizes.redemptions;
    let uses = sizes.uses as u64;
    let server_errors = stats.server_errors() + stats.errors;
    let p99 = stats.percentile_ms(99.0);
    Ok(vec![
        check(
            &format!(
                "{n} concurrent redemptions of a {uses}-use invite, fake Jellyfin +50 ms: accounts made"
            ),
            format!(
                "{provisioned} on the server ({created} × 201, {} × 410; invite used {used})",
                stats.status(410)
            ),
            &format!("exactly {uses}"),
            if provisioned == uses && created == uses && used as u64 == uses {
                Verdict::Meets
            } else {
                Verdict::Misses(format!(
                    "{provisioned} accounts, {created} × 201, used {used}"
                ))
            },
        ),
        check(
            "… 5xx or dropped connections",
            server_errors.to_string(),
            "0",
            exactly(server_errors, 0),
        ),
        row(
            "… latency p50 / p99",
            format!("{:.0} ms / {:.0} ms", stats.percentile_ms(50.0), p99),
            "p99 ≤ 2 s",
            at_most(p99, 2000.0, "ms"),
        ),
    ])
}

/// Signs in as the bench admin; the session cookie.
async fn login(addr: std::net::SocketAddr) -> Result<String, Error> {
    let mut conn = Conn::open(addr).await?;
    let page = conn.get("/login", Some(ANON)).await?;
    let csrf = csrf_of(&page.text()).ok_or("no CSRF token on /login")?;
    let res = conn
        .post_form(
            "/login",
            Some(ANON),
            &[
                ("csrf", &csrf),
                ("username", ADMIN),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await?;
    let session = res
        .cookie("usher_session")
        .ok_or_else(|| format!("sign-in failed: {} {}", res.status, res.text()))?;
    Ok(format!("usher_session={session}"))
}

async fn members(
    addr: std::net::SocketAddr,
    data: &Path,
    session: &str,
    sizes: &Sizes,
) -> Result<Vec<Row>, Error> {
    let n = sizes.members as i64;
    let pool = db(data).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let (server_id, libraries): (i64, String) = sqlx::query_as(
        "SELECT s.id, COALESCE((SELECT json_group_array(remote_id) FROM libraries WHERE server_id = s.id), '[]')
         FROM servers s ORDER BY s.id LIMIT 1",
    )
    .fetch_one(&pool)
    .await?;
    // The second round finds them there already.
    let present: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM members WHERE origin = 'imported' AND username LIKE 'member%'",
    )
    .fetch_one(&pool)
    .await?;
    if present < n {
        let started = Instant::now();
        let mut tx = pool.begin().await?;
        // Names in a scattered order, emails and user names like real ones; one grant each, every
        // tenth with an expiry.
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO members (display_name, email, username, identity_key, origin, created_at)
             SELECT 'Member ' || ((i * 7919) % ?1 + 1), 'member' || i || '@example.com', 'member' || i,
                    'member' || i, 'imported', ?2 - i
             FROM n",
        )
        .bind(n)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO grants (member_id, server_id, status, identity, libraries, permissions,
                                 remote_id, expires_at, created_at, updated_at)
             SELECT id, ?1, 'active', username, ?2, '{}', 'bench-' || id,
                    CASE WHEN id % 10 = 0 THEN ?3 + 90 * 86400 + id END, ?3, ?3
             FROM members WHERE origin = 'imported' AND username LIKE 'member%'",
        )
        .bind(server_id)
        .bind(&libraries)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        note(format!("inserted {n} members in {:?}", started.elapsed()));
    }
    pool.close().await;

    let last = (n / 50).max(1);
    let middle = (last / 2).max(1);
    let ends = [1, middle, last];
    let pages = |query: &str, numbers: &[i64]| -> Vec<String> {
        numbers
            .iter()
            .map(|p| format!("/admin/members?{query}&page={p}"))
            .collect()
    };
    // Every order the list offers, both ways, at its first, middle and last page (the last costs
    // the most: everything before it is skipped), then searches and filters.
    let mut views: Vec<(String, Vec<String>)> = Vec::new();
    for (sort, name) in [
        ("name", "name"),
        ("created", "date joined"),
        ("expires", "expiry"),
    ] {
        for (dir, arrow) in [("asc", "↑"), ("desc", "↓")] {
            views.push((
                format!("members page, by {name} {arrow}: first, middle and last page"),
                pages(&format!("sort={sort}&dir={dir}"), &ends),
            ));
        }
    }
    views.push((
        "members page, a search with one match".into(),
        vec!["/admin/members?q=member1234%40".into()],
    ));
    views.push((
        "members page, a search matching everyone: first and last page".into(),
        pages("q=example.com", &[1, last]),
    ));
    views.push((
        "members page, a search by expiry ↓: middle and last page".into(),
        pages("q=member&sort=expires&dir=desc", &[middle, last]),
    ));
    views.push((
        "members page, active on one server, by expiry: middle and last page".into(),
        pages(
            &format!("status=active&server={server_id}&sort=expires"),
            &[middle, last],
        ),
    ));
    views.push((
        "members page, imported, by date joined ↓: last page".into(),
        pages("origin=imported&sort=created&dir=desc", &[last]),
    ));
    let mut conn = Conn::open(addr).await?;
    let mut rows = Vec::new();
    for (label, paths) in views {
        let mut times = Vec::new();
        for path in &paths {
            for _ in 0..sizes.member_repeats {
                let res = conn.get(path, Some(session)).await?;
                if res.status != 200 {
                    return Err(format!("{path} answered {}", res.status).into());
                }
                times.push(res.elapsed);
            }
        }
        times.sort();
        let median = times[times.len() / 2].as_secs_f64() * 1e3;
        let worst = times[times.len() - 1].as_secs_f64() * 1e3;
        note(format!(
            "{}: median {median:.1} ms, worst {worst:.1} ms",
            paths.join(" ")
        ));
        rows.push(row(
            &format!("{label} ({} members)", fmt_num(n as f64)),
            format!("{median:.1} ms, worst of {} {worst:.1} ms", times.len()),
            "≤ 50 ms, the worst included",
            at_most(worst, 50.0, "ms"),
        ));
    }
    Ok(rows)
}

/// `round` keeps the requesters' addresses apart when the benchmark runs twice in one process.
async fn request_form(
    addr: std::net::SocketAddr,
    data: &Path,
    session: &str,
    sizes: &Sizes,
    round: usize,
) -> Result<Vec<Row>, Error> {
    // Open the form and lift the per-address limit, as the owner would in settings.
    let mut conn = Conn::open(addr).await?;
    let settings = conn.get("/admin/settings", Some(session)).await?;
    let csrf = csrf_of(&settings.text()).ok_or("no CSRF token on /admin/settings")?;
    let res = conn
        .post_form(
            "/admin/settings/requests",
            Some(session),
            &[
                ("csrf", &csrf),
                ("enabled", "on"),
                ("expiry_hours", "24"),
                ("per_ip_per_hour", "1000"),
                ("access_duration", ""),
            ],
        )
        .await?;
    if !res.status.is_redirection() {
        return Err(format!("saving request settings answered {}", res.status).into());
    }
    let form = conn.get("/request", Some(ANON)).await?;
    if form.status != 200 {
        return Err(format!("/request answered {}", form.status).into());
    }
    let csrf = csrf_of(&form.text()).ok_or("no CSRF token on /request")?;
    let origin = format!("http://{addr}");
    let make = Arc::new(move |c: &Conn, i: usize| {
        let body = client::form_encode(&[
            ("csrf", &csrf),
            ("name", &format!("Requester {i}")),
            (
                "email",
                &format!("requester{}@example.com", (round + 1) * 100_000 + i),
            ),
            ("note", "Hi! It's me from the book club."),
            ("website", ""),
        ]);
        c.request(Method::POST, "/request")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, &origin)
            .header(header::COOKIE, ANON)
            .body(Full::new(Bytes::from(body)))
            .expect("a valid request")
    });
    let n = sizes.requests;
    let stats = load::burst(addr, n, make).await?;
    note(format!("request form: {}", stats.summary()));
    let pool = db(data).await?;
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests WHERE status = 'pending' AND email LIKE ?",
    )
    .bind(format!("requester{}_____@example.com", round + 1))
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    let server_errors = stats.server_errors() + stats.errors;
    let accepted = stats.status(303);
    Ok(vec![check(
        &format!("request form, {n} concurrent submissions: 5xx or dropped"),
        format!(
            "{server_errors} ({accepted} × 303, {stored} requests stored; p50 {:.0} ms, p99 {:.0} ms)",
            stats.percentile_ms(50.0),
            stats.percentile_ms(99.0)
        ),
        &format!("0, all {n} stored"),
        if server_errors == 0 && stored == n as i64 {
            Verdict::Meets
        } else {
            Verdict::Misses(format!("{server_errors} failed, {stored} stored"))
        },
    )])
}

/// A burst of sign-ins for unknown accounts from as many addresses, each with a valid anonymous
/// token: password hashing must stay bounded, so memory stays flat and nothing fails.
async fn logins(addr: std::net::SocketAddr, pid: u32, sizes: &Sizes) -> Result<Vec<Row>, Error> {
    let mut conn = Conn::open(addr).await?;
    let page = conn.get("/login", Some(ANON)).await?;
    let csrf = csrf_of(&page.text()).ok_or("no CSRF token on /login")?;
    let origin = format!("http://{addr}");
    let make = Arc::new(move |c: &Conn, i: usize| {
        let body = client::form_encode(&[
            ("csrf", &csrf),
            ("username", &format!("nobody{i}")),
            ("password", "not a real password"),
        ]);
        c.request(Method::POST, "/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, &origin)
            .header(header::COOKIE, ANON)
            .header(
                "x-forwarded-for",
                format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256),
            )
            .body(Full::new(Bytes::from(body)))
            .expect("a valid request")
    });
    let before = process::rss_of(pid).unwrap_or(0);
    // Read the resident memory every few milliseconds while the burst runs.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut peak = 0u64;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                peak = peak.max(process::rss_of(pid).unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            peak.max(process::rss_of(pid).unwrap_or(0))
        })
    };
    let n = sizes.logins;
    let stats = load::burst(addr, n, make).await?;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let peak = sampler.await?;
    note(format!(
        "login burst: {}, resident before {}, peak {}",
        stats.summary(),
        mb(before),
        mb(peak)
    ));
    let failed = stats.server_errors() + stats.errors;
    let answered = stats.status(401) + stats.status(429);
    let within = peak as f64 / 1e6 <= 100.0;
    Ok(vec![check(
        &format!("{n} concurrent logins (unknown users): peak resident memory"),
        format!(
            "{} ({} × 401, {} × 429, {failed} failed; p99 {:.0} ms)",
            mb(peak),
            stats.status(401),
            stats.status(429),
            stats.percentile_ms(99.0)
        ),
        "≤ 100 MB, all 401/429",
        if failed == 0 && answered == n as u64 && within {
            Verdict::Meets
        } else {
            Verdict::Misses(format!("{} peak, {failed} failed", mb(peak)))
        },
    )])
}

/// The same load generator against a bare axum hello-world: what this machine can do at all.
/// Its throughput (requests/s) and its row.
async fn reference(sizes: &Sizes) -> Result<(f64, Row), Error> {
    let addr = process::free_addr();
    let me = std::env::current_exe()?;
    let mut child = std::process::Command::new(me)
        .args(["hello", &addr.to_string()])
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while process::raw_get(addr, "/") != Some(200) {
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("the hello-world did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let make = Arc::new(|c: &Conn| {
        c.request(Method::GET, "/")
            .body(Full::<Bytes>::default())
            .expect("a valid request")
    });
    let stats = load::keep_alive(addr, sizes.connections, sizes.warmup, sizes.duration, make).await;
    let _ = child.kill();
    let _ = child.wait();
    let stats = stats?;
    note(format!("hello-world: {}", stats.summary()));
    Ok((
        stats.per_second(),
        row(
            "reference: bare axum hello-world, same load generator",
            format!(
                "{} req/s, p99 {:.2} ms",
                fmt_num(stats.per_second()),
                stats.percentile_ms(99.0)
            ),
            "—",
            Verdict::Info,
        ),
    ))
}
