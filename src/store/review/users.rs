//! Users and sessions. Passwords are stored as argon2id PHC strings; session tokens are
//! random 256-bit values of which only the SHA-256 is stored, so a copy of the database does
//! not let anyone log in as a stolen session.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use super::{audit, now_secs, now_text, sql_err, write_tx, ReviewError, Role, Store, User};

type Result<T> = std::result::Result<T, ReviewError>;

/// Shortest password `user add` accepts.
pub const MIN_PASSWORD: usize = 8;

/// Adds a user (or replaces their password and role). `by` is who did it, for the audit log.
pub fn add_user(
    store: &Store,
    by: &str,
    name: &str,
    role: Role,
    agent_id: Option<&str>,
    password: &str,
) -> Result<()> {
    if name.is_empty()
        || name.chars().count() > 64
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(ReviewError::Invalid(
            "a user name is 1-64 characters without spaces".into(),
        ));
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(ReviewError::Invalid(format!(
            "the password needs at least {MIN_PASSWORD} characters"
        )));
    }
    if role == Role::Agent && agent_id.is_none_or(str::is_empty) {
        return Err(ReviewError::Invalid(
            "an agent user needs --agent-id (the agent_id of their calls)".into(),
        ));
    }
    let hash = hash(password)?;
    let e = sql_err(store);
    let before = user(store, name)?;
    let tx = write_tx(store).map_err(&e)?;
    tx.execute(
        "INSERT INTO users (name, role, agent_id, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (name) DO UPDATE SET role = excluded.role, agent_id = excluded.agent_id,
             hash = excluded.hash",
        params![name, role.as_str(), agent_id, hash, now_text()],
    )
    .map_err(&e)?;
    // A new password ends every session opened with the old one.
    tx.execute("DELETE FROM sessions WHERE user = ?1", [name])
        .map_err(&e)?;
    audit(
        &tx,
        by,
        None,
        "user_add",
        serde_json::to_value(&before).unwrap_or_default(),
        serde_json::json!({"name": name, "role": role, "agent_id": agent_id}),
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)
}

/// Removes a user and their sessions. Returns whether there was one.
pub fn remove_user(store: &Store, by: &str, name: &str) -> Result<bool> {
    let e = sql_err(store);
    let Some(before) = user(store, name)? else {
        return Ok(false);
    };
    let tx = write_tx(store).map_err(&e)?;
    tx.execute("DELETE FROM users WHERE name = ?1", [name])
        .map_err(&e)?;
    tx.execute("DELETE FROM sessions WHERE user = ?1", [name])
        .map_err(&e)?;
    audit(
        &tx,
        by,
        None,
        "user_remove",
        serde_json::to_value(&before).unwrap_or_default(),
        serde_json::Value::Null,
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)?;
    Ok(true)
}

/// Every user, by name.
pub fn list_users(store: &Store) -> Result<Vec<User>> {
    let e = sql_err(store);
    let mut stmt = store
        .conn
        .prepare("SELECT name, role, agent_id FROM users ORDER BY name")
        .map_err(&e)?;
    let rows = stmt.query_map([], user_row).map_err(&e)?;
    rows.collect::<rusqlite::Result<_>>().map_err(&e)
}

fn user_row(r: &rusqlite::Row) -> rusqlite::Result<User> {
    let role: String = r.get(1)?;
    Ok(User {
        name: r.get(0)?,
        role: Role::parse(&role).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, role.into())
        })?,
        agent_id: r.get(2)?,
    })
}

/// One user by name.
pub fn user(store: &Store, name: &str) -> Result<Option<User>> {
    store
        .conn
        .query_row(
            "SELECT name, role, agent_id FROM users WHERE name = ?1",
            [name],
            user_row,
        )
        .optional()
        .map_err(sql_err(store))
}

/// The user whose password this is, or `None`. An unknown name costs the same hashing time as
/// a known one, so timing does not tell which names exist.
pub fn check_password(store: &Store, name: &str, password: &str) -> Result<Option<User>> {
    let stored: Option<String> = store
        .conn
        .query_row("SELECT hash FROM users WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()
        .map_err(sql_err(store))?;
    let hash = match stored {
        Some(h) => h,
        None => dummy_hash().to_string(),
    };
    let ok = PasswordHash::new(&hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    if !ok || name.is_empty() {
        return Ok(None);
    }
    user(store, name)
}

/// An argon2id PHC string of `password` with a random salt.
fn hash(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&random::<16>()?)
        .map_err(|e| ReviewError::Invalid(format!("cannot make a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ReviewError::Invalid(format!("cannot hash the password: {e}")))
}

/// An argon2id hash of a random password nobody knows, verified against for unknown names.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        random::<32>()
            .and_then(|pw| hash(&hex::encode(pw)))
            .unwrap_or_default()
    })
}

/// A logged-in session: the user and the CSRF token their state-changing requests must send.
#[derive(Clone, Debug)]
pub struct Session {
    pub user: User,
    pub csrf: String,
}

/// How long a session lasts: a working day.
pub const SESSION_SECS: i64 = 12 * 3600;

/// `N` bytes from the operating system's generator.
fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| ReviewError::Random(e.to_string()))?;
    Ok(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Opens a session for `user`; returns the cookie token and the CSRF token.
pub fn create_session(store: &Store, user: &User) -> Result<(String, String)> {
    let (token, csrf) = (hex::encode(random::<32>()?), hex::encode(random::<32>()?));
    let e = sql_err(store);
    store
        .conn
        .execute("DELETE FROM sessions WHERE expires_at < ?1", [now_secs()])
        .map_err(&e)?;
    store
        .conn
        .execute(
            "INSERT INTO sessions (token_hash, user, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                token_hash(&token),
                user.name,
                csrf,
                now_secs() + SESSION_SECS
            ],
        )
        .map_err(&e)?;
    Ok((token, csrf))
}

/// The live session a cookie token names, if any.
pub fn session(store: &Store, token: &str) -> Result<Option<Session>> {
    store
        .conn
        .query_row(
            "SELECT u.name, u.role, u.agent_id, s.csrf FROM sessions s
             JOIN users u ON u.name = s.user
             WHERE s.token_hash = ?1 AND s.expires_at >= ?2",
            params![token_hash(token), now_secs()],
            |r| {
                Ok(Session {
                    user: user_row(r)?,
                    csrf: r.get(3)?,
                })
            },
        )
        .optional()
        .map_err(sql_err(store))
}

/// Ends a session (logout, or the old session at a new login).
pub fn end_session(store: &Store, token: &str) -> Result<()> {
    store
        .conn
        .execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            [token_hash(token)],
        )
        .map_err(sql_err(store))?;
    Ok(())
}
