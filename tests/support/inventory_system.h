// InventorySystem: the whole system of an end-to-end test, started as the
// test asks: a database (a new one on a throwaway PostgreSQL server, see
// postgres_server.h, or none: events in memory), the command-service and
// the query-service as real processes (service_process.h), and stubs on
// channels to them (channels.h): plaintext, or TLS trusting the test's CA
// when the services are started with a certificate.
//
//   InventorySystemOptions options;
//   options.command_binary = COMMAND_SERVICE_BINARY;
//   options.query_binary = QUERY_SERVICE_BINARY;
//   options.postgres = &TestPostgres();
//   auto system = InventorySystem::Start(options);
//   ASSERT_TRUE(system.ok()) << system.status();
//   (*system)->commands().CreateItem(...);
//
// Start() returns once both processes listen (and, with
// await_query_serving, once the query-service has caught up). A test may
// replace either process (a crash, a restart on the same port, another
// database, a query-service with other flags), and reads their logs.
// Several systems may run at once, each with its own database (or none).
// The destructor kills whatever still runs, the query-service first; the
// database stays on its server, which deletes it when it stops. Not
// thread-safe: one test thread drives it.
#ifndef INVENTORY_TESTS_SUPPORT_INVENTORY_SYSTEM_H_
#define INVENTORY_TESTS_SUPPORT_INVENTORY_SYSTEM_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "tests/support/postgres_server.h"
#include "tests/support/service_process.h"

namespace inventory::test_support {

struct InventorySystemOptions {
  // The binaries (the test target's COMMAND_SERVICE_BINARY and
  // QUERY_SERVICE_BINARY).
  std::string command_binary;
  std::string query_binary;

  // The server the test's database is created on (named database_prefix
  // plus a number). nullptr: the command-service keeps its events in
  // memory (--database_url=, even if DATABASE_URL is set).
  PostgresServer* postgres = nullptr;
  std::string database_prefix = "inventory";
  // Gives the command-service the database's URL in DATABASE_URL instead of
  // the --database_url flag (as deployments do).
  bool database_url_in_environment = false;

  // Added after --listen and the database (command-service) or after
  // --listen and --command_service (query-service).
  std::vector<std::string> command_flags;
  std::vector<std::string> query_flags;
  // "NAME=value" entries added to the command-service's environment.
  std::vector<std::string> command_env;

  // The CA (PEM) that the stubs' channels trust: set it when the services
  // are started with --tls_cert_file (a certificate it signed); empty, the
  // channels speak plaintext. Bearer tokens are the calls' business (an
  // "authorization" header on each ClientContext).
  std::string root_certificates;

  // Start() starts the query-service too (else the test calls
  // StartQueryService() when it wants it).
  bool start_query_service = true;
  // Start() also waits until the query-service reports SERVING.
  bool await_query_serving = false;
  // Bound on each process's start (and on the wait for SERVING).
  absl::Duration start_timeout = absl::Seconds(60);
};

class InventorySystem {
 public:
  // Creates the database (if any) and starts the command-service, then the
  // query-service (unless told not to), each on a free loopback port.
  static absl::StatusOr<std::unique_ptr<InventorySystem>> Start(
      InventorySystemOptions options);

  ~InventorySystem();
  InventorySystem(const InventorySystem&) = delete;
  InventorySystem& operator=(const InventorySystem&) = delete;

  // Starts a command-service on the port of the first one (so that the
  // query-service and clients find it again), after killing the running one
  // if it has not exited: a crash and restart. With `database_url` it uses
  // that database from now on (a database "restored" from another).
  absl::Status RestartCommandService();
  absl::Status RestartCommandService(const std::string& database_url);
  // Starts a query-service on a free port, following the command-service,
  // after killing the running one if it has not exited (query() and
  // queries() follow it). With `flags`, they replace options.query_flags
  // for this query-service.
  absl::Status StartQueryService();
  absl::Status StartQueryService(const std::vector<std::string>& flags);
  // Stops a service as an operator does (SIGTERM) and waits for its exit;
  // returns its exit code.
  absl::StatusOr<int> StopCommandService(
      absl::Duration timeout = absl::Seconds(30));

  // Waits (polling its health every 20 ms) until the query-service reports
  // SERVING; false after `timeout`.
  bool AwaitQueryServing(absl::Duration timeout = absl::Seconds(60));

  // The running processes; query() once a query-service was started.
  ServiceProcess& command() { return *command_; }
  ServiceProcess& query() { return *query_; }
  // The database's URL; empty when events are in memory.
  const std::string& database_url() const { return database_url_; }
  // "127.0.0.1:<port>" of the command-service, the same across restarts.
  std::string command_address() const;

  // Channels to the services and stubs on them; the command-service's
  // outlive its restarts (the port stays), the query-service's are remade
  // by StartQueryService().
  const std::shared_ptr<grpc::Channel>& command_channel() const {
    return command_channel_;
  }
  const std::shared_ptr<grpc::Channel>& query_channel() const {
    return query_channel_;
  }
  v1::CommandService::Stub& commands() { return *commands_; }
  v1::EventStreamService::Stub& events() { return *events_; }
  grpc::health::v1::Health::Stub& command_health() { return *command_health_; }
  v1::QueryService::Stub& queries() { return *queries_; }
  grpc::health::v1::Health::Stub& query_health() { return *query_health_; }

 private:
  explicit InventorySystem(InventorySystemOptions options)
      : options_(std::move(options)) {}
  absl::Status StartCommandService(int port);

  const InventorySystemOptions options_;
  std::string database_url_;
  int command_port_ = 0;
  std::unique_ptr<ServiceProcess> command_;
  std::unique_ptr<ServiceProcess> query_;
  std::shared_ptr<grpc::Channel> command_channel_;
  std::shared_ptr<grpc::Channel> query_channel_;
  std::unique_ptr<v1::CommandService::Stub> commands_;
  std::unique_ptr<v1::EventStreamService::Stub> events_;
  std::unique_ptr<grpc::health::v1::Health::Stub> command_health_;
  std::unique_ptr<v1::QueryService::Stub> queries_;
  std::unique_ptr<grpc::health::v1::Health::Stub> query_health_;
};

}  // namespace inventory::test_support

#endif  // INVENTORY_TESTS_SUPPORT_INVENTORY_SYSTEM_H_
