import GRDB

/// The server database's schema, as named migrations. A shipped migration is never edited:
/// new schema is a new migration.
enum ServerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("server-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;

                    -- head = the highest seq stored; changesets and ops are running totals kept in
                    -- the push transaction, so the summary never scans the log.
                    CREATE TABLE libraries (
                        name TEXT PRIMARY KEY NOT NULL,
                        created_at INTEGER NOT NULL,
                        head INTEGER NOT NULL DEFAULT 0,
                        changesets INTEGER NOT NULL DEFAULT 0,
                        ops INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;

                    -- Tokens are stored only as SHA-256 hex. replica is bound on the first push.
                    CREATE TABLE devices (
                        id TEXT PRIMARY KEY NOT NULL,
                        library TEXT NOT NULL REFERENCES libraries(name),
                        name TEXT NOT NULL,
                        token_hash TEXT NOT NULL UNIQUE,
                        read_only INTEGER NOT NULL,
                        replica TEXT,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    ) WITHOUT ROWID;
                    CREATE INDEX devices_replica ON devices(library, replica) WHERE replica IS NOT NULL;

                    -- Per (library, replica): every counter 1...acked is stored (always contiguous).
                    CREATE TABLE heads (
                        library TEXT NOT NULL REFERENCES libraries(name),
                        replica TEXT NOT NULL,
                        acked INTEGER NOT NULL,
                        PRIMARY KEY (library, replica)
                    ) WITHOUT ROWID;

                    -- The append-only log: gap-free seq per library, one frame per row.
                    CREATE TABLE changesets (
                        library TEXT NOT NULL REFERENCES libraries(name),
                        seq INTEGER NOT NULL,
                        replica TEXT NOT NULL,
                        first INTEGER NOT NULL,
                        last INTEGER NOT NULL,
                        op_count INTEGER NOT NULL,
                        device TEXT NOT NULL,
                        received_at INTEGER NOT NULL,
                        bytes BLOB NOT NULL,
                        PRIMARY KEY (library, seq)
                    );
                    """)
        }
        // The frame's format major version, so a pull can tell a client what it cannot read.
        migrator.registerMigration("server-v2-format") { db in
            try db.execute(sql: "ALTER TABLE changesets ADD COLUMN format INTEGER NOT NULL DEFAULT 1")
        }
        // A replay or an overlap is compared with the ops stored for its counters (equivocation):
        // find a replica's frames by counter without scanning the library's log.
        migrator.registerMigration("server-v3-replica-frames") { db in
            try db.execute(sql: "CREATE INDEX changesets_replica ON changesets(library, replica, last, first)")
        }
        return migrator
    }
}
