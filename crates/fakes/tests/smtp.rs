//! The SMTP sink speaks ESMTP over a real socket and keeps what it accepts.

use std::time::Duration;

use fakes::smtp::SmtpSink;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// A hand-driven SMTP client, so each command and reply is visible in the test.
struct Session {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Session {
    async fn open(sink: &SmtpSink) -> Session {
        let stream = TcpStream::connect(sink.addr()).await.unwrap();
        let (read, writer) = stream.into_split();
        let mut session = Session {
            reader: BufReader::new(read),
            writer,
        };
        let (code, lines) = session.reply().await;
        assert_eq!(code, 220, "{lines:?}");
        session
    }

    async fn send_raw(&mut self, raw: &str) {
        self.writer.write_all(raw.as_bytes()).await.unwrap();
    }

    /// A full reply: its code and the text of every line.
    async fn reply(&mut self) -> (u16, Vec<String>) {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let read =
                tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line))
                    .await
                    .expect("a reply within 10 s")
                    .unwrap();
            assert!(read > 0, "the sink hung up; replies so far: {lines:?}");
            assert!(line.ends_with("\r\n"), "replies end in CRLF: {line:?}");
            let code: u16 = line[..3].parse().unwrap();
            let more = line.as_bytes()[3] == b'-';
            lines.push(line[4..].trim_end().to_string());
            if !more {
                return (code, lines);
            }
        }
    }

    /// Sends one command; returns the reply code and its last line.
    async fn cmd(&mut self, line: &str) -> (u16, String) {
        self.send_raw(&format!("{line}\r\n")).await;
        let (code, mut lines) = self.reply().await;
        (code, lines.pop().unwrap())
    }

    async fn expect(&mut self, line: &str, code: u16) -> String {
        let (got, text) = self.cmd(line).await;
        assert_eq!(got, code, "{line} → {got} {text}");
        text
    }

    /// MAIL, RCPT for each recipient, DATA with `body` (already CRLF and dot-stuffed).
    async fn deliver(&mut self, from: &str, to: &[&str], body: &str) {
        self.expect(&format!("MAIL FROM:<{from}>"), 250).await;
        for rcpt in to {
            self.expect(&format!("RCPT TO:<{rcpt}>"), 250).await;
        }
        self.expect("DATA", 354).await;
        self.send_raw(body).await;
        let (code, text) = self.cmd(".").await;
        assert_eq!(code, 250, "{text}");
    }
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const SIMPLE: &str = "From: Usher <usher@example.com>\r\n\
                      To: ana@example.com\r\n\
                      Subject: Your access is ready\r\n\
                      Content-Type: text/plain; charset=utf-8\r\n\
                      \r\n\
                      Hello Ana,\r\n\
                      open Plex to start watching.\r\n";

#[tokio::test]
async fn a_session_over_a_raw_socket_delivers_a_message() {
    let sink = SmtpSink::start().await;
    assert_eq!(sink.host(), "127.0.0.1");
    assert_ne!(sink.port(), 0);
    let mut s = Session::open(&sink).await;

    s.send_raw("EHLO usher.local\r\n").await;
    let (code, capabilities) = s.reply().await;
    assert_eq!(code, 250);
    assert!(
        capabilities.contains(&"8BITMIME".to_string()),
        "{capabilities:?}"
    );
    assert!(
        capabilities.iter().any(|c| c.starts_with("SIZE ")),
        "{capabilities:?}"
    );
    assert!(
        !capabilities.iter().any(|c| c.starts_with("AUTH")),
        "AUTH is only offered when credentials are configured: {capabilities:?}"
    );

    s.expect("NOOP", 250).await;
    s.deliver("usher@example.com", &["ana@example.com"], SIMPLE)
        .await;
    s.expect("QUIT", 221).await;

    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.from, "usher@example.com");
    assert_eq!(mail.to, ["ana@example.com"]);
    assert_eq!(mail.helo, "usher.local");
    assert_eq!(mail.authenticated_as, None);
    assert_eq!(mail.data, SIMPLE);
    assert_eq!(mail.subject().as_deref(), Some("Your access is ready"));
    assert_eq!(
        mail.text_body().as_deref(),
        Some("Hello Ana,\nopen Plex to start watching.\n")
    );
    assert_eq!(mail.header("to").as_deref(), Some("ana@example.com"));
    assert_eq!(
        sink.commands().first().map(String::as_str),
        Some("EHLO usher.local")
    );
}

