// A throwaway PostgreSQL server for integration and end-to-end tests.
//
// Start() runs `initdb` into a fresh temporary directory (as the
// unprivileged `postgres` user when the tests run as root, since initdb
// refuses root), and starts the server on a free 127.0.0.1 port with its
// socket inside that directory. A watchdog process stops the server and
// deletes the directory when the owner is destroyed, and also when the test
// process dies without cleaning up (crash, kill -9, failed assertion that
// aborts), so no cluster outlives its test.
//
// Test clusters run with fsync=off for speed: they survive a clean stop
// but not a crash of the machine. A test about durability starts its own
// cluster with `durable` set (fsync=on, synchronous_commit=on), where a
// commit is on disk before the client hears of it, and may Crash() it.
//
// When TEST_DATABASE_URL is set (a server URL such as
// "postgresql://postgres@127.0.0.1:5432/postgres"), that server is used
// instead and nothing is started; Stop(), Crash() and Restart() are then
// unavailable, and `durable` is not applied (owns_server() is false).
#ifndef INVENTORY_TESTS_SUPPORT_POSTGRES_SERVER_H_
#define INVENTORY_TESTS_SUPPORT_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace inventory::test_support {

struct PostgresServerOptions {
  // fsync=on and synchronous_commit=on instead of fsync=off.
  bool durable = false;
};

// Not thread-safe; one shared server per test process is the intended use,
// plus the occasional durable one of a single test.
class PostgresServer {
 public:
  // Starts a new server (or attaches to TEST_DATABASE_URL).
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start(
      PostgresServerOptions options = {});

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Creates a new, empty database whose name starts with `prefix` and
  // returns its URL.
  absl::StatusOr<std::string> CreateDatabase(absl::string_view prefix);

  // The URL of database `name` on this server.
  std::string UrlFor(absl::string_view name) const;

  // Stops the server (fast shutdown: clients are disconnected) and starts it
  // again on the same port and data. Only for servers Start() started.
  absl::Status Stop();
  absl::Status Restart();
  // Crashes the server: an immediate shutdown (`pg_ctl -m immediate`), in
  // which every server process quits at once without a checkpoint or an
  // answer to its client, as if they were killed; the next Restart() runs
  // crash recovery from the write-ahead log. The operating system's page
  // cache survives, so unlike a power cut it does not test the disk.
  absl::Status Crash();

  bool durable() const { return options_.durable; }
  int port() const { return port_; }
  bool owns_server() const { return !data_dir_.empty(); }

 private:
  PostgresServer() = default;
  // Runs `pg_ctl <action>`; `stop_mode` is pg_ctl's -m for "stop".
  absl::Status RunPgCtl(absl::string_view action,
                        absl::string_view stop_mode = "fast");

  PostgresServerOptions options_;
  std::string base_url_;  // without database name
  std::string data_dir_;  // empty when attached to TEST_DATABASE_URL
  std::string bin_dir_;
  int port_ = 0;
  int database_counter_ = 0;
  pid_t watchdog_pid_ = -1;
  int watchdog_pipe_ = -1;  // closing it tells the watchdog to clean up
};

}  // namespace inventory::test_support

#endif  // INVENTORY_TESTS_SUPPORT_POSTGRES_SERVER_H_
