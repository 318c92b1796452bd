#include "common/eventstore/postgres/postgres_schema.h"

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
    {2, "append_events(): one round trip per batch of appends (group commit)",
     R"sql(
-- Appends a batch of requests in one statement, so a group of concurrent
-- commands costs one round trip and one commit. Request r has
-- p_counts[r] events, stored consecutively in the per-event arrays.
-- Each request keeps its own outcome, one row per request in order:
--   'appended'  o_version / o_position of its last event;
--   'replayed'  its request_id was recorded with the same fingerprint:
--               the original version and position, nothing appended;
--   'reused'    its request_id was recorded with another fingerprint;
--   'conflict'  p_expected[r] (-1 = any) differs from the stream's
--               version, which o_version holds; nothing appended.
-- A request sees the appends of the requests before it in the batch.
CREATE FUNCTION append_events(
    p_streams text[], p_expected bigint[], p_request_ids text[],
    p_fingerprints text[], p_counts integer[], p_types text[],
    p_payloads text[], p_causation_ids text[], p_correlation_ids text[],
    p_event_request_ids text[])
  RETURNS TABLE (o_outcome text, o_version bigint, o_position bigint)
  LANGUAGE plpgsql AS $$
DECLARE
  head bigint;
  current_version bigint;
  first_event integer := 1;
  appended boolean := false;
  recorded record;
BEGIN
  -- The append lock of postgres_event_store.h: positions are assigned and
  -- committed in one order across every process.
  PERFORM pg_advisory_xact_lock(7349022);
  SELECT coalesce(max(e.global_position), 0) INTO head FROM events e;
  FOR r IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
    o_outcome := NULL;
    IF p_request_ids[r] <> '' THEN
      SELECT q.fingerprint, q.stream_version, q.global_position
        INTO recorded FROM event_requests q
        WHERE q.request_id = p_request_ids[r];
      IF FOUND THEN
        o_outcome := CASE WHEN recorded.fingerprint = p_fingerprints[r]
                          THEN 'replayed' ELSE 'reused' END;
        o_version := recorded.stream_version;
        o_position := recorded.global_position;
      END IF;
    END IF;
    IF o_outcome IS NULL THEN
      SELECT coalesce(max(e.stream_version), 0) INTO current_version
        FROM events e WHERE e.stream_id = p_streams[r];
      IF p_expected[r] >= 0 AND p_expected[r] <> current_version THEN
        o_outcome := 'conflict';
        o_version := current_version;
        o_position := 0;
      ELSE
        FOR k IN first_event .. first_event + p_counts[r] - 1 LOOP
          head := head + 1;
          current_version := current_version + 1;
          INSERT INTO events (global_position, stream_id, stream_version,
                              event_id, event_type, payload, metadata)
          VALUES (head, p_streams[r], current_version, gen_random_uuid(),
                  p_types[k], p_payloads[k]::jsonb,
                  jsonb_build_object('request_id', p_event_request_ids[k],
                                     'correlation_id', p_correlation_ids[k],
                                     'causation_id', p_causation_ids[k]));
        END LOOP;
        IF p_request_ids[r] <> '' THEN
          INSERT INTO event_requests (request_id, stream_id, fingerprint,
                                      stream_version, global_position)
          VALUES (p_request_ids[r], p_streams[r], p_fingerprints[r],
                  current_version, head);
        END IF;
        appended := true;
        o_outcome := 'appended';
        o_version := current_version;
        o_position := head;
      END IF;
    END IF;
    first_event := first_event + p_counts[r];
    RETURN NEXT;
  END LOOP;
  IF appended THEN
    PERFORM pg_notify('inventory_events', head::text);
  END IF;
END $$;
)sql"},
    {3,
     "append_events() with event ids chosen by the caller, so a retried "
     "batch recognises its own commit; TRUNCATE of events refused",
     R"sql(
-- Events are facts: TRUNCATE is refused like UPDATE and DELETE (a row
-- trigger does not see it, so this one fires once per statement).
CREATE TRIGGER events_no_truncate
  BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();

-- append_events() of migration 2 with one more argument: the event ids,
-- chosen by the caller before its first attempt (p_event_ids[k] belongs to
-- event k). When an answer is lost (the connection broke after the
-- statement may have committed), the caller sends the same batch again on
-- a new connection; a request whose last event id is already stored is its
-- own earlier commit and gets outcome
--   'recovered' o_version / o_position of its last event, as committed;
--               nothing appended.
-- The other outcomes are those of migration 2. The version of migration 2
-- stays for builds that still call it.
CREATE FUNCTION append_events(
    p_streams text[], p_expected bigint[], p_request_ids text[],
    p_fingerprints text[], p_counts integer[], p_event_ids uuid[],
    p_types text[], p_payloads text[], p_causation_ids text[],
    p_correlation_ids text[], p_event_request_ids text[])
  RETURNS TABLE (o_outcome text, o_version bigint, o_position bigint)
  LANGUAGE plpgsql AS $$
DECLARE
  head bigint;
  current_version bigint;
  first_event integer := 1;
  appended boolean := false;
  recorded record;
  last_id uuid;
BEGIN
  PERFORM pg_advisory_xact_lock(7349022);
  SELECT coalesce(max(e.global_position), 0) INTO head FROM events e;
  FOR r IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
    o_outcome := NULL;
    -- The events of a request commit together, so its last one tells.
    last_id := p_event_ids[first_event + p_counts[r] - 1];
    SELECT e.stream_id, e.stream_version, e.global_position INTO recorded
      FROM events e WHERE e.event_id = last_id;
    IF FOUND THEN
      IF recorded.stream_id <> p_streams[r] THEN
        RAISE EXCEPTION 'event id % is stored in another stream', last_id;
      END IF;
      o_outcome := 'recovered';
      o_version := recorded.stream_version;
      o_position := recorded.global_position;
    END IF;
    IF o_outcome IS NULL AND p_request_ids[r] <> '' THEN
      SELECT q.fingerprint, q.stream_version, q.global_position
        INTO recorded FROM event_requests q
        WHERE q.request_id = p_request_ids[r];
      IF FOUND THEN
        o_outcome := CASE WHEN recorded.fingerprint = p_fingerprints[r]
                          THEN 'replayed' ELSE 'reused' END;
        o_version := recorded.stream_version;
        o_position := recorded.global_position;
      END IF;
    END IF;
    IF o_outcome IS NULL THEN
      SELECT coalesce(max(e.stream_version), 0) INTO current_version
        FROM events e WHERE e.stream_id = p_streams[r];
      IF p_expected[r] >= 0 AND p_expected[r] <> current_version THEN
        o_outcome := 'conflict';
        o_version := current_version;
        o_position := 0;
      ELSE
        FOR k IN first_event .. first_event + p_counts[r] - 1 LOOP
          head := head + 1;
          current_version := current_version + 1;
          INSERT INTO events (global_position, stream_id, stream_version,
                              event_id, event_type, payload, metadata)
          VALUES (head, p_streams[r], current_version, p_event_ids[k],
                  p_types[k], p_payloads[k]::jsonb,
                  jsonb_build_object('request_id', p_event_request_ids[k],
                                     'correlation_id', p_correlation_ids[k],
                                     'causation_id', p_causation_ids[k]));
        END LOOP;
        IF p_request_ids[r] <> '' THEN
          INSERT INTO event_requests (request_id, stream_id, fingerprint,
                                      stream_version, global_position)
          VALUES (p_request_ids[r], p_streams[r], p_fingerprints[r],
                  current_version, head);
        END IF;
        appended := true;
        o_outcome := 'appended';
        o_version := current_version;
        o_position := head;
      END IF;
    END IF;
    first_event := first_event + p_counts[r];
    RETURN NEXT;
  END LOOP;
  IF appended THEN
    PERFORM pg_notify('inventory_events', head::text);
  END IF;
END $$;
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
  // A migration may rightly take longer than the statement timeout that
  // bounds commands (and waits for another process's migration).
  tx.exec0("SET LOCAL statement_timeout = 0");
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
