//! The PostgreSQL schema as numbered migrations, recorded in `schema_migrations` (one row per
//! migration that ran, in the same transaction as the migration).
//!
//! Tables keep what the SQLite store keeps, column for column where it can (timestamps as the
//! service's RFC 3339 text, so both stores hand back the same bytes), plus PostGIS geometry
//! (`geometry(Geometry, 4326)` with a GiST index) for GIS users. The views `sites`, `history`
//! and `accounts` are the readable face of the tables for QGIS and SQL users: typed
//! timestamps, one column per property that matters, no token hashes.

/// Migration `i` (0-based) is schema version `i + 1`. Append only: a released migration is
/// never edited. New `change` or `site_state` columns (photos, …) go in a new migration with
/// `ALTER TABLE … ADD COLUMN`.
pub const MIGRATIONS: &[&str] = &[
    // 1: sites with every version, accounts, assignments, the change feed, and the views.
    r#"
    CREATE EXTENSION IF NOT EXISTS postgis;

    CREATE TABLE meta (
        key   text PRIMARY KEY,
        value text NOT NULL
    );

    CREATE TABLE site_state (
        site_id    text PRIMARY KEY,
        added      bigserial UNIQUE,
        fid        bigint NOT NULL,
        kind       text NOT NULL,
        status     text NOT NULL CHECK (status IN ('planned','design','tendering',
                       'under_construction','completed','accepted','suspended')),
        progress   integer NOT NULL CHECK (progress BETWEEN 0 AND 100),
        version    bigint NOT NULL CHECK (version >= 1),
        updated_at text NOT NULL,
        retired_at text,
        feature    jsonb NOT NULL,
        geom       geometry(Geometry, 4326)
    );
    CREATE INDEX site_state_geom ON site_state USING gist (geom);

    -- Feature ids of new sites, shared by every instance; set past the seeded ones.
    CREATE SEQUENCE site_fid;

    CREATE TABLE account (
        id           bigserial PRIMARY KEY,
        name         text NOT NULL UNIQUE,
        role         text NOT NULL CHECK (role IN ('field','planner','admin')),
        team         text,
        token_sha256 text NOT NULL UNIQUE,
        created_at   text NOT NULL,
        revoked_at   text
    );

    CREATE TABLE assignment (
        id          bigserial PRIMARY KEY,
        account_id  bigint NOT NULL REFERENCES account(id),
        subdistrict text,
        site_id     text REFERENCES site_state(site_id),
        CHECK ((subdistrict IS NULL) <> (site_id IS NULL))
    );
    CREATE INDEX assignment_account ON assignment(account_id);

    -- seq is given out gapless and in commit order (max + 1 under one advisory lock), so an
    -- instance that has applied seq n knows the next change is n + 1.
    CREATE TABLE change (
        seq                 bigint PRIMARY KEY CHECK (seq >= 1),
        site_id             text NOT NULL REFERENCES site_state(site_id),
        at                  text NOT NULL,
        account_id          bigint NOT NULL REFERENCES account(id),
        actor               text NOT NULL,
        role                text NOT NULL,
        from_status         text NOT NULL,
        from_progress       integer NOT NULL,
        to_status           text NOT NULL,
        to_progress         integer NOT NULL,
        note                text,
        reason              text,
        plan                text,
        version             bigint NOT NULL,
        change_kind         text NOT NULL CHECK (change_kind IN ('created','updated','retired','restored')),
        bbox                text,
        generation          bigint,
        geometry_changed    boolean NOT NULL DEFAULT false,
        site_kind           text,
        idempotency_key     text,
        idempotency_request text,
        UNIQUE (site_id, version)
    );
    CREATE UNIQUE INDEX change_idempotency ON change(account_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL;

    CREATE TABLE site_version (
        site_id text NOT NULL REFERENCES site_state(site_id),
        version bigint NOT NULL CHECK (version >= 1),
        at      text NOT NULL,
        seq     bigint REFERENCES change(seq),
        retired boolean NOT NULL,
        feature jsonb NOT NULL,
        geom    geometry(Geometry, 4326),
        PRIMARY KEY (site_id, version)
    );
    CREATE INDEX site_version_at ON site_version(at);
    CREATE INDEX site_version_geom ON site_version USING gist (geom);

    CREATE VIEW sites AS
    SELECT s.site_id, s.fid, s.kind,
           s.feature -> 'properties' ->> 'name' AS name,
           s.feature -> 'properties' ->> 'subdistrict' AS subdistrict,
           s.status, s.progress,
           (s.feature -> 'properties' ->> 'investment_wan')::double precision AS investment_wan,
           s.feature -> 'properties' ->> 'planned_finish' AS planned_finish,
           s.version, s.updated_at::timestamptz AS updated_at, s.geom
    FROM site_state s
    WHERE s.retired_at IS NULL;

    CREATE VIEW history AS
    SELECT c.seq, c.site_id, c.at::timestamptz AS at, c.actor, c.role, c.change_kind,
           c.from_status, c.from_progress, c.to_status, c.to_progress, c.note, c.reason,
           c.version, v.geom
    FROM change c
    JOIN site_version v ON v.site_id = c.site_id AND v.version = c.version;

    CREATE VIEW accounts AS
    SELECT id, name, role, team, created_at::timestamptz AS created_at,
           revoked_at::timestamptz AS revoked_at
    FROM account;
    "#,
    // 2: what a field update carried besides its fields (issue 13): the ids of the photos it
    // attached (JSON array; the photos themselves from migration 3 on) and
    // the device's position (JSON object).
    r#"
    ALTER TABLE change ADD COLUMN photos text;
    ALTER TABLE change ADD COLUMN position text;
    "#,
    // 3: field photos (the SQLite store's migration 4): the metadata-free image and its
    // thumbnail as bytea, what the EXIF said (also as a point for GIS users), who uploaded
    // it and the change it is attached to; `added` keeps the upload order. The view `photos`
    // is their readable face, without the bytes.
    r#"
    CREATE TABLE photo (
        id            text PRIMARY KEY CHECK (length(id) = 64),
        added         bigserial UNIQUE,
        site_id       text NOT NULL REFERENCES site_state(site_id),
        content_type  text NOT NULL CHECK (content_type IN ('image/jpeg','image/png','image/webp')),
        sent_type     text,
        upload_bytes  bigint NOT NULL CHECK (upload_bytes > 0),
        width         integer NOT NULL CHECK (width > 0),
        height        integer NOT NULL CHECK (height > 0),
        taken_at      text,
        lon           double precision,
        lat           double precision,
        uploaded_at   text NOT NULL,
        account_id    bigint NOT NULL REFERENCES account(id),
        uploaded_by   text NOT NULL,
        uploaded_role text NOT NULL,
        change_seq    bigint REFERENCES change(seq),
        image         bytea NOT NULL,
        thumbnail     bytea NOT NULL,
        geom          geometry(Point, 4326) GENERATED ALWAYS AS (
                          CASE WHEN lon IS NULL THEN NULL
                               ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END) STORED,
        CHECK ((lon IS NULL) = (lat IS NULL))
    );
    CREATE INDEX photo_site ON photo(site_id);
    CREATE INDEX photo_geom ON photo USING gist (geom);

    CREATE VIEW photos AS
    SELECT id, site_id, content_type, width, height, length(image) AS bytes,
           taken_at::timestamptz AS taken_at, uploaded_at::timestamptz AS uploaded_at,
           uploaded_by, uploaded_role, change_seq, geom
    FROM photo;
    "#,
];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// The advisory lock key every commit takes (`pg_advisory_xact_lock`), so changes get their
/// seq in commit order: `'renewal-map'` as bytes, folded into an `i64`.
pub const COMMIT_LOCK: i64 = 0x7265_6e65_7761_6c6d;

/// The advisory lock key migrations and seeding take, so two instances starting at once do
/// not both create the schema.
pub const SETUP_LOCK: i64 = 0x7265_6e65_7761_6c73;

/// The `LISTEN`/`NOTIFY` channel: each commit sends its seq.
pub const CHANNEL: &str = "renewal_map_changes";
