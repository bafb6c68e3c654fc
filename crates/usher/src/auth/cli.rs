//! `usher admin …`: admin accounts from a terminal, for an operator locked out of the web as
//! much as for scripts. Passwords are read from standard input, never from the command line.

use std::io::Read;

use crate::domain::Role;
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