#[tokio::test]
async fn waiting_resolves_when_mail_arrives_from_another_task() {
    let sink = SmtpSink::start().await;
    let addr = sink.addr();
    let sender = tokio::spawn(async move {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (read, mut writer) = stream.into_split();
        let mut reader = BufReader::new(read);
        for line in [
            "HELO sender",
            "MAIL FROM:<a@example.com>",
            "RCPT TO:<b@example.com>",
            "DATA",
        ] {
            let mut reply = String::new();
            reader.read_line(&mut reply).await.unwrap();
            writer
                .write_all(format!("{line}\r\n").as_bytes())
                .await
                .unwrap();
        }
        let mut reply = String::new();
        reader.read_line(&mut reply).await.unwrap();
        assert!(reply.starts_with("354"), "{reply}");
        writer
            .write_all(b"Subject: hi\r\n\r\nbody\r\n.\r\n")
            .await
            .unwrap();
        reply.clear();
        reader.read_line(&mut reply).await.unwrap();
        assert!(reply.starts_with("250"), "{reply}");
    });
    let messages = sink.wait_for(1).await;
    assert_eq!(messages[0].subject().as_deref(), Some("hi"));
    sender.await.unwrap();
}

#[tokio::test]
async fn every_recipient_of_a_message_is_kept() {
    let sink = SmtpSink::start().await;
    let mut s = Session::open(&sink).await;
    s.expect("EHLO usher.local", 250).await;
    s.deliver(
        "usher@example.com",
        &["ana@example.com", "bo@example.com", "owner@example.com"],
        SIMPLE,
    )
    .await;
    // A session can send a second message after the first.
    s.deliver("usher@example.com", &["cy@example.com"], SIMPLE)
        .await;

    let messages = sink.wait_for(2).await;
    assert_eq!(
        messages[0].to,
        ["ana@example.com", "bo@example.com", "owner@example.com"]
    );
    assert_eq!(messages[1].to, ["cy@example.com"]);
}

#[tokio::test]
async fn dot_stuffed_lines_are_unstuffed() {
    let sink = SmtpSink::start().await;
    let mut s = Session::open(&sink).await;
    s.expect("EHLO usher.local", 250).await;
    let stuffed = "Subject: dots\r\n\r\n..hidden file\r\n.. \r\nline\r\n...\r\n";
    s.deliver("usher@example.com", &["ana@example.com"], stuffed)
        .await;

    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(
        mail.data,
        "Subject: dots\r\n\r\n.hidden file\r\n. \r\nline\r\n..\r\n"
    );
    assert_eq!(
        mail.text_body().as_deref(),
        Some(".hidden file\n. \nline\n..\n")
    );
}

