// query-service: the read side of the inventory system, as a process.
//
// Subscribes to the command-service's event stream, rebuilds its read
// models in memory from the whole log at every start, and answers queries,
// with read-your-writes through min_position. Every flag falls back to an
// environment variable, for containers.
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "common/base/log.h"
#include "common/base/process_config.h"
#include "common/rpc/security/security_config.h"
#include "common/rpc/server_flags.h"
#include "query-service/server/query_server.h"

using inventory::EnvOr;

ABSL_FLAG(std::string, listen, EnvOr("LISTEN_ADDR", "127.0.0.1:50052"),
          "Address to serve gRPC on, host:port [env LISTEN_ADDR]. Use "
          "0.0.0.0:50052 to accept connections from other hosts.");
ABSL_FLAG(std::string, command_service,
          EnvOr("COMMAND_SERVICE_ADDR", "127.0.0.1:50051"),
          "host:port of the command-service whose event stream feeds the "
          "read models [env COMMAND_SERVICE_ADDR].");
ABSL_FLAG(int, max_watchers, EnvOr("MAX_WATCHERS", int64_t{128}),
          "WatchItem streams open at once; one more is RESOURCE_EXHAUSTED "
          "[env MAX_WATCHERS].");
ABSL_FLAG(int, max_waiting_queries, EnvOr("MAX_WAITING_QUERIES", int64_t{128}),
          "Queries waiting for their min_position at once; one more that "
          "would have to wait is RESOURCE_EXHAUSTED [env "
          "MAX_WAITING_QUERIES].");
ABSL_FLAG(int64_t, list_scan_limit, EnvOr("LIST_SCAN_LIMIT", int64_t{10000}),
          "Items one ListItems call may check against its filter before it "
          "returns a shorter page (even an empty one) with a next_page_token "
          "[env LIST_SCAN_LIMIT].");
ABSL_FLAG(absl::Duration, max_wait, absl::Seconds(30),
          "Longest wait for a query's min_position when the call has no "
          "deadline; then DEADLINE_EXCEEDED.");
ABSL_FLAG(absl::Duration, stall_timeout, absl::Seconds(20),
          "An event stream silent this long (no event, no heartbeat) is "
          "replaced by a new one.");
ABSL_FLAG(absl::Duration, max_backoff, absl::Seconds(5),
          "Longest pause between reconnection attempts to the "
          "command-service.");
ABSL_FLAG(absl::Duration, stopped_retry_interval, absl::Seconds(30),
          "While the read model is stopped at an event it cannot project "
          "(NOT_SERVING), how often to subscribe again, quietly.");
// How this service reaches the command-service: TLS and the token it
// presents (docs/security.md). A token comes from a file or the
// environment, never from a flag: command lines are visible to all.
ABSL_FLAG(std::string, command_service_ca_file,
          EnvOr("COMMAND_SERVICE_CA_FILE", ""),
          "PEM CA that signed the command-service's certificate: set it to "
          "subscribe over TLS [env COMMAND_SERVICE_CA_FILE].");
ABSL_FLAG(std::string, command_service_server_name,
          EnvOr("COMMAND_SERVICE_SERVER_NAME", ""),
          "The name the command-service's certificate carries, if not the "
          "host of --command_service [env COMMAND_SERVICE_SERVER_NAME].");
ABSL_FLAG(std::string, command_service_token_file,
          EnvOr("COMMAND_SERVICE_TOKEN_FILE", ""),
          "File holding the token this service presents to the "
          "command-service (its reader token will do) [env "
          "COMMAND_SERVICE_TOKEN_FILE]; or the token itself in [env "
          "COMMAND_SERVICE_TOKEN]. Needs --command_service_ca_file.");

int main(int argc, char** argv) {
  inventory::BlockShutdownSignals();
  inventory::ParseFlags(
      argc, argv,
      "The read side of the inventory system: events in, queries out.\n"
      "Usage: query-service [--listen=127.0.0.1:50052] "
      "[--command_service=127.0.0.1:50051]");
  if (const std::optional<int> exit_code =
          inventory::HealthCheckIfAsked(absl::GetFlag(FLAGS_listen))) {
    return *exit_code;
  }
  const absl::StatusOr<inventory::SharedServerSettings> shared =
      inventory::SharedServerSettingsFromFlags();
  const absl::StatusOr<inventory::ChannelSecurity> upstream =
      inventory::LoadChannelSecurity(
          {"command_service", absl::GetFlag(FLAGS_command_service_ca_file),
           absl::GetFlag(FLAGS_command_service_server_name),
           absl::GetFlag(FLAGS_command_service_token_file),
           EnvOr("COMMAND_SERVICE_TOKEN", "")});
  for (const absl::Status& loaded : {shared.status(), upstream.status()}) {
    if (!loaded.ok()) {
      inventory::LogError(loaded.message());
      return 1;
    }
  }

  inventory::QueryServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.command_service = absl::GetFlag(FLAGS_command_service);
  options.command_service_security = *upstream;
  inventory::ApplyTo(*shared, &options);
  options.query.max_watchers = absl::GetFlag(FLAGS_max_watchers);
  options.query.max_watchers_per_client = shared->max_streams_per_client;
  options.query.write_timeout = shared->stream_write_timeout;
  options.query.max_waiting_queries = absl::GetFlag(FLAGS_max_waiting_queries);
  options.query.max_wait = absl::GetFlag(FLAGS_max_wait);
  options.query.list_scan_limit = absl::GetFlag(FLAGS_list_scan_limit);
  options.subscriber.stall_timeout = absl::GetFlag(FLAGS_stall_timeout);
  options.subscriber.max_backoff = absl::GetFlag(FLAGS_max_backoff);
  options.subscriber.stopped_retry_interval =
      absl::GetFlag(FLAGS_stopped_retry_interval);
  auto server = inventory::QueryServer::Start(options);
  if (!server.ok()) {
    inventory::LogError(server.status().message());
    return 1;
  }
  inventory::LogInfo(
      "query-service listening on ", options.listen, " (port ",
      (*server)->port(), "); command_service=", options.command_service,
      " max_message_bytes=", options.max_message_bytes,
      " max_concurrent_streams=", options.max_concurrent_streams,
      " max_threads=", options.max_threads,
      " max_watchers=", options.query.max_watchers,
      " max_streams_per_client=", options.query.max_watchers_per_client,
      " stream_write_timeout=",
      absl::FormatDuration(options.query.write_timeout),
      " max_waiting_queries=", options.query.max_waiting_queries,
      " max_wait=", absl::FormatDuration(options.query.max_wait),
      " stall_timeout=", absl::FormatDuration(options.subscriber.stall_timeout),
      " ", inventory::Describe(options.security), " ",
      inventory::Describe(options.command_service_security, "command_service_"),
      "; NOT_SERVING until caught up with the event log");

  const int signal = inventory::WaitForShutdownSignal();
  inventory::LogInfo("signal ", signal, ": shutting down");
  (*server)->Shutdown(shared->shutdown_grace);
  server->reset();
  inventory::LogInfo("query-service stopped");
  return 0;
}
