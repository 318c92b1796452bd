#include "tests/support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace inventory::test_support {
namespace {

constexpr const char* kUser = "postgres";

bool RunningAsRoot() { return geteuid() == 0; }

// The newest /usr/lib/postgresql/<version>/bin that has initdb.
absl::StatusOr<std::string> FindBinDir() {
  glob_t found;
  if (glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &found) != 0) {
    return absl::NotFoundError(
        "initdb not found under /usr/lib/postgresql (install postgresql)");
  }
  std::vector<std::string> paths(found.gl_pathv,
                                 found.gl_pathv + found.gl_pathc);
  globfree(&found);
  std::sort(paths.begin(), paths.end());
  std::string bin = paths.back();
  return bin.substr(0, bin.size() - std::string("/initdb").size());
}

// The command line that runs `argv` as the unprivileged server user.
std::vector<std::string> AsServerUser(std::vector<std::string> argv) {
  if (!RunningAsRoot()) return argv;
  std::vector<std::string> wrapped = {"/usr/sbin/runuser", "-u", kUser, "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

// Runs `argv` to completion with stdout discarded.
absl::Status RunCommand(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat("command failed: ", absl::StrJoin(argv, " ")));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    close(fd);
    return absl::InternalError("cannot find a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start(
    PostgresServerOptions options) {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->options_ = options;
  if (const char* url = std::getenv("TEST_DATABASE_URL"); url && *url) {
    // Keep scheme, credentials, host and port; drop database and options.
    std::string base = url;
    const size_t host_start = base.find("://");
    const size_t slash =
        base.find('/', host_start == std::string::npos ? 0 : host_start + 3);
    if (slash != std::string::npos) base.resize(slash);
    server->base_url_ = base;
    server->options_.durable = false;  // whatever that server does
    return server;
  }

  auto bin_dir = FindBinDir();
  if (!bin_dir.ok()) return bin_dir.status();
  server->bin_dir_ = *bin_dir;
  char dir_template[] = "/tmp/inventory-pg-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    return absl::InternalError("mkdtemp failed");
  }
  server->data_dir_ = dir_template;
  if (RunningAsRoot()) {
    const passwd* user = getpwnam(kUser);
    if (user == nullptr ||
        chown(dir_template, user->pw_uid, user->pw_gid) != 0) {
      return absl::FailedPreconditionError(
          "running as root needs the 'postgres' user (install postgresql)");
    }
  }

  // The watchdog: a separate session that waits for EOF on a pipe only this
  // process holds, then stops the server and removes its directory.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  const std::string stop = absl::StrJoin(
      AsServerUser({server->bin_dir_ + "/pg_ctl", "-D", server->data_dir_, "-m",
                    "immediate", "stop"}),
      " ");
  const std::string script = absl::StrCat(
      "read _; ", stop, " >/dev/null 2>&1; rm -rf '", server->data_dir_, "'");
  const pid_t watchdog = fork();
  if (watchdog < 0) return absl::InternalError("fork failed");
  if (watchdog == 0) {
    setsid();
    dup2(fds[0], STDIN_FILENO);  // dup2 clears close-on-exec on stdin
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[0]);
  server->watchdog_pid_ = watchdog;
  server->watchdog_pipe_ = fds[1];

  absl::Status initdb = RunCommand(
      AsServerUser({server->bin_dir_ + "/initdb", "-D", server->data_dir_, "-U",
                    kUser, "--auth=trust", "-E", "UTF8", "--locale=C", "-N"}));
  if (!initdb.ok()) return initdb;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    if (server->Restart().ok()) {
      server->base_url_ =
          absl::StrCat("postgresql://", kUser, "@127.0.0.1:", server->port_);
      return server;
    }
  }
  return absl::UnavailableError("PostgreSQL did not start; see its log in " +
                                server->data_dir_);
}

PostgresServer::~PostgresServer() {
  if (watchdog_pipe_ >= 0) close(watchdog_pipe_);
  if (watchdog_pid_ > 0) {
    int status = 0;
    while (waitpid(watchdog_pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

absl::Status PostgresServer::RunPgCtl(absl::string_view action,
                                      absl::string_view stop_mode) {
  std::vector<std::string> argv = {
      bin_dir_ + "/pg_ctl",      "-D", data_dir_, "-l",
      data_dir_ + "/server.log", "-w", "-t",      "60"};
  if (action == "start") {
    argv.push_back("-o");
    argv.push_back(absl::StrCat(
        "-p ", port_, " -c listen_addresses=127.0.0.1 -k ", data_dir_,
        options_.durable ? " -c fsync=on -c synchronous_commit=on"
                         : " -c fsync=off",
        " -c max_connections=300"));
  } else {
    argv.push_back("-m");
    argv.push_back(std::string(stop_mode));
  }
  argv.push_back(std::string(action));
  return RunCommand(AsServerUser(argv));
}

absl::Status PostgresServer::Stop() {
  if (!owns_server()) {
    return absl::FailedPreconditionError("not a server this test started");
  }
  return RunPgCtl("stop");
}

absl::Status PostgresServer::Crash() {
  if (!owns_server()) {
    return absl::FailedPreconditionError("not a server this test started");
  }
  return RunPgCtl("stop", "immediate");
}

absl::Status PostgresServer::Restart() {
  if (!owns_server()) {
    return absl::FailedPreconditionError("not a server this test started");
  }
  return RunPgCtl("start");
}

std::string PostgresServer::UrlFor(absl::string_view name) const {
  return absl::StrCat(base_url_, "/", name);
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase(
    absl::string_view prefix) {
  std::string name =
      absl::StrCat(prefix, "_", getpid(), "_", ++database_counter_);
  for (char& c : name) {
    c = absl::ascii_isalnum(static_cast<unsigned char>(c))
            ? absl::ascii_tolower(static_cast<unsigned char>(c))
            : '_';
  }
  try {
    pqxx::connection admin(UrlFor("postgres"));
    pqxx::nontransaction tx(admin);
    tx.exec0(absl::StrCat("CREATE DATABASE ", tx.quote_name(name)));
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot create database ", name, ": ", e.what()));
  }
  return UrlFor(name);
}

}  // namespace inventory::test_support