#[tokio::test]
async fn commands_out_of_order_are_refused() {
    let sink = SmtpSink::start().await;
    let mut s = Session::open(&sink).await;
    s.expect("MAIL FROM:<usher@example.com>", 503).await;
    s.expect("EHLO", 501).await;
    s.expect("EHLO usher.local", 250).await;
    s.expect("RCPT TO:<ana@example.com>", 503).await;
    s.expect("DATA", 503).await;
    s.expect("MAIL FROM:usher@example.com", 501).await;
    s.expect("MAIL FROM:<usher@example.com>", 250).await;
    s.expect("MAIL FROM:<usher@example.com>", 503).await;
    s.expect("DATA", 503).await;
    s.expect("RCPT TO:<>", 501).await;
    s.expect("RCPT TO:<ana@example.com>", 250).await;
    s.expect("RSET", 250).await;
    s.expect("DATA", 503).await;
    s.expect("FROB", 502).await;
    s.expect("AUTH PLAIN AGFubgBwdw==", 503).await;
    s.expect("QUIT", 221).await;
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn auth_is_required_when_credentials_are_configured() {
    let sink = SmtpSink::builder()
        .with_auth("usher", "s3cret")
        .start()
        .await;
    let mut s = Session::open(&sink).await;
    s.send_raw("EHLO usher.local\r\n").await;
    let (_, capabilities) = s.reply().await;
    assert!(
        capabilities.contains(&"AUTH PLAIN LOGIN".to_string()),
        "{capabilities:?}"
    );

    s.expect("MAIL FROM:<usher@example.com>", 530).await;
    let wrong = base64(b"\0usher\0guess");
    s.expect(&format!("AUTH PLAIN {wrong}"), 535).await;
    s.expect("AUTH CRAM-MD5", 504).await;
    let right = base64(b"\0usher\0s3cret");
    s.expect(&format!("AUTH PLAIN {right}"), 235).await;
    s.expect(&format!("AUTH PLAIN {right}"), 503).await;
    s.deliver("usher@example.com", &["ana@example.com"], SIMPLE)
        .await;
    assert_eq!(
        sink.wait_for(1).await[0].authenticated_as.as_deref(),
        Some("usher")
    );
    assert!(
        sink.commands().iter().all(|c| !c.contains(&right)),
        "credentials stay out of the command log"
    );

    // LOGIN, prompted step by step.
    let mut s = Session::open(&sink).await;
    s.expect("EHLO usher.local", 250).await;
    assert_eq!(s.expect("AUTH LOGIN", 334).await, "VXNlcm5hbWU6");
    assert_eq!(s.expect(&base64(b"usher"), 334).await, "UGFzc3dvcmQ6");
    s.expect(&base64(b"s3cret"), 235).await;
    s.expect("MAIL FROM:<usher@example.com>", 250).await;

    // PLAIN without an initial response gets an empty challenge; `*` cancels.
    let mut s = Session::open(&sink).await;
    s.expect("EHLO usher.local", 250).await;
    s.expect("AUTH PLAIN", 334).await;
    s.expect("*", 501).await;
    s.expect("MAIL FROM:<usher@example.com>", 530).await;
}

#[tokio::test]
async fn a_temporary_failure_is_followed_by_success() {
    let sink = SmtpSink::start().await;
    sink.fail_next_with(451, "4.3.0 Try again later");
    let mut s = Session::open(&sink).await;
    s.expect("EHLO usher.local", 250).await;
    let text = s.expect("MAIL FROM:<usher@example.com>", 451).await;
    assert_eq!(text, "4.3.0 Try again later");
    s.deliver("usher@example.com", &["ana@example.com"], SIMPLE)
        .await;
    assert_eq!(sink.wait_for(1).await.len(), 1);

    // A permanent refusal of one recipient leaves the others deliverable.
    s.expect("MAIL FROM:<usher@example.com>", 250).await;
    sink.fail_next_with(550, "5.1.1 No such user");
    s.expect("RCPT TO:<nobody@example.com>", 550).await;
    s.expect("RCPT TO:<bo@example.com>", 250).await;
    sink.fail_next_with(452, "4.3.1 Insufficient system storage");
    s.expect("DATA", 452).await;
    s.expect("DATA", 354).await;
    s.send_raw(SIMPLE).await;
    s.expect(".", 250).await;
    assert_eq!(sink.wait_for(2).await[1].to, ["bo@example.com"]);
}

#[tokio::test]
async fn a_message_can_be_refused_after_its_final_dot() {
    let sink = SmtpSink::start().await;
    sink.reject_next_message_with(554, "5.7.1 Message rejected as spam");
    let mut s = Session::open(&sink).await;
    s.expect("EHLO usher.local", 250).await;
    s.expect("MAIL FROM:<usher@example.com>", 250).await;
    s.expect("RCPT TO:<ana@example.com>", 250).await;
    s.expect("DATA", 354).await;
    s.send_raw(SIMPLE).await;
    assert_eq!(s.expect(".", 554).await, "5.7.1 Message rejected as spam");
    assert!(sink.messages().is_empty());
    // The transaction is over: a new one starts with MAIL.
    s.deliver("usher@example.com", &["ana@example.com"], SIMPLE)
        .await;
    assert_eq!(sink.wait_for(1).await.len(), 1);
}

#[tokio::test]
async fn a_message_over_the_size_limit_is_refused() {
    let sink = SmtpSink::builder().max_size(100).start().await;
    let mut s = Session::open(&sink).await;
    s.expect("EHLO usher.local", 250).await;
    s.expect("MAIL FROM:<usher@example.com> SIZE=5000", 552)
        .await;
    s.expect("MAIL FROM:<usher@example.com> SIZE=50", 250).await;
    s.expect("RCPT TO:<ana@example.com>", 250).await;
    s.expect("DATA", 354).await;
    s.send_raw(&"x".repeat(200)).await;
    s.send_raw("\r\n").await;
    s.expect(".", 552).await;
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn multipart_bodies_and_encoded_subjects_are_decoded() {
    let sink = SmtpSink::start().await;
    let mut s = Session::open(&sink).await;
    s.expect("EHLO usher.local", 250).await;
    let html = base64("<p>Hola <b>José</b>, tu acceso está listo.</p>".as_bytes());
    let message = format!(
        "From: usher@example.com\r\n\
         Subject: =?utf-8?b?wqFUdSBhY2Nlc28g?=\r\n =?utf-8?b?ZXN0w6EgbGlzdG8h?=\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative;\r\n boundary=\"XyZ123\"\r\n\
         \r\n\
         --XyZ123\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         Hola Jos=C3=A9, tu acceso est=C3=A1 listo. Abre Plex para empezar a ver tu=\r\n\
         s bibliotecas.\r\n\
         --XyZ123\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {html}\r\n\
         --XyZ123--\r\n"
    );
    s.deliver("usher@example.com", &["jose@example.com"], &message)
        .await;

    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.subject().as_deref(), Some("¡Tu acceso está listo!"));
    assert_eq!(
        mail.text_body().as_deref(),
        Some("Hola José, tu acceso está listo. Abre Plex para empezar a ver tus bibliotecas.")
    );
    assert_eq!(
        mail.html_body().as_deref(),
        Some("<p>Hola <b>José</b>, tu acceso está listo.</p>")
    );
}
