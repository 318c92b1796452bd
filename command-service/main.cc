// command-service: the write side of the inventory system, as a process.
//
// Validates commands, rebuilds items from their events, appends new events
// to PostgreSQL (or, without --database_url, to memory), and publishes the
// ordered event log as a gRPC server stream. Every flag falls back to an
// environment variable, for containers.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "command-service/server/command_server.h"
#include "common/base/connection_string_redaction.h"
#include "common/base/log.h"
#include "common/base/process_config.h"
#include "common/eventstore/in_memory_event_store.h"
#include "common/eventstore/postgres/postgres_event_store.h"
#include "common/rpc/security/security_config.h"
#include "common/rpc/server_flags.h"

using inventory::EnvOr;

ABSL_FLAG(std::string, listen, EnvOr("LISTEN_ADDR", "127.0.0.1:50051"),
          "Address to serve gRPC on, host:port [env LISTEN_ADDR]. Use "
          "0.0.0.0:50051 to accept connections from other hosts.");
// No default from the environment: --help prints defaults, and a URL may
// hold a password. main() reads DATABASE_URL when the flag is not given.
ABSL_FLAG(inventory::SecretFlag, database_url, inventory::SecretFlag(),
          "PostgreSQL URL, postgresql://user:password@host:port/database "
          "[env DATABASE_URL]. Empty: keep events in memory (lost on exit).");
ABSL_FLAG(int, pool_size, EnvOr("DATABASE_POOL_SIZE", int64_t{8}),
          "PostgreSQL connections for concurrent calls [env "
          "DATABASE_POOL_SIZE].");
ABSL_FLAG(int, append_batch_max, EnvOr("APPEND_BATCH_MAX", int64_t{256}),
          "Most concurrent appends written in one PostgreSQL transaction "
          "(group commit) [env APPEND_BATCH_MAX].");
ABSL_FLAG(int, item_cache_size, EnvOr("ITEM_CACHE_SIZE", int64_t{100000}),
          "Items whose state is kept in memory so a command need not read "
          "its item's events; 0 disables [env ITEM_CACHE_SIZE].");
ABSL_FLAG(absl::Duration, startup_timeout, absl::Seconds(60),
          "How long to keep trying to reach the database at start-up.");
ABSL_FLAG(int, max_subscribers, EnvOr("MAX_SUBSCRIBERS", int64_t{128}),
          "Event stream subscriptions open at once; one more is "
          "RESOURCE_EXHAUSTED. Keep it well below --max_threads [env "
          "MAX_SUBSCRIBERS].");
ABSL_FLAG(absl::Duration, command_timeout, absl::Seconds(10),
          "Longest a command waits for the database at each step: for a "
          "free connection (then UNAVAILABLE), to open one, and for one SQL "
          "statement (then DEADLINE_EXCEEDED, nothing written); and, when "
          "the database's answer to an append is lost, how long it keeps "
          "asking for the outcome (then UNAVAILABLE, OUTCOME_UNKNOWN). A "
          "connection silent for 1.5 times this (at least 2s more) counts "
          "as lost.");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(5),
          "Idle time after which a subscription gets a Heartbeat.");
ABSL_FLAG(int, live_buffer_events, 8192,
          "Recent events kept in memory for live subscribers; a subscriber "
          "further behind reads from the database.");

