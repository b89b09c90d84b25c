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
    // 2: the store becomes the system of record: every site's full feature (geometry and
    // properties), whether it is retired, every version of it, and what each change was.
    r#"
    ALTER TABLE site_state ADD COLUMN feature TEXT;
    ALTER TABLE site_state ADD COLUMN retired_at TEXT;

    CREATE TABLE site_version (
        site_id  TEXT NOT NULL REFERENCES site_state(site_id),
        version  INTEGER NOT NULL CHECK (version >= 1),
        at       TEXT NOT NULL,
        seq      INTEGER REFERENCES change(seq),
        retired  INTEGER NOT NULL CHECK (retired IN (0, 1)),
        feature  TEXT NOT NULL,
        PRIMARY KEY (site_id, version)
    ) STRICT;
    CREATE INDEX site_version_at ON site_version(at);

    ALTER TABLE change ADD COLUMN change_kind TEXT NOT NULL DEFAULT 'updated'
        CHECK (change_kind IN ('created','updated','retired','restored'));
    ALTER TABLE change ADD COLUMN bbox TEXT;
    ALTER TABLE change ADD COLUMN generation INTEGER;
    ALTER TABLE change ADD COLUMN geometry_changed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE change ADD COLUMN site_kind TEXT;

    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;
    "#,
    // 3: a client's idempotency key with the change it made, so a replay after a lost
    // response is answered with the original result instead of being applied again.
    r#"
    ALTER TABLE change ADD COLUMN idempotency_key TEXT;
    ALTER TABLE change ADD COLUMN idempotency_request TEXT;
    CREATE UNIQUE INDEX change_idempotency ON change(account_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    "#,
    // 4: field photos as evidence, in the store beside the history (one file to back up and
    // copy): the metadata-free image and its thumbnail as blobs, what the EXIF said, who
    // uploaded it and the change it is attached to; and on each change the photos it
    // attached and the device's position.
    r#"
    CREATE TABLE photo (
        id            TEXT PRIMARY KEY CHECK (length(id) = 64),
        site_id       TEXT NOT NULL REFERENCES site_state(site_id),
        content_type  TEXT NOT NULL CHECK (content_type IN ('image/jpeg','image/png','image/webp')),
        sent_type     TEXT,
        upload_bytes  INTEGER NOT NULL CHECK (upload_bytes > 0),
        width         INTEGER NOT NULL CHECK (width > 0),
        height        INTEGER NOT NULL CHECK (height > 0),
        taken_at      TEXT,
        lon           REAL,
        lat           REAL,
        uploaded_at   TEXT NOT NULL,
        account_id    INTEGER NOT NULL REFERENCES account(id),
        uploaded_by   TEXT NOT NULL,
        uploaded_role TEXT NOT NULL,
        change_seq    INTEGER REFERENCES change(seq),
        image         BLOB NOT NULL,
        thumbnail     BLOB NOT NULL,
        CHECK ((lon IS NULL) = (lat IS NULL))
    ) STRICT;
    CREATE INDEX photo_site ON photo(site_id);

    ALTER TABLE change ADD COLUMN photos TEXT;
    ALTER TABLE change ADD COLUMN position TEXT;
    "#,
];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;
