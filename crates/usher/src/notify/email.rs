//! Outgoing email through the owner's SMTP server.

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::settings::{SmtpSecurity, SmtpSettings};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("email is not set up: add an SMTP server in Settings")]
    NotConfigured,
    #[error("`{0}` is not an email address")]
    BadAddress(String),
    #[error("the stored SMTP password cannot be read; enter it again in Settings")]
    PasswordUnreadable,
    #[error("the mail server refused: {0}")]
    Smtp(String),
}

/// Sends a plain-text email.
pub async fn send(
    state: &AppState,
    smtp: &SmtpSettings,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), EmailError> {
    if !smtp.configured() {
        return Err(EmailError::NotConfigured);
    }
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|_| EmailError::BadAddress(smtp.from.clone()))?;
    let to_box: Mailbox = to
        .parse()
        .map_err(|_| EmailError::BadAddress(to.to_string()))?;
    let message = Message::builder()
        .from(from)
        .to(to_box)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_string())
        .map_err(|e| EmailError::Smtp(e.to_string()))?;
    media::http::install_crypto();
    let builder = match smtp.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| EmailError::Smtp(e.to_string()))?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|e| EmailError::Smtp(e.to_string()))?,
    };
    let mut builder = builder.timeout(Some(std::time::Duration::from_secs(20)));
    if smtp.port != 0 {
        builder = builder.port(smtp.port);
    }
    if !smtp.username.is_empty() {
        let password = match &smtp.password_sealed {
            Some(sealed) => state
                .key
                .open(sealed)
                .ok_or(EmailError::PasswordUnreadable)?,
            None => String::new(),
        };
        builder = builder.credentials(Credentials::new(smtp.username.clone(), password));
    }
    builder
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| EmailError::Smtp(e.to_string()))
}
