//! The store's schema as numbered migrations; `PRAGMA user_version` records how many ran.

/// Migration `i` (0-based) brings the schema from version `i` to `i + 1`. Append only: a
/// released migration is never edited.
pub const MIGRATIONS: &[&str] = &[
    // 1: current state of every site, accounts, assignments and the audit trail.
    r#"
    CREATE TABLE site_state (
        site_id        TEXT PRIMARY KEY,
        status         TEXT NOT NULL CHECK (status IN ('planned','design','tendering',
                           'under_construction','completed','accepted','suspended')),
        progress       INTEGER NOT NULL CHECK (progress BETWEEN 0 AND 100),
        note           TEXT,
        planned_start  TEXT NOT NULL,
        planned_finish TEXT NOT NULL,
        investment_wan REAL NOT NULL CHECK (investment_wan >= 0),
        version        INTEGER NOT NULL CHECK (version >= 1),
        updated_at     TEXT NOT NULL
    ) STRICT;

    CREATE TABLE account (
        id           INTEGER PRIMARY KEY,
        name         TEXT NOT NULL UNIQUE,
        role         TEXT NOT NULL CHECK (role IN ('field','planner','admin')),
        team         TEXT,
        token_sha256 TEXT NOT NULL UNIQUE,
        created_at   TEXT NOT NULL,
        revoked_at   TEXT
    ) STRICT;

    CREATE TABLE assignment (
        account_id  INTEGER NOT NULL REFERENCES account(id),
        subdistrict TEXT,
        site_id     TEXT REFERENCES site_state(site_id),
        CHECK ((subdistrict IS NULL) <> (site_id IS NULL))
    ) STRICT;
    CREATE INDEX assignment_account ON assignment(account_id);

    CREATE TABLE change (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        site_id       TEXT NOT NULL REFERENCES site_state(site_id),
        at            TEXT NOT NULL,
        account_id    INTEGER NOT NULL REFERENCES account(id),
        actor         TEXT NOT NULL,
        role          TEXT NOT NULL,
        from_status   TEXT NOT NULL,
        from_progress INTEGER NOT NULL,
        to_status     TEXT NOT NULL,
        to_progress   INTEGER NOT NULL,
        note          TEXT,
        reason        TEXT,
        plan          TEXT,
        version       INTEGER NOT NULL,
        UNIQUE (site_id, version)
    ) STRICT;
    "#,
];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;
