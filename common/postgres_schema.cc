#include "common/postgres_schema.h"

#include <set>
#include <string>

namespace inventory {
namespace {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// Append only: a migration, once released, is never edited.
constexpr Migration kMigrations[] = {
    {1, "events and idempotency tables",
     R"sql(
CREATE TABLE events (
  -- Position in the global log. Assigned under the append lock, so it is
  -- gap-free and commits in increasing order (see postgres_event_store.h).
  global_position bigint      PRIMARY KEY CHECK (global_position > 0),
  stream_id       text        NOT NULL,
  stream_version  bigint      NOT NULL CHECK (stream_version > 0),
  event_id        uuid        NOT NULL UNIQUE,
  event_type      text        NOT NULL,
  payload         jsonb       NOT NULL,
  metadata        jsonb       NOT NULL DEFAULT '{}',
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  -- Optimistic concurrency, enforced by the database itself.
  CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);
COMMENT ON TABLE events IS
  'Append-only event log: the single source of truth of the inventory.';

-- One row per append that carried a request_id (idempotency key).
CREATE TABLE event_requests (
  request_id      text        PRIMARY KEY,
  stream_id       text        NOT NULL,
  fingerprint     text        NOT NULL,
  stream_version  bigint      NOT NULL,
  global_position bigint      NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);

-- Events are facts: refuse to change or delete them.
CREATE FUNCTION events_are_immutable() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only';
END $$;
CREATE TRIGGER events_append_only
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_are_immutable();
)sql"},
};

// Key of the advisory lock that serializes migrations across processes.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7349021)";

}  // namespace

int LatestSchemaVersion() {
  return kMigrations[std::size(kMigrations) - 1].version;
}

void MigrateSchema(pqxx::connection& connection) {
  pqxx::work tx(connection);
  tx.exec(kMigrationLock);
  tx.exec0(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version integer PRIMARY KEY,"
      " description text NOT NULL,"
      " applied_at timestamptz NOT NULL DEFAULT now())");
  std::set<int> applied;
  for (const pqxx::row& row :
       tx.exec("SELECT version FROM schema_migrations")) {
    applied.insert(row[0].as<int>());
  }
  for (const Migration& migration : kMigrations) {
    if (applied.count(migration.version) > 0) continue;
    tx.exec0(migration.sql);
    tx.exec_params0(
        "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)",
        migration.version, std::string(migration.description));
  }
  tx.commit();
}

}  // namespace inventory
