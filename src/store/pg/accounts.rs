//! Accounts and bearer tokens in PostgreSQL: the same rules as the SQLite store's
//! ([`crate::store::TOKEN_PREFIX`], only the SHA-256 kept).

use postgres::{Client, GenericClient, ToStatement};

use super::{Session, pg_error};
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

/// A live account with its assignments in one row, by id (`$1`): one round trip where the
/// account and its assignment rows would take two.
pub(super) const LIVE_BY_ID: &str = "SELECT a.id, a.name, a.role, a.team,
        coalesce(array_agg(s.subdistrict ORDER BY s.id) FILTER (WHERE s.subdistrict IS NOT NULL), '{}'),
        coalesce(array_agg(s.site_id ORDER BY s.id) FILTER (WHERE s.site_id IS NOT NULL), '{}')
    FROM account a LEFT JOIN assignment s ON s.account_id = a.id
    WHERE a.id = $1 AND a.revoked_at IS NULL
    GROUP BY a.id";

/// The same by token hash (`$1`).
const LIVE_BY_TOKEN: &str = "SELECT a.id, a.name, a.role, a.team,
        coalesce(array_agg(s.subdistrict ORDER BY s.id) FILTER (WHERE s.subdistrict IS NOT NULL), '{}'),
        coalesce(array_agg(s.site_id ORDER BY s.id) FILTER (WHERE s.site_id IS NOT NULL), '{}')
    FROM account a LEFT JOIN assignment s ON s.account_id = a.id
    WHERE a.token_sha256 = $1 AND a.revoked_at IS NULL
    GROUP BY a.id";

fn live_account(row: &postgres::Row) -> Result<Account, StoreError> {
    let role: String = row.get(2);
    Ok(Account {
        id: row.get(0),
        name: row.get(1),
        role: role.parse().map_err(|_| StoreError::BadValue {
            what: "role",
            value: role.clone(),
        })?,
        team: row.get(3),
        subdistricts: row.get(4),
        sites: row
            .get::<_, Vec<String>>(5)
            .into_iter()
            .map(SiteId)
            .collect(),
    })
}

/// The account with this id if it exists and its token is not revoked (inside a commit);
/// `query` is [`LIVE_BY_ID`], as text or prepared.
pub(super) fn load_live(
    c: &mut impl GenericClient,
    query: &(impl ToStatement + ?Sized),
    id: i64,
) -> Result<Option<Account>, StoreError> {
    c.query_opt(query, &[&id])
        .map_err(pg_error)?
        .map(|r| live_account(&r))
        .transpose()
}

/// The live account holding `token`, if any.
pub(super) fn authenticate(c: &mut Session, token: &str) -> Result<Option<Account>, StoreError> {
    if !token_looks_valid(token) {
        return Ok(None);
    }
    let query = c.prepared(LIVE_BY_TOKEN)?;
    c.query_opt(&query, &[&hash(token)])
        .map_err(pg_error)?
        .map(|r| live_account(&r))
        .transpose()
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
