import GRDB
import SyncCore

/// The store's named migrations, and the installation of declared collections.
enum StoreMigrations {
    static func migrator(replicaID: @escaping @Sendable () -> ReplicaID) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-sync-metadata") { db in
            try db.execute(
                sql: """
                    CREATE TABLE _sync_meta (
                        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                        replica_id TEXT NOT NULL,
                        counter INTEGER NOT NULL CHECK (counter >= 0),
                        hlc INTEGER NOT NULL CHECK (hlc >= 0),
                        seq INTEGER NOT NULL CHECK (seq >= 0)
                    );
                    CREATE TABLE _sync_collections (
                        name TEXT PRIMARY KEY,
                        definition TEXT NOT NULL
                    );
                    CREATE TABLE _sync_tombstones (
                        seq INTEGER PRIMARY KEY,
                        collection TEXT NOT NULL,
                        key TEXT NOT NULL,
                        state BLOB NOT NULL,
                        UNIQUE (collection, key)
                    );
                    CREATE TABLE _sync_conflicts (
                        collection TEXT NOT NULL,
                        key TEXT NOT NULL,
                        PRIMARY KEY (collection, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE _sync_cursors (
                        name TEXT PRIMARY KEY,
                        value INTEGER NOT NULL CHECK (value >= 0)
                    ) WITHOUT ROWID;
                    """)
            try db.execute(
                sql: "INSERT INTO _sync_meta (singleton, replica_id, counter, hlc, seq) VALUES (1, ?, 0, 0, 0)",
                arguments: [replicaID().rawValue])
        }
        migrator.registerMigration("v2-sync-peers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE _sync_epochs (
                        epoch TEXT PRIMARY KEY,
                        start_seq INTEGER NOT NULL CHECK (start_seq >= 0),
                        started_at INTEGER NOT NULL
                    );
                    CREATE TABLE _sync_clashed_replicas (
                        replica TEXT PRIMARY KEY
                    ) WITHOUT ROWID;
                    CREATE TABLE _sync_replica_owners (
                        replica TEXT PRIMARY KEY,
                        owner TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE _sync_dots (
                        replica TEXT NOT NULL,
                        counter INTEGER NOT NULL,
                        collection TEXT NOT NULL,
                        key TEXT NOT NULL,
                        PRIMARY KEY (replica, counter)
                    ) WITHOUT ROWID;
                    CREATE TABLE _sync_settings (
                        name TEXT PRIMARY KEY,
                        value TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE _sync_refusals (
                        collection TEXT NOT NULL,
                        key TEXT NOT NULL,
                        code TEXT NOT NULL,
                        message TEXT NOT NULL,
                        PRIMARY KEY (collection, key)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v3-sync-lineages") { db in
            // A device's lineage log: a random token per write transaction, with the counter
            // it ended at. A daemon's record of each replica's recent entries, oldest first.
            try db.execute(
                sql: """
                    CREATE TABLE _sync_lineage_log (
                        counter INTEGER PRIMARY KEY,
                        token TEXT NOT NULL
                    );
                    CREATE TABLE _sync_lineages (
                        replica TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        token TEXT NOT NULL,
                        counter INTEGER NOT NULL,
                        PRIMARY KEY (replica, position)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v4-sync-renamings") { db in
            // Renamings known here: this store's own (`own`, from `rekey`) and those other
            // copies made, learned from the daemon, so writes taken in before a copy moved
            // them move too.
            try db.execute(
                sql: """
                    CREATE TABLE _sync_renamings (
                        new TEXT PRIMARY KEY,
                        old TEXT NOT NULL,
                        after INTEGER NOT NULL CHECK (after >= 0),
                        through INTEGER,
                        own INTEGER NOT NULL DEFAULT 0
                    );
                    """)
        }
        migrator.registerMigration("v5-sync-fresh-arrivals") { db in
            // A daemon's note of where each write its author sent for the first time arrived
            // (the sequence number before it), of the first counter of a replica caught
            // clashing, and of how far into its history each replica has surely read.
            try db.execute(
                sql: """
                    ALTER TABLE _sync_dots ADD COLUMN fresh_after INTEGER;
                    ALTER TABLE _sync_clashed_replicas ADD COLUMN counter INTEGER;
                    CREATE TABLE _sync_seen (
                        replica TEXT PRIMARY KEY,
                        seq INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v6-sync-dot-timestamps") { db in
            // The timestamp each registered write was made at: one write has one, so a dot met
            // again with another is a copy's write, even where no record still holds the first.
            try db.execute(sql: "ALTER TABLE _sync_dots ADD COLUMN timestamp INTEGER")
        }
        migrator.registerMigration("v7-sync-clock-offset") { db in
            // How far the daemon's clock is from this device's, in ms: the hybrid clock reads
            // the wall clock plus this, so a device whose clock is off stamps by the daemon's.
            try db.execute(
                sql: """
                    ALTER TABLE _sync_meta ADD COLUMN clock_offset INTEGER NOT NULL DEFAULT 0
                        CHECK (abs(clock_offset) <= 140737488355327)
                    """)
        }
        return migrator
    }

    /// Creates the tables of new collections and adds columns for newly declared fields.
    /// A field whose type changed is refused: the file was made for another declaration.
    static func install(_ tables: [CollectionTable], in db: Database) throws {
        for table in tables {
            let stored = try String.fetchOne(
                db, sql: "SELECT definition FROM _sync_collections WHERE name = ?", arguments: [table.name])
            if stored == nil {
                try db.execute(sql: table.createTableSQL)
            } else if stored != table.definition {
                let existing = try db.columns(in: table.name)
                for field in table.schema.fields {
                    if let column = existing.first(where: { $0.name == field.name }) {
                        guard column.type.uppercased() == field.type.sqlType else {
                            throw StoreError(
                                .schemaMismatch,
                                "\(table.name).\(field.name) is stored as \(column.type) but declared \(field.type.sqlType)"
                            )
                        }
                    } else {
                        try db.execute(sql: table.addColumnSQL(field))
                    }
                }
            }
            for index in table.schema.indexes {
                try db.execute(sql: table.createIndexSQL(index))
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO _sync_collections (name, definition) VALUES (?, ?)",
                arguments: [table.name, table.definition])
        }
    }
}
