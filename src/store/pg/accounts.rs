//! Accounts and bearer tokens in PostgreSQL: the same rules as the SQLite store's
//! ([`crate::store::TOKEN_PREFIX`], only the SHA-256 kept).

use postgres::{Client, GenericClient};

use super::pg_error;
use crate::model::{Account, SiteId, Timestamp};
use crate::store::accounts::{hash, new_token};
use crate::store::{AccountEntry, NewAccount, StoreError, token_looks_valid};

fn parse_time(s: String, what: &'static str) -> Result<Timestamp, StoreError> {
    s.parse()
        .map_err(|_| StoreError::BadValue { what, value: s })
}

/// The account with this id, revoked or not.
fn load(c: &mut impl GenericClient, id: i64) -> Result<Account, StoreError> {
    let row = c
        .query_one("SELECT name, role, team FROM account WHERE id = $1", &[&id])
        .map_err(pg_error)?;
    let role: String = row.get(1);
    let mut subdistricts = Vec::new();
    let mut sites = Vec::new();
    for r in c
        .query(
            "SELECT subdistrict, site_id FROM assignment WHERE account_id = $1 ORDER BY id",
            &[&id],
        )
        .map_err(pg_error)?
    {
        match (r.get::<_, Option<String>>(0), r.get::<_, Option<String>>(1)) {
            (Some(d), _) => subdistricts.push(d),
            (None, Some(s)) => sites.push(SiteId(s)),
            (None, None) => {}
        }
    }
    Ok(Account {
        id,
        name: row.get(0),
        role: role.parse().map_err(|_| StoreError::BadValue {
            what: "role",
            value: role.clone(),
        })?,
        team: row.get(2),
        subdistricts,
        sites,
    })
}

/// The account with this id if it exists and its token is not revoked (inside a commit).
pub(super) fn load_live(
    c: &mut impl GenericClient,
    id: i64,
) -> Result<Option<Account>, StoreError> {
    let live = c
        .query_opt(
            "SELECT 1 FROM account WHERE id = $1 AND revoked_at IS NULL",
            &[&id],
        )
        .map_err(pg_error)?;
    match live {
        Some(_) => load(c, id).map(Some),
        None => Ok(None),
    }
}

/// The live account holding `token`, if any.
pub(super) fn authenticate(c: &mut Client, token: &str) -> Result<Option<Account>, StoreError> {
    if !token_looks_valid(token) {
        return Ok(None);
    }
    let row = c
        .query_opt(
            "SELECT id FROM account WHERE token_sha256 = $1 AND revoked_at IS NULL",
            &[&hash(token)],
        )
        .map_err(pg_error)?;
    match row {
        Some(r) => load(c, r.get(0)).map(Some),
        None => Ok(None),
    }
}

/// Creates an account; returns it with its token (not stored).
pub(super) fn add(c: &mut Client, new: &NewAccount) -> Result<(Account, String), StoreError> {
    let token = new_token()?;
    let mut tx = c.transaction().map_err(pg_error)?;
    let exists = tx
        .query_opt("SELECT 1 FROM account WHERE name = $1", &[&new.name])
        .map_err(pg_error)?;
    if exists.is_some() {
        return Err(StoreError::DuplicateAccount(new.name.clone()));
    }
    let id: i64 = tx
        .query_one(
            "INSERT INTO account (name, role, team, token_sha256, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[
                &new.name,
                &new.role.as_str(),
                &new.team,
                &hash(&token),
                &Timestamp::now().to_string(),
            ],
        )
        .map_err(pg_error)?
        .get(0);
    for d in &new.subdistricts {
        tx.execute(
            "INSERT INTO assignment (account_id, subdistrict) VALUES ($1, $2)",
            &[&id, d],
        )
        .map_err(pg_error)?;
    }
    for s in &new.sites {
        tx.execute(
            "INSERT INTO assignment (account_id, site_id) VALUES ($1, $2)",
            &[&id, &s.as_str()],
        )
        .map_err(pg_error)?;
    }
    tx.commit().map_err(pg_error)?;
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

/// Every account, oldest first.
pub(super) fn list(c: &mut Client) -> Result<Vec<AccountEntry>, StoreError> {
    let rows = c
        .query(
            "SELECT id, created_at, revoked_at FROM account ORDER BY id",
            &[],
        )
        .map_err(pg_error)?;
    rows.iter()
        .map(|r| {
            Ok(AccountEntry {
                account: load(c, r.get(0))?,
                created_at: parse_time(r.get(1), "created_at")?,
                revoked_at: r
                    .get::<_, Option<String>>(2)
                    .map(|t| parse_time(t, "revoked_at"))
                    .transpose()?,
            })
        })
        .collect()
}

/// Revokes the token of the account with this name (or numeric id).
pub(super) fn revoke(c: &mut Client, name_or_id: &str) -> Result<Account, StoreError> {
    let mut tx = c.transaction().map_err(pg_error)?;
    let id: Option<i64> = tx
        .query_opt(
            "SELECT id FROM account WHERE name = $1 OR id::text = $1
             ORDER BY name = $1 DESC LIMIT 1",
            &[&name_or_id],
        )
        .map_err(pg_error)?
        .map(|r| r.get(0));
    let Some(id) = id else {
        return Err(StoreError::UnknownAccount(name_or_id.to_owned()));
    };
    tx.execute(
        "UPDATE account SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        &[&id, &Timestamp::now().to_string()],
    )
    .map_err(pg_error)?;
    let account = load(&mut tx, id)?;
    tx.commit().map_err(pg_error)?;
    Ok(account)
}
