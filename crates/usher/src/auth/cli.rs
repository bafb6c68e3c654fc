//! `usher admin …`: admin accounts from a terminal, for an operator locked out of the web as
//! much as for scripts. Passwords are read from standard input, never from the command line.

use std::io::Read;

use crate::domain::Role;
use crate::domain::ids::{AdminInviteId, PasskeyId, SessionId};
use crate::state::AppState;
use crate::web::error::for_terminal;

/// Who the events log names for what a command does.
const ACTOR: &str = "cli";

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// List admin accounts with their role and last sign-in
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create an admin account (the password on standard input)
    Create {
        #[arg(long)]
        username: String,
        /// owner, admin or approver
        #[arg(long, default_value = "owner", value_parser = role)]
        role: Role,
        /// Read the password from standard input (required: passwords never go on the command line)
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Set a new password for an admin (signs them out everywhere)
    ResetPassword {
        #[arg(long)]
        username: String,
        /// Read the password from standard input (required)
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Give an admin another role (usher always keeps an owner)
    Role {
        username: String,
        /// owner, admin or approver
        #[arg(value_parser = role)]
        role: Role,
    },
    /// Remove an admin account and end its sessions
    Remove { username: String },
    /// Take away an admin's second steps: authenticator codes, passkeys and recovery codes (a lost phone)
    #[command(name = "reset-2fa")]
    ResetTwoFactor { username: String },
    /// An admin's passkeys, with when each was added and last used
    Passkeys {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Give one of an admin's passkeys another name
    RenamePasskey {
        username: String,
        /// The passkey's id, from `passkeys`
        id: PasskeyId,
        name: String,
    },
    /// Remove one of an admin's passkeys (a lost phone or key)
    RemovePasskey {
        username: String,
        /// The passkey's id, from `passkeys`
        id: PasskeyId,
    },
    /// The browsers an admin is signed in on
    Sessions {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Sign an admin out: of one session (--session ID, from `sessions`) or everywhere
    SignOut {
        username: String,
        #[arg(long)]
        session: Option<SessionId>,
    },
    /// Make a one-time link that brings in another admin with a role
    Invite {
        /// owner, admin or approver
        #[arg(long, default_value = "approver", value_parser = role)]
        role: Role,
        /// How long the link works
        #[arg(long, default_value_t = super::team::DEFAULT_INVITE_HOURS)]
        hours: i64,
    },
    /// The links made recently: open, used and ended
    Invites {
        #[arg(long)]
        json: bool,
    },
    /// End a link before anyone uses it
    RevokeInvite { id: AdminInviteId },
    /// Link an allow-listed Telegram account to an admin (`none` unlinks): the bot acts as them
    Telegram {
        username: String,
        /// The Telegram user id, or `none`
        telegram_id: String,
    },
}

fn role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("`{s}` is not a role: owner, admin or approver"))
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    let fail = |e: super::AuthError| for_terminal(&state.i18n, &e);
    let now = state.clock.now();
    let store = &state.store;
    match cmd {
        Command::List { json } => {
            let admins = store.admins().await.map_err(|e| fail(e.into()))?;
            if json {
                let out: Vec<_> = admins.iter().map(super::admin_json).collect();
                println!("{}", serde_json::Value::Array(out));
                return Ok(());
            }
            let rows: Vec<[String; 3]> = admins
                .iter()
                .map(|a| {
                    [
                        a.username.clone(),
                        a.role.to_string(),
                        a.last_login_at
                            .map(crate::clock::human)
                            .unwrap_or_else(|| "never".into()),
                    ]
                })
                .collect();
            crate::text::print_table(&["USERNAME", "ROLE", "LAST SIGN-IN"], &rows);
            Ok(())
        }
        Command::Create { username, role, .. } => {
            let password = read_password()?;
            super::create_admin(store, &username, &password, role, now)
                .await
                .map_err(fail)?;
            println!("admin `{}` created ({role})", username.trim());
            Ok(())
        }
        Command::ResetPassword { username, .. } => {
            let password = read_password()?;
            super::reset_password(store, &username, &password)
                .await
                .map_err(fail)?;
            println!(
                "password for `{}` changed; their sessions were ended",
                username.trim()
            );
            Ok(())
        }
        Command::Role { username, role } => {
            super::change_role(store, &username, role, ACTOR, now)
                .await
                .map_err(fail)?;
            println!("`{}` is now {role}", username.trim());
            Ok(())
        }
        Command::Sessions { username, json } => {
            let admin = super::named(store, &username).await.map_err(fail)?;
            let sessions = store
                .sessions_of(admin.id, now)
                .await
                .map_err(|e| fail(e.into()))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&sessions).map_err(|e| e.to_string())?
                );
                return Ok(());
            }
            let rows: Vec<[String; 5]> = sessions
                .iter()
                .map(|s| {
                    [
                        s.id.to_string(),
                        super::account::device_name(s.user_agent.as_deref()),
                        s.address.clone().unwrap_or_default(),
                        crate::clock::human(s.created_at),
                        crate::clock::human(s.last_seen_at),
                    ]
                })
                .collect();
            crate::text::print_table(
                &["ID", "DEVICE", "ADDRESS", "SIGNED IN", "LAST SEEN"],
                &rows,
            );
            Ok(())
        }
        Command::SignOut { username, session } => {
            let admin = super::named(store, &username).await.map_err(fail)?;
            match session {
                Some(id) => {
                    super::account::end_session(state, admin.id, &admin.username, id, ACTOR)
                        .await
                        .map_err(fail)?;
                    println!("session {id} of `{}` ended", admin.username);
                }
                None => {
                    let n = super::account::end_other_sessions(
                        state,
                        admin.id,
                        &admin.username,
                        None,
                        ACTOR,
                    )
                    .await
                    .map_err(fail)?;
                    println!("`{}` signed out everywhere ({n} sessions)", admin.username);
                }
            }
            Ok(())
        }
        Command::Invite { role, hours } => {
            let invite = super::team::invite(state, role, hours, ACTOR)
                .await
                .map_err(fail)?;
            println!("{}", invite.url);
            eprintln!(
                "a one-time link for a new {role}; it works until {} (id {})",
                crate::clock::human(invite.expires_at),
                invite.id
            );
            Ok(())
        }
        Command::Invites { json } => {
            let invites = store.admin_invites(now).await.map_err(|e| fail(e.into()))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&invites).map_err(|e| e.to_string())?
                );
                return Ok(());
            }
            let rows: Vec<[String; 4]> = invites
                .iter()
                .map(|i| {
                    let state = match (&i.used_by, i.expires_at > now) {
                        (Some(by), _) => format!("used by {by}"),
                        (None, true) => format!("open until {}", crate::clock::human(i.expires_at)),
                        (None, false) => "ended".into(),
                    };
                    [
                        i.id.to_string(),
                        i.role.to_string(),
                        i.created_by.clone(),
                        state,
                    ]
                })
                .collect();
            crate::text::print_table(&["ID", "ROLE", "MADE BY", "STATE"], &rows);
            Ok(())
        }
        Command::RevokeInvite { id } => {
            super::team::revoke_invite(state, id, ACTOR)
                .await
                .map_err(fail)?;
            println!("link {id} revoked");
            Ok(())
        }
        Command::Telegram {
            username,
            telegram_id,
        } => {
            let id =
                match telegram_id.trim() {
                    "none" | "" => None,
                    raw => Some(raw.parse::<i64>().map_err(|_| {
                        format!("`{raw}` is not a Telegram id (a number) or `none`")
                    })?),
                };
            super::team::link_telegram(state, &username, id, ACTOR)
                .await
                .map_err(fail)?;
            match id {
                Some(id) => println!("`{}` is Telegram {id} in the bot", username.trim()),
                None => println!("`{}` has no Telegram account linked", username.trim()),
            }
            Ok(())
        }
        Command::Passkeys { username, json } => {
            let admin = super::named(store, &username).await.map_err(fail)?;
            let passkeys = super::passkeys::list(state, admin.id).await.map_err(fail)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_value(&passkeys).expect("passkeys serialise")
                );
                return Ok(());
            }
            if passkeys.is_empty() {
                println!("`{}` has no passkeys", admin.username);
                return Ok(());
            }
            let rows: Vec<[String; 4]> = passkeys
                .iter()
                .map(|p| {
                    [
                        p.id.to_string(),
                        p.name.clone(),
                        crate::clock::human(p.created_at),
                        p.last_used_at
                            .map(crate::clock::human)
                            .unwrap_or_else(|| "never".into()),
                    ]
                })
                .collect();
            crate::text::print_table(&["ID", "NAME", "ADDED", "LAST USED"], &rows);
            Ok(())
        }
        Command::RenamePasskey { username, id, name } => {
            let admin = super::named(store, &username).await.map_err(fail)?;
            super::passkeys::rename(state, admin.id, id, &name)
                .await
                .map_err(fail)?;
            println!(
                "passkey {id} of `{}` is now \"{}\"",
                admin.username,
                name.trim()
            );
            Ok(())
        }
        Command::RemovePasskey { username, id } => {
            let admin = super::named(store, &username).await.map_err(fail)?;
            let name = super::passkeys::remove(state, &admin, id, ACTOR)
                .await
                .map_err(fail)?;
            println!(
                "passkey \"{name}\" of `{}` removed; it no longer signs them in",
                admin.username
            );
            Ok(())
        }
        Command::ResetTwoFactor { username } => {
            let passkeys = super::two_factor::reset(state, &username, ACTOR)
                .await
                .map_err(fail)?;
            let removed = match passkeys {
                0 => String::new(),
                1 => " and its passkey removed".to_string(),
                n => format!(" and its {n} passkeys removed"),
            };
            println!(
                "authenticator codes for `{}` are off{removed}; they sign in with the password alone and can set up a new app or passkey",
                username.trim()
            );
            Ok(())
        }
        Command::Remove { username } => {
            super::remove_admin(store, &username, ACTOR, now)
                .await
                .map_err(fail)?;
            println!(
                "admin `{}` removed; their sessions were ended",
                username.trim()
            );
            Ok(())
        }
    }
}

fn read_password() -> Result<String, String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("could not read the password from standard input: {e}"))?;
    let password = input.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err("no password on standard input: pipe it in, e.g. `printf '%s' \"$PW\" | usher admin create …`".into());
    }
    Ok(password)
}
