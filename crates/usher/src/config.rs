//! Configuration: defaults → TOML file → `USHER_*` environment → command-line flags.
//!
//! Environment names are the keys upper-cased behind `USHER_`, with `__` for nesting
//! (`USHER_PLEX__TV_URL`); the names documented in the README (`USHER_PLEX_TV_URL`) are aliases.
//! `USHER_X_FILE=/path` reads the value of `USHER_X` from a file, for secrets. Unknown `USHER_*`
//! variables are reported as warnings; invalid values stop start-up with a message naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// Where the database, secret key and backups live.
    pub data_dir: PathBuf,
    /// The URL people reach usher at; used for links. Defaults to `http://{bind}`.
    pub public_url: Option<String>,
    /// Log filter, e.g. `info` or `usher=debug,info`.
    pub log: String,
    pub log_format: LogFormat,
    /// 32-byte key (hex or base64url) for secrets at rest; default: `secret.key` in the data dir.
    pub secret_key: Option<String>,
    /// When set, `/metrics` answers to `Authorization: Bearer TOKEN`; when unset it is off.
    pub metrics_token: Option<String>,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_proxy_headers: bool,
    /// How many reverse proxies of the operator's stand in front: the client address is the one
    /// the outermost of them appended to `X-Forwarded-For` (that many entries from the right).
    pub proxy_hops: u32,
    /// Failed logins in a row before an account is locked.
    pub login_max_failures: u32,
    /// How long a locked account stays locked, in minutes.
    pub login_lockout_minutes: u32,
    /// How long an admin session lasts without use, in days.
    pub session_days: u32,
    /// Unknown invite codes one address may try per hour before it is made to wait.
    pub code_misses_per_hour: u32,
    /// Redemption attempts one address may make per hour.
    pub redemptions_per_hour: u32,
    /// How often every server's accounts are compared with usher's members, in hours; 0 = only
    /// on demand.
    pub sync_hours: u32,
    /// How many days before access expires the reminder is recorded; 0 = no reminders.
    pub reminder_days: u32,
    pub plex: PlexConfig,
    /// Hours between scheduled backups into `{data_dir}/backups` (0 turns them off).
    pub backup_hours: u32,
    /// How many scheduled backups to keep.
    pub backup_keep: u32,
    /// The Telegram Bot API base URL.
    pub telegram_api_url: String,
    /// Other sites allowed to post to usher's forms (comma-separated origins), e.g. a page that
    /// embeds the request form.
    pub allowed_origins: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PlexConfig {
    pub tv_url: String,
    pub clients_url: String,
    pub app_url: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

impl Default for PlexConfig {
    fn default() -> Self {
        let d = media::plex::PlexEndpoints::default();
        PlexConfig {
            tv_url: d.plex_tv,
            clients_url: d.clients,
            app_url: d.app,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:9450".parse().expect("valid default address"),
            data_dir: PathBuf::from("./data"),
            public_url: None,
            log: "info".into(),
            log_format: LogFormat::Pretty,
            secret_key: None,
            metrics_token: None,
            trust_proxy_headers: false,
            proxy_hops: 1,
            login_max_failures: 5,
            login_lockout_minutes: 15,
            session_days: 30,
            code_misses_per_hour: 30,
            redemptions_per_hour: 30,
            sync_hours: 6,
            reminder_days: 3,
            plex: PlexConfig::default(),
            backup_hours: 24,
            backup_keep: 7,
            telegram_api_url: "https://api.telegram.org".into(),
            allowed_origins: String::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Str,
    Bool,
    Int,
}

/// Every key that can be set, with its type, so environment strings become the right TOML value.
const KEYS: &[(&str, Kind)] = &[
    ("bind", Kind::Str),
    ("data_dir", Kind::Str),
    ("public_url", Kind::Str),
    ("log", Kind::Str),
    ("log_format", Kind::Str),
    ("secret_key", Kind::Str),
    ("metrics_token", Kind::Str),
    ("trust_proxy_headers", Kind::Bool),
    ("proxy_hops", Kind::Int),
    ("login_max_failures", Kind::Int),
    ("login_lockout_minutes", Kind::Int),
    ("session_days", Kind::Int),
    ("code_misses_per_hour", Kind::Int),
    ("redemptions_per_hour", Kind::Int),
    ("sync_hours", Kind::Int),
    ("reminder_days", Kind::Int),
    ("plex.tv_url", Kind::Str),
    ("plex.clients_url", Kind::Str),
    ("plex.app_url", Kind::Str),
    ("backup_hours", Kind::Int),
    ("backup_keep", Kind::Int),
    ("telegram_api_url", Kind::Str),
    ("allowed_origins", Kind::Str),
];

/// Documented flat names for nested keys.
const ALIASES: &[(&str, &str)] = &[
    ("USHER_PLEX_TV_URL", "plex.tv_url"),
    ("USHER_PLEX_CLIENTS_URL", "plex.clients_url"),
    ("USHER_PLEX_APP_URL", "plex.app_url"),
];

/// Variables that are read elsewhere (by the CLI) and are not configuration keys.
const NOT_KEYS: &[&str] = &["USHER_CONFIG", crate::clock::TEST_NOW_VAR];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read config file {path}: {source}")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    ParseFile { path: String, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

/// Where configuration comes from. The environment is passed in (not read from the process) so
/// tests stay independent of each other.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    pub file: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    /// Command-line flags as (key, value), applied last.
    pub flags: Vec<(String, String)>,
}

impl Sources {
    /// The process environment's `USHER_*` variables.
    pub fn from_process_env() -> Self {
        Sources {
            file: None,
            env: std::env::vars()
                .filter(|(k, _)| k.starts_with("USHER_"))
                .collect(),
            flags: Vec::new(),
        }
    }
}

/// The loaded configuration and what the operator should be told about it.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

impl Config {
    pub fn load(sources: &Sources) -> Result<Loaded, ConfigError> {
        let mut warnings = Vec::new();
        let mut table = toml::Table::new();

        if let Some(path) = &sources.file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
                path: path.display().to_string(),
                source,
            })?;
            table = text
                .parse::<toml::Table>()
                .map_err(|e| ConfigError::ParseFile {
                    path: path.display().to_string(),
                    message: e.message().to_string(),
                })?;
        }

        let mut env: Vec<(String, String, String)> = Vec::new(); // (var, key, value)
        for (var, value) in &sources.env {
            let Some(rest) = var.strip_prefix("USHER_") else {
                continue;
            };
            if NOT_KEYS.contains(&var.as_str()) {
                continue;
            }
            let (name, value) = if let Some(base) = rest.strip_suffix("_FILE") {
                let contents =
                    std::fs::read_to_string(value).map_err(|e| ConfigError::Invalid {
                        key: var.clone(),
                        message: format!("could not read {value}: {e}"),
                    })?;
                (
                    base.to_string(),
                    contents.trim_end_matches(['\r', '\n']).to_string(),
                )
            } else {
                (rest.to_string(), value.clone())
            };
            let full = format!("USHER_{name}");
            let key = ALIASES
                .iter()
                .find(|(alias, _)| *alias == full)
                .map(|(_, key)| key.to_string())
                .unwrap_or_else(|| name.to_ascii_lowercase().replace("__", "."));
            if KEYS.iter().any(|(k, _)| *k == key) {
                env.push((var.clone(), key, value));
            } else {
                warnings.push(format!("unknown environment variable {var} is ignored"));
            }
        }
        // File-sourced secrets and plain values for the same key: the plain one wins.
        env.sort_by_key(|(var, _, _)| var.ends_with("_FILE"));
        env.reverse();
        for (var, key, value) in env {
            set(&mut table, &key, &value, &var)?;
        }
        for (key, value) in &sources.flags {
            set(
                &mut table,
                key,
                value,
                &format!("--{}", key.replace('_', "-")),
            )?;
        }

        let de = toml::Value::Table(table);
        let mut config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::Invalid {
                message: e.into_inner().to_string(),
                key,
            }
        })?;
        config.log = normalise_log_filter(&config.log);
        config.validate()?;
        Ok(Loaded { config, warnings })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.into(),
            message,
        };
        if let Some(url) = &self.public_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| invalid("public_url", format!("`{url}` is not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid(
                    "public_url",
                    "must start with http:// or https://".into(),
                ));
            }
        }
        for (key, url) in [
            ("plex.tv_url", &self.plex.tv_url),
            ("plex.clients_url", &self.plex.clients_url),
            ("plex.app_url", &self.plex.app_url),
        ] {
            media::http::parse_base_url(url).map_err(|e| invalid(key, e.to_string()))?;
        }
        media::http::parse_base_url(&self.telegram_api_url)
            .map_err(|e| invalid("telegram_api_url", e.to_string()))?;
        for origin in self.allowed_origins() {
            let ok = url::Url::parse(origin)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.path() == "/");
            if !ok {
                return Err(invalid(
                    "allowed_origins",
                    format!("`{origin}` is not an origin like https://example.com"),
                ));
            }
        }
        if let Some(key) = &self.secret_key {
            crate::crypto::SecretKey::parse(key)
                .map_err(|e| invalid("secret_key", e.to_string()))?;
        }
        if !(1..=10).contains(&self.proxy_hops) {
            return Err(invalid("proxy_hops", "must be between 1 and 10".into()));
        }
        if self.login_max_failures == 0 {
            return Err(invalid("login_max_failures", "must be at least 1".into()));
        }
        if self.session_days == 0 {
            return Err(invalid("session_days", "must be at least 1".into()));
        }
        if self.sync_hours > 24 * 365 {
            return Err(invalid(
                "sync_hours",
                "must be at most 8760 (a year); 0 turns periodic sync off".into(),
            ));
        }
        if self.reminder_days > 365 {
            return Err(invalid(
                "reminder_days",
                "must be at most 365; 0 turns reminders off".into(),
            ));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log)
            .map_err(|e| invalid("log", format!("`{}` is not a log filter: {e}", self.log)))?;
        Ok(())
    }

    pub fn allowed_origins(&self) -> impl Iterator<Item = &str> {
        self.allowed_origins
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// How long a session lasts without use, in seconds.
    pub fn session_seconds(&self) -> i64 {
        self.session_days as i64 * 86_400
    }

    pub fn is_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("usher.db")
    }

    pub fn data_path(&self, name: &str) -> PathBuf {
        Path::new(&self.data_dir).join(name)
    }
}

