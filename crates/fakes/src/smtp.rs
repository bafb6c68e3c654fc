//! SMTP sink: a small, real ESMTP server on loopback that accepts mail and keeps it.
//!
//! It speaks what lettre and ordinary clients use (RFC 5321 with SIZE, 8BITMIME,
//! ENHANCEDSTATUSCODES, and AUTH PLAIN/LOGIN from RFC 4954 when credentials are configured) and
//! refuses what a real server refuses: commands out of order, mail before authentication when
//! it is required, bad credentials, oversized messages. No TLS: STARTTLS is not offered.
//!
//! Stored messages can be read back decoded: the subject with RFC 2047 words decoded, and the
//! text or HTML body of a single-part or multipart message with quoted-printable or base64
//! transfer encoding undone.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How long [`SmtpSink::wait_for`] waits before failing the test.
const WAIT: Duration = Duration::from_secs(10);
/// RFC 4954 lets an AUTH line carry up to 12288 octets.
const MAX_COMMAND_LINE: usize = 16 * 1024;
/// Far above RFC 5321's 1000 octets, so only a runaway client hits it.
const MAX_DATA_LINE: usize = 1024 * 1024;
const MAX_RECIPIENTS: usize = 100;
const DEFAULT_MAX_SIZE: usize = 10 * 1024 * 1024;
const HOSTNAME: &str = "smtp.usher.test";

/// A message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`), without angle brackets; empty for a bounce.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub to: Vec<String>,
    /// The message as received after `DATA`, dot-unstuffed, CRLF line endings kept.
    pub data: String,
    /// The name the client gave in EHLO or HELO.
    pub helo: String,
    /// The user name the session authenticated as.
    pub authenticated_as: Option<String>,
}

impl ReceivedMail {
    /// Header fields of the message, unfolded, values raw, in order.
    pub fn headers(&self) -> Vec<(String, String)> {
        split_entity(&self.data).0
    }

    /// The first header field called `name` (case-insensitive), RFC 2047 words decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| decode_words(&v))
    }

    pub fn subject(&self) -> Option<String> {
        self.header("Subject")
    }

    /// The `text/plain` body, transfer encoding undone, line endings turned into `\n`.
    pub fn text_body(&self) -> Option<String> {
        self.body_of("text/plain")
    }

    /// The `text/html` body, transfer encoding undone, line endings turned into `\n`.
    pub fn html_body(&self) -> Option<String> {
        self.body_of("text/html")
    }

    fn body_of(&self, mime: &str) -> Option<String> {
        let (headers, body) = split_entity(&self.data);
        find_part(&headers, body, mime, 0)
    }
}

/// A reply the sink was told to give instead of the normal one.
#[derive(Debug, Clone)]
struct Injected {
    code: u16,
    text: String,
}

impl Injected {
    fn line(&self) -> String {
        format!("{} {}", self.code, self.text)
    }
}

struct Store {
    messages: Vec<ReceivedMail>,
    commands: Vec<String>,
    fail_next: VecDeque<Injected>,
    reject_next: VecDeque<Injected>,
}

struct Shared {
    state: Mutex<Store>,
    arrived: Notify,
    credentials: Option<(String, String)>,
    max_size: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Store> {
        // A panicking test must not poison the sink for the rest of the process.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Configures a sink before it starts.
#[derive(Debug, Clone)]
pub struct SmtpBuilder {
    credentials: Option<(String, String)>,
    max_size: usize,
}

impl SmtpBuilder {
    /// Requires AUTH with these credentials before MAIL, and advertises AUTH PLAIN LOGIN.
    pub fn with_auth(mut self, user: &str, password: &str) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// The SIZE limit advertised and enforced, in bytes (10 MiB by default).
    pub fn max_size(mut self, bytes: usize) -> Self {
        self.max_size = bytes;
        self
    }

    /// # Panics
    /// If loopback cannot be bound.
    pub async fn start(self) -> SmtpSink {
        self.start_on("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the SMTP sink")
    }

    /// Listens on a given address (`usher demo` uses fixed ports).
    pub async fn start_on(self, bind: &str) -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(Store {
                messages: Vec::new(),
                commands: Vec::new(),
                fail_next: VecDeque::new(),
                reject_next: VecDeque::new(),
            }),
            arrived: Notify::new(),
            credentials: self.credentials,
            max_size: self.max_size,
        });
        let task = tokio::spawn(accept(listener, shared.clone()));
        Ok(SmtpSink { addr, shared, task })
    }
}