namespace {

std::unique_ptr<inventory::EventStore> OpenStore(const std::string& url,
                                                 int pool_size, int batch_max,
                                                 absl::Duration command_timeout,
                                                 absl::Duration shutdown_grace,
                                                 absl::Duration timeout) {
  if (url.empty()) {
    inventory::LogWarning(
        "NO DATABASE: --database_url / DATABASE_URL is not set, so events "
        "are kept in memory and LOST when this process exits");
    return std::make_unique<inventory::InMemoryEventStore>();
  }
  inventory::PostgresEventStoreOptions options;
  options.url = url;
  options.pool_size = pool_size;
  options.max_batch_requests = batch_max;
  options.acquire_timeout = command_timeout;
  options.statement_timeout = command_timeout;
  // A command whose answer from the database was lost keeps asking for its
  // outcome for as long as a command may take.
  options.outcome_recovery_timeout = command_timeout;
  options.stop_timeout = shutdown_grace;
  const absl::Time give_up = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(250);
  for (;;) {
    auto store = inventory::PostgresEventStore::Open(options);
    if (store.ok()) return std::move(*store);
    if (absl::Now() + backoff > give_up) {
      inventory::LogError("cannot open the event store: ",
                          store.status().ToString());
      return nullptr;
    }
    inventory::LogWarning("database not reachable yet (",
                          store.status().message(), "); retrying in ",
                          absl::FormatDuration(backoff));
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

}  // namespace

int main(int argc, char** argv) {
  inventory::BlockShutdownSignals();
  inventory::ParseFlags(
      argc, argv,
      "The write side of the inventory system: commands in, events out.\n"
      "Usage: command-service [--listen=127.0.0.1:50051] "
      "[--database_url=postgresql://...]");
  if (const std::optional<int> exit_code =
          inventory::HealthCheckIfAsked(absl::GetFlag(FLAGS_listen))) {
    return *exit_code;
  }
  const absl::StatusOr<inventory::SharedServerSettings> shared =
      inventory::SharedServerSettingsFromFlags();
  if (!shared.ok()) {
    inventory::LogError(shared.status().message());
    return 1;
  }

  const std::string url =
      inventory::FlagOrEnv(absl::GetFlag(FLAGS_database_url), "DATABASE_URL");
  std::unique_ptr<inventory::EventStore> store =
      OpenStore(url, absl::GetFlag(FLAGS_pool_size),
                absl::GetFlag(FLAGS_append_batch_max),
                absl::GetFlag(FLAGS_command_timeout), shared->shutdown_grace,
                absl::GetFlag(FLAGS_startup_timeout));
  if (store == nullptr) return 1;

  inventory::CommandServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  inventory::ApplyTo(*shared, &options);
  options.stream.max_subscribers = absl::GetFlag(FLAGS_max_subscribers);
  options.stream.max_subscribers_per_client = shared->max_streams_per_client;
  options.stream.write_timeout = shared->stream_write_timeout;
  options.handler.cache_capacity =
      static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_item_cache_size)));
  options.stream.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  options.live.capacity =
      static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_live_buffer_events)));
  auto server = inventory::CommandServer::Start(store.get(), options);
  if (!server.ok()) {
    inventory::LogError(server.status().message());
    return 1;
  }
  inventory::LogInfo(
      "command-service listening on ", options.listen, " (port ",
      (*server)->port(), "); store=",
      url.empty() ? "in-memory" : inventory::RedactConnectionString(url),
      " pool_size=", absl::GetFlag(FLAGS_pool_size),
      " append_batch_max=", absl::GetFlag(FLAGS_append_batch_max),
      " item_cache_size=", options.handler.cache_capacity,
      " max_message_bytes=", options.max_message_bytes,
      " max_concurrent_streams=", options.max_concurrent_streams,
      " max_threads=", options.max_threads,
      " max_subscribers=", options.stream.max_subscribers,
      " max_streams_per_client=", options.stream.max_subscribers_per_client,
      " stream_write_timeout=",
      absl::FormatDuration(options.stream.write_timeout), " command_timeout=",
      absl::FormatDuration(absl::GetFlag(FLAGS_command_timeout)),
      " heartbeat_interval=",
      absl::FormatDuration(options.stream.heartbeat_interval),
      " live_buffer_events=", options.live.capacity, " ",
      inventory::Describe(options.security));

  const int signal = inventory::WaitForShutdownSignal();
  inventory::LogInfo("signal ", signal, ": shutting down");
  // Subscriptions waiting for new events end now, not at their next wake.
  store->StopWaiting();
  (*server)->Shutdown(shared->shutdown_grace);
  server->reset();
  store.reset();
  inventory::LogInfo("command-service stopped");
  if (inventory::PostgresListenerLeftRunning()) {
    // Its listener is still opening a connection: skip the static
    // destructors it could race with.
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}