/// Sets `key` (dotted) in `table` to `raw`, typed by the key's kind.
fn set(table: &mut toml::Table, key: &str, raw: &str, source: &str) -> Result<(), ConfigError> {
    let kind = KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, kind)| *kind)
        .ok_or_else(|| ConfigError::Invalid {
            key: source.into(),
            message: "not a configuration key".into(),
        })?;
    let value = match kind {
        Kind::Str => toml::Value::String(raw.to_string()),
        Kind::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
            "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
            _ => {
                return Err(ConfigError::Invalid {
                    key: source.into(),
                    message: format!("`{raw}` is not true or false"),
                });
            }
        },
        Kind::Int => {
            toml::Value::Integer(raw.trim().parse().map_err(|_| ConfigError::Invalid {
                key: source.into(),
                message: format!("`{raw}` is not a whole number"),
            })?)
        }
    };
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().expect("keys are never empty");
    let mut cursor = table;
    for part in parts {
        cursor = cursor
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| ConfigError::Invalid {
                key: part.into(),
                message: "must be a table".into(),
            })?;
    }
    cursor.insert(last.to_string(), value);
    Ok(())
}

/// A log filter with the spaces around each directive taken away. The filter parser measures a
/// directive after trimming it but cuts the untrimmed text, so a directive that starts with a
/// space before a non-ASCII character would make it panic; without the spaces both agree.
pub fn normalise_log_filter(filter: &str) -> String {
    filter
        .split(',')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let loaded = Config::load(&Sources::default()).unwrap();
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.config.bind.to_string(), "127.0.0.1:9450");
        assert_eq!(loaded.config.public_url, None);
    }

    #[test]
    fn file_then_environment_then_flags_take_precedence_in_that_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("usher.toml");
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:1000\"\nlog = \"debug\"\nsession_days = 3\n[plex]\ntv_url = \"http://file\"\n",
        )
        .unwrap();
        let sources = Sources {
            file: Some(file),
            env: env(&[
                ("USHER_LOG", "warn"),
                ("USHER_BIND", "127.0.0.1:2000"),
                ("USHER_PLEX_TV_URL", "http://env"),
            ]),
            flags: vec![("bind".into(), "127.0.0.1:3000".into())],
        };
        let c = Config::load(&sources).unwrap().config;
        assert_eq!(
            c.bind.to_string(),
            "127.0.0.1:3000",
            "flag beats env and file"
        );
        assert_eq!(c.log, "warn", "env beats file");
        assert_eq!(c.session_days, 3, "file beats default");
        assert_eq!(
            c.plex.tv_url, "http://env",
            "documented alias reaches the nested key"
        );
    }

    #[test]
    fn double_underscore_nests_keys() {
        let sources = Sources {
            env: env(&[("USHER_PLEX__APP_URL", "http://nested")]),
            ..Default::default()
        };
        assert_eq!(
            Config::load(&sources).unwrap().config.plex.app_url,
            "http://nested"
        );
    }

    #[test]
    fn file_suffix_reads_a_secret_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("token");
        std::fs::write(&secret, "s3cret-metrics\n").unwrap();
        let sources = Sources {
            env: env(&[("USHER_METRICS_TOKEN_FILE", secret.to_str().unwrap())]),
            ..Default::default()
        };
        let c = Config::load(&sources).unwrap().config;
        assert_eq!(c.metrics_token.as_deref(), Some("s3cret-metrics"));
    }

    #[test]
    fn a_missing_secret_file_names_the_variable() {
        let sources = Sources {
            env: env(&[("USHER_SECRET_KEY_FILE", "/nonexistent/key")]),
            ..Default::default()
        };
        let err = Config::load(&sources).unwrap_err().to_string();
        assert!(err.contains("USHER_SECRET_KEY_FILE"), "{err}");
    }

    #[test]
    fn unknown_usher_variables_warn_but_do_not_stop_start_up() {
        let sources = Sources {
            env: env(&[("USHER_BNID", "x"), ("USHER_CONFIG", "/etc/usher.toml")]),
            ..Default::default()
        };
        let loaded = Config::load(&sources).unwrap();
        assert_eq!(loaded.warnings.len(), 1);
        assert!(loaded.warnings[0].contains("USHER_BNID"));
    }

    #[test]
    fn invalid_values_stop_start_up_naming_the_key() {
        let cases = [
            ("USHER_BIND", "not-an-address", "bind"),
            (
                "USHER_TRUST_PROXY_HEADERS",
                "maybe",
                "USHER_TRUST_PROXY_HEADERS",
            ),
            ("USHER_SESSION_DAYS", "ten", "USHER_SESSION_DAYS"),
            ("USHER_LOG_FORMAT", "xml", "log_format"),
            ("USHER_PUBLIC_URL", "ftp://x", "public_url"),
            ("USHER_PLEX_TV_URL", "nope", "plex.tv_url"),
            ("USHER_SECRET_KEY", "short", "secret_key"),
        ];
        for (var, value, key) in cases {
            let sources = Sources {
                env: env(&[(var, value)]),
                ..Default::default()
            };
            let err = Config::load(&sources).unwrap_err().to_string();
            assert!(err.contains(key), "{var}={value}: {err}");
        }
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("usher.toml");
        std::fs::write(&file, "bnid = \"x\"\n").unwrap();
        let err = Config::load(&Sources {
            file: Some(file),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("bnid"), "{err}");
    }
}
