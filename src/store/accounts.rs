//! Accounts and bearer tokens. A token is shown once, at creation; the store keeps only its
//! SHA-256, so a copied database file does not hand out write access.

use std::io::Read;

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{Store, StoreError, parse};
use crate::model::{Account, Role, SiteId, Timestamp};

/// Every token starts with this, so that a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "rm_";

/// Random bytes in a token (256 bits), written as hex after the prefix.
const TOKEN_BYTES: usize = 32;

/// Whether `token` has the shape of one this service issues; others are refused unhashed.
pub fn token_looks_valid(token: &str) -> bool {
    token.len() == TOKEN_PREFIX.len() + 2 * TOKEN_BYTES
        && token.starts_with(TOKEN_PREFIX)
        && token[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

pub(super) fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn new_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(StoreError::Random)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{TOKEN_PREFIX}{hex}"))
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Unique name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Team label.
    pub team: Option<String>,
    /// Assigned sub-districts (codes or names), already checked against the data set.
    pub subdistricts: Vec<String>,
    /// Assigned sites, already checked against the data set.
    pub sites: Vec<SiteId>,
}

/// An account as `token list` shows it.
#[derive(Debug, Clone)]
pub struct AccountEntry {
    /// The account.
    pub account: Account,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its token was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl Store {
    /// Creates an account and returns it with its token, which is not stored and cannot be
    /// shown again.
    pub fn add_account(&self, new: &NewAccount) -> Result<(Account, String), StoreError> {
        let token = new_token()?;
        let mut w = self.writer();
        let tx = w
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM account WHERE name = ?1)",
            [&new.name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::DuplicateAccount(new.name.clone()));
        }
        tx.execute(
            "INSERT INTO account (name, role, team, token_sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                new.name,
                new.role.as_str(),
                new.team,
                hash(&token),
                Timestamp::now().to_string()
            ],
        )?;
        let id = tx.last_insert_rowid();
        for d in &new.subdistricts {
            tx.execute(
                "INSERT INTO assignment (account_id, subdistrict) VALUES (?1, ?2)",
                params![id, d],
            )?;
        }
        for s in &new.sites {
            tx.execute(
                "INSERT INTO assignment (account_id, site_id) VALUES (?1, ?2)",
                params![id, s.as_str()],
            )?;
        }
        tx.commit()?;
        let account = Account {
            id,
            name: new.name.clone(),
            role: new.role,
            team: new.team.clone(),
            subdistricts: new.subdistricts.clone(),
            sites: new.sites.clone(),
        };
        Ok((account, token))
    }

    /// The live (not revoked) account holding `token`, if any.
    pub fn authenticate(&self, token: &str) -> Result<Option<Account>, StoreError> {
        if !token_looks_valid(token) {
            return Ok(None);
        }
        let conn = self.read();
        let row = conn
            .query_row(
                "SELECT id FROM account WHERE token_sha256 = ?1 AND revoked_at IS NULL",
                [hash(token)],
                |r| r.get::<_, i64>(0),
            )
            .optional()?;
        match row {
            Some(id) => load_account(&conn, id).map(Some),
            None => Ok(None),
        }
    }

    /// Every account, oldest first.
    pub fn accounts(&self) -> Result<Vec<AccountEntry>, StoreError> {
        let conn = self.read();
        let mut stmt =
            conn.prepare("SELECT id, created_at, revoked_at FROM account ORDER BY id")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, created, revoked)| {
                Ok(AccountEntry {
                    account: load_account(&conn, id)?,
                    created_at: parse(&created, "created_at")?,
                    revoked_at: revoked.map(|r| parse(&r, "revoked_at")).transpose()?,
                })
            })
            .collect()
    }

    /// Revokes the token of the account with this name (or numeric id); its changes stay in
    /// the history. Revoking twice is harmless.
    pub fn revoke(&self, name_or_id: &str) -> Result<Account, StoreError> {
        let mut w = self.writer();
        let tx = w
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let id: Option<i64> = tx
            .query_row(
                "SELECT id FROM account WHERE name = ?1 OR CAST(id AS TEXT) = ?1 ORDER BY name = ?1 DESC LIMIT 1",
                [name_or_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else {
            return Err(StoreError::UnknownAccount(name_or_id.to_owned()));
        };
        tx.execute(
            "UPDATE account SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, Timestamp::now().to_string()],
        )?;
        let account = load_account(&tx, id)?;
        tx.commit()?;
        Ok(account)
    }
}

pub(super) fn load_account(conn: &rusqlite::Connection, id: i64) -> Result<Account, StoreError> {
    let (name, role, team): (String, String, Option<String>) = conn.query_row(
        "SELECT name, role, team FROM account WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT subdistrict, site_id FROM assignment WHERE account_id = ?1 ORDER BY rowid",
    )?;
    let mut subdistricts = Vec::new();
    let mut sites = Vec::new();
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?,
            r.get::<_, Option<String>>(1)?,
        ))
    })?;
    for row in rows {
        match row? {
            (Some(d), _) => subdistricts.push(d),
            (None, Some(s)) => sites.push(SiteId(s)),
            (None, None) => {}
        }
    }
    Ok(Account {
        id,
        name,
        role: role.parse().map_err(|_| StoreError::BadValue {
            what: "role",
            value: role.clone(),
        })?,
        team,
        subdistricts,
        sites,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_one_shape() {
        let t = new_token().unwrap();
        assert!(token_looks_valid(&t), "{t}");
        assert_ne!(t, new_token().unwrap());
        assert!(!token_looks_valid("rm_xyz"));
        assert!(!token_looks_valid(&t.to_uppercase()));
        assert!(!token_looks_valid(&format!("{t}0")));
        assert_eq!(hash("abc").len(), 64);
    }
}
