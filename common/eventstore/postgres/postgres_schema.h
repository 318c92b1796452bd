// The PostgreSQL schema of the event store and its versioned migrations.
// Internal to the PostgreSQL adapter.
#ifndef INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_SCHEMA_H_
#define INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_SCHEMA_H_

#include <pqxx/pqxx>

#include "absl/status/status.h"

namespace inventory {

// Brings the schema up to date in one transaction: applies, in order, every
// migration not yet listed in schema_migrations. Idempotent. Safe when
// several processes start at once: they take turns on an advisory lock,
// and each one after the first finds nothing left to do.
// Throws pqxx exceptions (the caller translates them).
void MigrateSchema(pqxx::connection& connection);

// The number of the newest migration this code knows.
int LatestSchemaVersion();

}  // namespace inventory

#endif  // INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_SCHEMA_H_
