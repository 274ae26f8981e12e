//! The contact cache's schema and its forward migrations (applied by `store::open`).

/// The version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Migration `i` takes the database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: certificates, the addresses they hold, contacts and their history.
    r#"
    CREATE TABLE certificates (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL UNIQUE,
        der BLOB NOT NULL,
        subject TEXT NOT NULL,
        issuer TEXT NOT NULL,
        serial TEXT NOT NULL,
        subject_key_id TEXT,
        not_before INTEGER NOT NULL,
        not_after INTEGER NOT NULL,
        is_ca INTEGER NOT NULL DEFAULT 0,
        can_encrypt INTEGER NOT NULL DEFAULT 0,
        trusted INTEGER NOT NULL DEFAULT 0,
        revoked INTEGER NOT NULL DEFAULT 0,
        source TEXT NOT NULL,
        capabilities TEXT,
        key_preference TEXT,
        signing_time INTEGER,
        message_date INTEGER,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
    );
    CREATE INDEX certificates_issuer_serial ON certificates(issuer, serial);
    CREATE INDEX certificates_subject_key_id ON certificates(subject_key_id);
    CREATE TABLE addresses (
        address TEXT NOT NULL,
        certificate_id INTEGER NOT NULL REFERENCES certificates(id) ON DELETE CASCADE,
        PRIMARY KEY (address, certificate_id)
    ) WITHOUT ROWID;
    CREATE INDEX addresses_certificate ON addresses(certificate_id);
    CREATE TABLE contacts (
        address TEXT PRIMARY KEY,
        name TEXT,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE history (
        id INTEGER PRIMARY KEY,
        address TEXT NOT NULL,
        at INTEGER NOT NULL,
        event TEXT NOT NULL,
        fingerprint TEXT,
        previous_fingerprint TEXT,
        source TEXT
    );
    CREATE INDEX history_address ON history(address, at);
    "#,
    // 1 -> 2: the public key's own fingerprint, so a re-issued certificate for the same key is
    // not mistaken for a key change (backfilled from the stored certificates by the caller); and
    // an index of the few CA certificates, which every verification loads.
    r#"
    ALTER TABLE certificates ADD COLUMN key_sha256 TEXT;
    CREATE INDEX certificates_key ON certificates(key_sha256);
    CREATE INDEX certificates_ca ON certificates(is_ca) WHERE is_ca = 1;
    "#,
    // 2 -> 3: addresses keyed exactly (the local part as written; only addresses that count),
    // recomputed from the stored certificates by the caller; each certificate's standing per
    // address (accepted, pending, confirmed, refused) and when it was accepted; whether a newly
    // seen certificate was trusted, and the user's note on a decision, in the history. For CA
    // certificates `trusted` now means "reached a trust anchor"; older rows start as not.
    r#"
    ALTER TABLE addresses ADD COLUMN status TEXT NOT NULL DEFAULT 'accepted';
    ALTER TABLE addresses ADD COLUMN accepted_at INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE history ADD COLUMN trusted INTEGER;
    ALTER TABLE history ADD COLUMN note TEXT;
    CREATE INDEX addresses_pending ON addresses(status) WHERE status = 'pending';
    "#,
];

/// The contact cache's schema for `store::open`.
pub const SCHEMA: crate::store::Schema = crate::store::Schema { migrations: MIGRATIONS, backfill: super::store::backfill };

/// The schema as it stood at `version`, for migration tests.
pub fn create_at_version(conn: &mut rusqlite::Connection, version: i64) -> rusqlite::Result<()> {
    crate::store::create_at_version(conn, &SCHEMA, version)
}