/// A running SMTP sink. Dropping it closes the listener and every open session.
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// A sink without authentication on a free loopback port.
    pub async fn start() -> SmtpSink {
        Self::builder().start().await
    }

    pub fn builder() -> SmtpBuilder {
        SmtpBuilder {
            credentials: None,
            max_size: DEFAULT_MAX_SIZE,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1`.
    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every accepted message, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.lock().messages.clone()
    }

    pub fn last_message(&self) -> Option<ReceivedMail> {
        self.shared.lock().messages.last().cloned()
    }

    pub fn clear(&self) {
        self.shared.lock().messages.clear();
    }

    /// Every command line received, oldest first; AUTH exchanges keep only the mechanism.
    pub fn commands(&self) -> Vec<String> {
        self.shared.lock().commands.clone()
    }

    /// Waits until at least `n` messages were accepted and returns them all.
    ///
    /// # Panics
    /// After 10 seconds without `n` messages.
    pub async fn wait_for(&self, n: usize) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + WAIT;
        loop {
            let arrived = self.shared.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "the SMTP sink waited {WAIT:?} for {n} messages and got {}",
                    messages.len()
                );
            }
        }
    }

    /// The next MAIL, RCPT or DATA command that would succeed answers `code text` instead,
    /// e.g. `fail_next_with(451, "4.3.0 Try again later")` or
    /// `fail_next_with(550, "5.1.1 No such user")`. Calling it twice fails the next two.
    pub fn fail_next_with(&self, code: u16, text: &str) {
        self.shared.lock().fail_next.push_back(Injected {
            code,
            text: text.into(),
        });
    }

    /// The next message is refused after its final dot with `code text`, as when a server's
    /// content checks or queue fail after accepting the envelope.
    pub fn reject_next_message_with(&self, code: u16, text: &str) {
        self.shared.lock().reject_next.push_back(Injected {
            code,
            text: text.into(),
        });
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    // Sessions live in the set so that stopping the sink drops them too.
    let mut sessions = JoinSet::new();
    loop {
        while sessions.try_join_next().is_some() {}
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: let sessions finish instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let shared = shared.clone();
        sessions.spawn(async move {
            let _ = Session::new(shared).serve(stream).await;
        });
    }
}

enum Line {
    Text(String),
    TooLong,
    Closed,
}

/// Reads one line of at most `max` bytes, CRLF or LF terminated, terminator kept.
async fn read_raw<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    max: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = (&mut *reader)
        .take(max as u64)
        .read_until(b'\n', &mut line)
        .await?;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(line))
}

async fn read_command<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<Line> {
    let Some(raw) = read_raw(reader, MAX_COMMAND_LINE).await? else {
        return Ok(Line::Closed);
    };
    if !raw.ends_with(b"\n") {
        if raw.len() < MAX_COMMAND_LINE {
            // The client closed the connection mid-line.
            return Ok(Line::Closed);
        }
        // Skip the rest of the oversized line before answering.
        loop {
            match read_raw(reader, MAX_COMMAND_LINE).await? {
                None => return Ok(Line::Closed),
                Some(rest) if rest.ends_with(b"\n") => break,
                Some(_) => {}
            }
        }
        return Ok(Line::TooLong);
    }
    let text = String::from_utf8_lossy(&raw);
    Ok(Line::Text(text.trim_end_matches(['\r', '\n']).to_string()))
}

#[derive(PartialEq, Eq)]
enum Greeting {
    None,
    Helo,
    Ehlo,
}

struct Session {
    shared: Arc<Shared>,
    greeting: Greeting,
    helo: String,
    authenticated_as: Option<String>,
    from: Option<String>,
    to: Vec<String>,
}

type Writer = tokio::net::tcp::OwnedWriteHalf;
type Reader = BufReader<tokio::net::tcp::OwnedReadHalf>;

impl Session {
    fn new(shared: Arc<Shared>) -> Self {
        Session {
            shared,
            greeting: Greeting::None,
            helo: String::new(),
            authenticated_as: None,
            from: None,
            to: Vec::new(),
        }
    }

    fn reset(&mut self) {
        self.from = None;
        self.to.clear();
    }

    fn record(&self, command: &str) {
        self.shared.lock().commands.push(command.to_string());
    }

    fn take_failure(&self) -> Option<Injected> {
        self.shared.lock().fail_next.pop_front()
    }

    async fn serve(mut self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        reply(&mut write, &format!("220 {HOSTNAME} ESMTP usher SMTP sink")).await?;
        loop {
            let line = match read_command(&mut reader).await? {
                Line::Closed => return Ok(()),
                Line::TooLong => {
                    reply(&mut write, "500 5.5.0 Error: line too long").await?;
                    continue;
                }
                Line::Text(line) => line,
            };
            let (verb, arg) = match line.split_once(' ') {
                Some((verb, arg)) => (verb.to_ascii_uppercase(), arg.trim()),
                None => (line.to_ascii_uppercase(), ""),
            };
            if verb == "AUTH" {
                let mechanism = arg.split(' ').next().unwrap_or_default();
                self.record(&format!("AUTH {}", mechanism.to_ascii_uppercase()));
            } else {
                self.record(&line);
            }
            let answer = match verb.as_str() {
                "" => "500 5.5.2 Error: bad syntax".to_string(),
                "EHLO" => self.ehlo(arg),
                "HELO" => self.helo(arg),
                "AUTH" => self.auth(arg, &mut reader, &mut write).await?,
                "MAIL" => self.mail(arg),
                "RCPT" => self.rcpt(arg),
                "DATA" => {
                    let Some(answer) = self.data(arg, &mut reader, &mut write).await? else {
                        return Ok(());
                    };
                    answer
                }
                "RSET" if arg.is_empty() => {
                    self.reset();
                    "250 2.0.0 Ok".to_string()
                }
                "RSET" => "501 5.5.4 Syntax: RSET".to_string(),
                "NOOP" => "250 2.0.0 Ok".to_string(),
                "VRFY" => "252 2.0.0 Send some mail, I'll try my best".to_string(),
                "QUIT" => {
                    reply(&mut write, "221 2.0.0 Bye").await?;
                    return write.shutdown().await;
                }
                "STARTTLS" => "502 5.5.1 Error: command not implemented".to_string(),
                _ => "502 5.5.2 Error: command not recognized".to_string(),
            };
            reply(&mut write, &answer).await?;
        }
    }

    fn ehlo(&mut self, arg: &str) -> String {
        if arg.is_empty() {
            return "501 5.5.4 Syntax: EHLO hostname".into();
        }
        self.reset();
        self.greeting = Greeting::Ehlo;
        self.helo = arg.into();
        let mut lines = vec![
            format!("{HOSTNAME} Hello {arg}"),
            format!("SIZE {}", self.shared.max_size),
            "8BITMIME".into(),
        ];
        if self.shared.credentials.is_some() {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        lines.push("ENHANCEDSTATUSCODES".into());
        let last = lines.len() - 1;
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("250{}{l}", if i == last { ' ' } else { '-' }))
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    fn helo(&mut self, arg: &str) -> String {
        if arg.is_empty() {
            return "501 5.5.4 Syntax: HELO hostname".into();
        }
        self.reset();
        self.greeting = Greeting::Helo;
        self.helo = arg.into();
        format!("250 {HOSTNAME}")
    }

    async fn auth(
        &mut self,
        arg: &str,
        reader: &mut Reader,
        write: &mut Writer,
    ) -> std::io::Result<String> {
        let Some((user, password)) = self.shared.credentials.clone() else {
            return Ok("503 5.5.1 Error: authentication not enabled".into());
        };
        if self.greeting != Greeting::Ehlo {
            return Ok("503 5.5.1 Error: send EHLO first".into());
        }
        if self.authenticated_as.is_some() {
            return Ok("503 5.5.1 Error: already authenticated".into());
        }
        if self.from.is_some() {
            return Ok("503 5.5.1 Error: MAIL transaction in progress".into());
        }
        let mut words = arg.split_whitespace();
        let mechanism = words.next().unwrap_or_default().to_ascii_uppercase();
        let initial = words.next().map(String::from);
        let given = match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(response) => response,
                    None => match prompt(reader, write, "").await? {
                        Some(response) => response,
                        None => return Ok(ABORTED.into()),
                    },
                };
                let Some(decoded) = decode_sasl(&response) else {
                    return Ok(UNDECODABLE.into());
                };
                // authorization identity NUL user NUL password
                let fields: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
                if fields.len() != 3 {
                    return Ok(BAD_CREDENTIALS.into());
                }
                (
                    String::from_utf8_lossy(fields[1]).into_owned(),
                    String::from_utf8_lossy(fields[2]).into_owned(),
                )
            }
            "LOGIN" => {
                let given_user = match initial {
                    Some(response) => response,
                    // "Username:"
                    None => match prompt(reader, write, "VXNlcm5hbWU6").await? {
                        Some(response) => response,
                        None => return Ok(ABORTED.into()),
                    },
                };
                let Some(given_user) = decode_sasl(&given_user) else {
                    return Ok(UNDECODABLE.into());
                };
                // "Password:"
                let Some(given_password) = prompt(reader, write, "UGFzc3dvcmQ6").await? else {
                    return Ok(ABORTED.into());
                };
                let Some(given_password) = decode_sasl(&given_password) else {
                    return Ok(UNDECODABLE.into());
                };
                (
                    String::from_utf8_lossy(&given_user).into_owned(),
                    String::from_utf8_lossy(&given_password).into_owned(),
                )
            }
            "" => return Ok("501 5.5.4 Syntax: AUTH mechanism".into()),
            _ => return Ok("504 5.5.4 Unsupported authentication mechanism".into()),
        };
        if given == (user, password) {
            self.authenticated_as = Some(given.0);
            Ok("235 2.7.0 Authentication successful".into())
        } else {
            Ok(BAD_CREDENTIALS.into())
        }
    }

    fn mail(&mut self, arg: &str) -> String {
        if self.greeting == Greeting::None {
            return "503 5.5.1 Error: send HELO/EHLO first".into();
        }
        if self.shared.credentials.is_some() && self.authenticated_as.is_none() {
            return "530 5.7.0 Authentication required".into();
        }
        if self.from.is_some() {
            return "503 5.5.1 Error: nested MAIL command".into();
        }
        let Some((address, params)) = path_argument(arg, "FROM:") else {
            return "501 5.5.4 Syntax: MAIL FROM:<address>".into();
        };
        for param in params.split_whitespace() {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            match key.to_ascii_uppercase().as_str() {
                "SIZE" => {
                    let Ok(size) = value.parse::<usize>() else {
                        return "501 5.5.4 Bad SIZE syntax".into();
                    };
                    if size > self.shared.max_size {
                        return "552 5.3.4 Message size exceeds fixed limit".into();
                    }
                }
                "BODY" if matches!(value.to_ascii_uppercase().as_str(), "7BIT" | "8BITMIME") => {}
                _ => return format!("555 5.5.4 Unsupported option: {param}"),
            }
        }
        if let Some(failure) = self.take_failure() {
            return failure.line();
        }
        self.from = Some(address);
        "250 2.1.0 Ok".into()
    }

    fn rcpt(&mut self, arg: &str) -> String {
        if self.from.is_none() {
            return "503 5.5.1 Error: need MAIL command".into();
        }
        let Some((address, params)) = path_argument(arg, "TO:") else {
            return "501 5.5.4 Syntax: RCPT TO:<address>".into();
        };
        if address.is_empty() {
            return "501 5.1.3 Bad recipient address syntax".into();
        }
        if let Some(param) = params.split_whitespace().next() {
            return format!("555 5.5.4 Unsupported option: {param}");
        }
        if self.to.len() >= MAX_RECIPIENTS {
            return "452 4.5.3 Error: too many recipients".into();
        }
        if let Some(failure) = self.take_failure() {
            return failure.line();
        }
        self.to.push(address);
        "250 2.1.5 Ok".into()
    }

    /// `None` when the client hung up in the middle of the message.
    async fn data(
        &mut self,
        arg: &str,
        reader: &mut Reader,
        write: &mut Writer,
    ) -> std::io::Result<Option<String>> {
        if !arg.is_empty() {
            return Ok(Some("501 5.5.4 Syntax: DATA".into()));
        }
        if self.from.is_none() {
            return Ok(Some("503 5.5.1 Error: need MAIL command".into()));
        }
        if self.to.is_empty() {
            return Ok(Some("503 5.5.1 Error: need RCPT command".into()));
        }
        if let Some(failure) = self.take_failure() {
            return Ok(Some(failure.line()));
        }
        reply(write, "354 End data with <CR><LF>.<CR><LF>").await?;
        let mut data = Vec::new();
        let mut too_big = false;
        loop {
            let Some(line) = read_raw(reader, MAX_DATA_LINE).await? else {
                return Ok(None);
            };
            // Only CRLF.CRLF ends the message: a bare-LF dot would let a crafted message
            // smuggle a second one past a server that reads it differently.
            if line == b".\r\n" {
                break;
            }
            let line = line.strip_prefix(b".").unwrap_or(&line);
            if data.len() + line.len() > self.shared.max_size {
                too_big = true;
            } else {
                data.extend_from_slice(line);
            }
        }
        let from = self.from.take().unwrap_or_default();
        let to = std::mem::take(&mut self.to);
        if too_big {
            return Ok(Some("552 5.3.4 Message size exceeds fixed limit".into()));
        }
        if let Some(rejection) = self.shared.lock().reject_next.pop_front() {
            return Ok(Some(rejection.line()));
        }
        let queued = {
            let mut state = self.shared.lock();
            state.messages.push(ReceivedMail {
                from,
                to,
                data: String::from_utf8_lossy(&data).into_owned(),
                helo: self.helo.clone(),
                authenticated_as: self.authenticated_as.clone(),
            });
            state.messages.len()
        };
        self.shared.arrived.notify_waiters();
        Ok(Some(format!("250 2.0.0 Ok: queued as {queued:08X}")))
    }
}

const ABORTED: &str = "501 5.7.0 Authentication aborted";
const UNDECODABLE: &str = "501 5.5.2 Cannot decode response";
const BAD_CREDENTIALS: &str = "535 5.7.8 Authentication credentials invalid";

async fn reply(write: &mut Writer, text: &str) -> std::io::Result<()> {
    write.write_all(format!("{text}\r\n").as_bytes()).await?;
    write.flush().await
}

/// Sends a `334` challenge and reads the answer; `None` when the client cancels with `*` or
/// hangs up.
async fn prompt(
    reader: &mut Reader,
    write: &mut Writer,
    challenge: &str,
) -> std::io::Result<Option<String>> {
    reply(write, &format!("334 {challenge}")).await?;
    match read_command(reader).await? {
        Line::Text(answer) if answer.trim() != "*" => Ok(Some(answer.trim().to_string())),
        _ => Ok(None),
    }
}

/// A SASL response: base64, with `=` standing for an empty one.
fn decode_sasl(response: &str) -> Option<Vec<u8>> {
    if response == "=" {
        return Some(Vec::new());
    }
    base64_decode(response)
}

/// `FROM:<a@b> PARAMS` → (`a@b`, `PARAMS`); the keyword is case-insensitive and a space after
/// the colon is tolerated, as most servers do.
fn path_argument<'a>(arg: &'a str, keyword: &str) -> Option<(String, &'a str)> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    let address = &rest[..end];
    if address.contains(char::is_whitespace) {
        return None;
    }
    // A source route (`@a,@b:user@c`) is obsolete; only the mailbox counts.
    let address = address.rsplit_once(':').map_or(address, |(_, a)| a);
    Some((address.to_string(), rest[end + 1..].trim()))
}

// ---------------------------------------------------------------------------------------------
// Reading messages back

/// Splits a message or body part into unfolded header fields and the body.
fn split_entity(raw: &str) -> (Vec<(String, String)>, &str) {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut pos = 0;
    while pos < raw.len() {
        let end = raw[pos..].find('\n').map_or(raw.len(), |i| pos + i + 1);
        let line = raw[pos..end].trim_end_matches(['\r', '\n']);
        pos = end;
        if line.is_empty() {
            return (headers, &raw[pos..]);
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) => headers.push((name.trim().into(), value.trim().into())),
            // Not a header: the message has no header section.
            None if headers.is_empty() => return (headers, raw),
            None => {}
        }
    }
    (headers, "")
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `text/plain; charset="utf-8"` → (`text/plain`, [(`charset`, `utf-8`)]).
fn content_type(headers: &[(String, String)]) -> (String, Vec<(String, String)>) {
    let raw = header(headers, "Content-Type").unwrap_or("text/plain");
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in raw.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => pieces.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    pieces.push(current);
    let mime = pieces[0].trim().to_ascii_lowercase();
    let params = pieces[1..]
        .iter()
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (mime, params)
}

fn find_part(
    headers: &[(String, String)],
    body: &str,
    wanted: &str,
    depth: usize,
) -> Option<String> {
    let (mime, params) = content_type(headers);
    if mime.starts_with("multipart/") {
        if depth > 8 {
            return None;
        }
        let boundary = params.iter().find(|(k, _)| k == "boundary")?.1.as_str();
        return multipart_parts(body, boundary)
            .into_iter()
            .find_map(|part| {
                let (headers, body) = split_entity(part);
                find_part(&headers, body, wanted, depth + 1)
            });
    }
    let attachment = header(headers, "Content-Disposition")
        .is_some_and(|d| d.trim().to_ascii_lowercase().starts_with("attachment"));
    if mime != wanted || attachment {
        return None;
    }
    let encoding = header(headers, "Content-Transfer-Encoding")
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "quoted-printable" => quoted_printable_decode(body),
        "base64" => base64_decode(body)?,
        _ => body.as_bytes().to_vec(),
    };
    let charset = params
        .iter()
        .find(|(k, _)| k == "charset")
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    Some(decode_charset(&bytes, &charset).replace("\r\n", "\n"))
}

/// The bodies between `--boundary` delimiter lines; the line break before a delimiter belongs
/// to the delimiter.
fn multipart_parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut pos = 0;
    while pos < body.len() {
        let end = body[pos..].find('\n').map_or(body.len(), |i| pos + i + 1);
        let line = body[pos..end].trim_end_matches(['\r', '\n']).trim_end();
        if let Some(rest) = line.strip_prefix(&delimiter) {
            if let Some(s) = start {
                let part = &body[s..pos];
                let part = part.strip_suffix('\n').unwrap_or(part);
                parts.push(part.strip_suffix('\r').unwrap_or(part));
            }
            if rest.starts_with("--") {
                return parts;
            }
            start = Some(end);
        }
        pos = end;
    }
    parts
}

fn decode_charset(bytes: &[u8], charset: &str) -> String {
    match charset {
        "iso-8859-1" | "latin1" | "us-ascii" => bytes.iter().map(|&b| b as char).collect(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn quoted_printable_decode(body: &str) -> Vec<u8> {
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            // A soft line break joins two encoded lines.
            if bytes[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if bytes[i + 1..].starts_with(b"\n") {
                i += 2;
                continue;
            }
            if let Some(b) = body
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn base64_decode(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in input.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            c if c.is_ascii_whitespace() => continue,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); the space between two
/// adjacent encoded words is dropped, as the RFC says.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while !rest.is_empty() {
        let Some(start) = rest.find("=?") else {
            out.push_str(rest);
            break;
        };
        let decoded = encoded_word(&rest[start..]);
        let Some((text, used)) = decoded else {
            out.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            after_word = false;
            continue;
        };
        let between = &rest[..start];
        if !(after_word && between.chars().all(char::is_whitespace)) {
            out.push_str(between);
        }
        out.push_str(&text);
        rest = &rest[start + used..];
        after_word = true;
    }
    out
}

/// One encoded word at the start of `input`: its text and how many bytes it took.
fn encoded_word(input: &str) -> Option<(String, usize)> {
    let inner = input.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let payload = &inner[..end];
    if payload.contains(char::is_whitespace) {
        return None;
    }
    let bytes = match encoding.to_ascii_lowercase().as_str() {
        "b" => base64_decode(payload)?,
        "q" => quoted_printable_decode(&payload.replace('_', " ")),
        _ => return None,
    };
    // `inner` is a suffix of `input`, so what precedes it plus the payload and `?=` was used.
    let used = input.len() - inner.len() + end + 2;
    // RFC 2231 lets a language follow the charset: `utf-8*en`.
    let charset = charset
        .split('*')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    Some((decode_charset(&bytes, &charset), used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_decode_and_join() {
        assert_eq!(
            decode_words("=?utf-8?b?wqFUdSBhY2Nlc28g?= =?utf-8?b?ZXN0w6EgbGlzdG8h?="),
            "¡Tu acceso está listo!"
        );
        assert_eq!(
            decode_words("=?UTF-8?Q?Caf=C3=A9_ready?= now"),
            "Café ready now"
        );
        assert_eq!(decode_words("plain =? not a word"), "plain =? not a word");
    }

    #[test]
    fn quoted_printable_soft_breaks_and_escapes() {
        assert_eq!(
            String::from_utf8(quoted_printable_decode(
                "Hola Jos=C3=A9, tu acc=\r\neso =3D ok"
            ))
            .unwrap(),
            "Hola José, tu acceso = ok"
        );
    }

    #[test]
    fn base64_ignores_line_breaks() {
        assert_eq!(base64_decode("aGVs\r\nbG8=").unwrap(), b"hello");
        assert!(base64_decode("not*base64").is_none());
    }

    #[test]
    fn path_arguments() {
        assert_eq!(
            path_argument("FROM:<a@b.c> SIZE=10", "FROM:"),
            Some(("a@b.c".to_string(), "SIZE=10"))
        );
        assert_eq!(
            path_argument("from: <>", "FROM:"),
            Some((String::new(), ""))
        );
        assert_eq!(path_argument("FROM:a@b.c", "FROM:"), None);
    }
}
