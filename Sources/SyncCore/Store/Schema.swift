import Foundation
import GRDB
import SyncModel
import SyncWire

/// The store's schema, as named migrations. A shipped migration is never edited: new schema is a
/// new migration.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;

                    -- The op log: the source of truth. Everything below it is rebuilt from it.
                    CREATE TABLE ops (
                        replica BLOB NOT NULL,
                        counter INTEGER NOT NULL,
                        hlc INTEGER NOT NULL,
                        article TEXT,
                        body BLOB NOT NULL,
                        PRIMARY KEY (replica, counter)
                    ) WITHOUT ROWID;
                    CREATE INDEX ops_article ON ops(article) WHERE article IS NOT NULL;

                    -- Per replica: every op 1...contiguous is present (the version vector).
                    CREATE TABLE replicas (
                        replica BLOB PRIMARY KEY NOT NULL,
                        contiguous INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;

                    -- Merge state: the versions of every last-writer-wins field (see LWWRegister).
                    CREATE TABLE registers (
                        kind INTEGER NOT NULL,
                        entity TEXT NOT NULL,
                        field TEXT NOT NULL,
                        replica BLOB NOT NULL,
                        counter INTEGER NOT NULL,
                        parent TEXT NOT NULL DEFAULT '',
                        hlc INTEGER,
                        vtype INTEGER,
                        value,
                        dominated INTEGER NOT NULL,
                        PRIMARY KEY (kind, entity, field, replica, counter)
                    ) WITHOUT ROWID;

                    -- Merge state: the adds and removes of every add-wins set (see AddWinsSet).
                    CREATE TABLE set_entries (
                        kind INTEGER NOT NULL,
                        entity TEXT NOT NULL,
                        name TEXT NOT NULL,
                        replica BLOB NOT NULL,
                        counter INTEGER NOT NULL,
                        element TEXT NOT NULL,
                        added INTEGER NOT NULL,
                        removed INTEGER NOT NULL,
                        PRIMARY KEY (kind, entity, name, replica, counter)
                    ) WITHOUT ROWID;

                    -- Materialized state, derived from the merge state.
                    CREATE TABLE articles (
                        rowid INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        url TEXT, title TEXT NOT NULL DEFAULT '', summary TEXT NOT NULL DEFAULT '',
                        body TEXT NOT NULL DEFAULT '', byline TEXT, source TEXT, published_at TEXT,
                        language TEXT, captured_at INTEGER, captured_by TEXT,
                        read INTEGER NOT NULL DEFAULT 0, starred INTEGER NOT NULL DEFAULT 0,
                        trashed INTEGER NOT NULL DEFAULT 0,
                        trash_conflict TEXT
                    );
                    CREATE TABLE tags (
                        article TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (article, tag)
                    ) WITHOUT ROWID;
                    CREATE INDEX tags_tag ON tags(tag);
                    CREATE TABLE collections (
                        id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL DEFAULT '',
                        description TEXT, parent TEXT, trashed INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    CREATE TABLE memberships (
                        collection TEXT NOT NULL, article TEXT NOT NULL, PRIMARY KEY (collection, article)
                    ) WITHOUT ROWID;
                    CREATE INDEX memberships_article ON memberships(article);
                    CREATE TABLE annotations (
                        id TEXT PRIMARY KEY NOT NULL, article TEXT NOT NULL, kind TEXT,
                        start INTEGER, "end" INTEGER, exact TEXT, prefix TEXT, suffix TEXT,
                        note TEXT, color TEXT, author TEXT, created_at INTEGER,
                        removed INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    CREATE INDEX annotations_article ON annotations(article);
                    """)
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE articles_fts USING fts5(
                        title, summary, body, content='articles', content_rowid='rowid',
                        tokenize='\(SearchIndex.tokenizeClause)');
                    CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
                        INSERT INTO articles_fts(rowid, title, summary, body)
                        VALUES (new.rowid, new.title, new.summary, new.body);
                    END;
                    CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
                        INSERT INTO articles_fts(articles_fts, rowid, title, summary, body)
                        VALUES ('delete', old.rowid, old.title, old.summary, old.body);
                    END;
                    CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, summary, body ON articles
                    WHEN old.title IS NOT new.title OR old.summary IS NOT new.summary OR old.body IS NOT new.body BEGIN
                        INSERT INTO articles_fts(articles_fts, rowid, title, summary, body)
                        VALUES ('delete', old.rowid, old.title, old.summary, old.body);
                        INSERT INTO articles_fts(rowid, title, summary, body)
                        VALUES (new.rowid, new.title, new.summary, new.body);
                    END;
                    """)
        }
        // The sync client's state as one typed row instead of `sync.*` / `remote.*` meta strings.
        migrator.registerMigration("v2-sync-state") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sync_state (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        remote_url TEXT, remote_library TEXT, remote_insecure INTEGER NOT NULL DEFAULT 0,
                        cursor INTEGER NOT NULL DEFAULT 0, epoch TEXT, acked INTEGER NOT NULL DEFAULT 0,
                        acked_at INTEGER, last_success_at INTEGER, last_error_at INTEGER, last_error TEXT
                    );
                    INSERT INTO sync_state (id, remote_url, remote_library, remote_insecure, cursor, epoch, acked,
                                            acked_at, last_success_at, last_error_at, last_error)
                    SELECT 1,
                        (SELECT value FROM meta WHERE key = 'remote.url'),
                        (SELECT value FROM meta WHERE key = 'remote.library'),
                        coalesce((SELECT value = '1' FROM meta WHERE key = 'remote.insecure'), 0),
                        coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync.cursor'), 0),
                        (SELECT value FROM meta WHERE key = 'sync.epoch'),
                        coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync.acked'), 0),
                        (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync.acked_at'),
                        (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync.last_success'),
                        (SELECT CAST(substr(value, 1, instr(value, ' ') - 1) AS INTEGER) FROM meta WHERE key = 'sync.last_error'),
                        (SELECT substr(value, instr(value, ' ') + 1) FROM meta WHERE key = 'sync.last_error');
                    DELETE FROM meta WHERE key LIKE 'sync.%' OR key LIKE 'remote.%';
                    """)
        }
        // Format 2 op bodies: every op carries its envelope (entity, owning article, whether it
        // counts as work). Format-1 bodies are rewritten once; `work` lets rule 3 find the work on
        // an article with an index instead of decoding every op filed under it.
        migrator.registerMigration("v3-op-envelope") { db in
            try db.execute(sql: "ALTER TABLE ops ADD COLUMN work INTEGER NOT NULL DEFAULT 0")
            let update = try db.makeStatement(sql: "UPDATE ops SET body = ?, article = ?, work = ? WHERE replica = ? AND counter = ?")
            // In key order, a batch at a time: a large log is never all in memory.
            var after: (replica: Data, counter: Int64) = (Data(), -1)
            while true {
                let batch = try Row.fetchAll(
                    db, sql: "SELECT replica, counter, hlc, body FROM ops WHERE (replica, counter) > (?, ?) ORDER BY replica, counter LIMIT 5000",
                    arguments: [after.replica, after.counter])
                guard let last = batch.last else { break }
                for row in batch {
                    var reader = ByteReader(Array(row["body"] as Data))
                    let op = Op(
                        id: OpID(replica: ReplicaID(bytes: Array(row["replica"] as Data))!, counter: UInt64(row["counter"] as Int64)),
                        hlc: HLC(raw: UInt64(bitPattern: row["hlc"] as Int64)),
                        decoded: try OpCodec.decodeBody(&reader, format: 1))
                    try update.execute(arguments: [
                        Data(OpCodec.encodeBody(op)), op.entity.articleID, op.countsAsWork,
                        row["replica"], row["counter"],
                    ])
                }
                after = (last["replica"], last["counter"])
            }
        }
        // Search v4: one contentless FTS5 row per field instead of one external-content row per
        // article, so a title edit no longer re-tokenizes the body (SearchIndex). Needs SQLite 3.40.
        migrator.registerMigration("v4-search-per-field") { db in
            for name in ["insert", "delete", "update"] { try db.execute(sql: "DROP TRIGGER IF EXISTS articles_fts_\(name)") }
            try db.execute(sql: "DROP TABLE IF EXISTS articles_fts")
            try db.execute(sql: SearchIndex.v4Table)
            // Trashed articles are few: the search excludes them through this index, without
            // reading article rows (whose bodies sit in overflow pages before `trashed`).
            try db.execute(sql: "CREATE INDEX articles_trashed ON articles(trashed) WHERE trashed <> 0")
            try SearchIndex.rebuild(db)
        }
        // Text that merges character by character: one state row per text field (TextStates), and
        // highlights bound to characters. A wave-1 body needs nothing here: it is its register's
        // value, and the first character edit starts the text from it (TextGenesis).
        migrator.registerMigration("v5-text") { db in
            try db.execute(
                sql: """
                    CREATE TABLE text_states (
                        kind INTEGER NOT NULL,
                        entity TEXT NOT NULL,
                        field TEXT NOT NULL,
                        parent TEXT NOT NULL DEFAULT '',
                        hlc INTEGER NOT NULL,
                        state BLOB NOT NULL,
                        pending BLOB,
                        PRIMARY KEY (kind, entity, field)
                    ) WITHOUT ROWID;
                    ALTER TABLE annotations ADD COLUMN anchor TEXT;
                    ALTER TABLE annotations ADD COLUMN detached INTEGER NOT NULL DEFAULT 0;
                    """)
            // A store of the version before kept and relayed text ops without applying them:
            // if its log holds any, its bodies and notes are re-derived now, from the log.
            let rows = try Row.fetchCursor(db, sql: "SELECT body FROM ops WHERE work = 1")
            while let row = try rows.next() {
                guard case .text = try OpCodec.decodeBody(Array(row["body"] as Data)).body else { continue }
                try Store.rebuildDerived(db)
                break
            }
        }
        return migrator
    }

    /// Tables derived from the op log, in dependency order; emptied by a rebuild.
    static let derivedTables = [
        "registers", "set_entries", "text_states", "tags", "memberships", "annotations", "collections", "articles",
    ]
}
