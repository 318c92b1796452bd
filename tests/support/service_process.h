// ServiceProcess: one of our server binaries run as a real child process,
// for end-to-end tests.
//
// Start() launches it with the given flags and environment, its stderr
// going to a log file, and waits (bounded) for its "listening on ... (port
// N)" line, so tests may pass --listen=127.0.0.1:0 and learn the port. The
// destructor kills the process if it is still running.
#ifndef INVENTORY_TESTS_SUPPORT_SERVICE_PROCESS_H_
#define INVENTORY_TESTS_SUPPORT_SERVICE_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace inventory::test_support {

class ServiceProcess {
 public:
  // Starts `binary` with `args`; `env` entries ("NAME=value") are added to
  // the inherited environment. Fails when the process exits or prints no
  // listening line within `timeout`.
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      const std::vector<std::string>& env = {},
      absl::Duration timeout = absl::Seconds(60));

  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string address() const;  // "127.0.0.1:<port>"
  // Everything the process wrote to stderr so far.
  std::string Log() const;

  // Sends `signal` (e.g. SIGTERM, SIGKILL).
  void Signal(int signal);
  // Waits for the exit; returns the exit code, 128 + signal when killed, or
  // DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  ServiceProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  bool exited_ = false;
  int exit_code_ = 0;
};

// Runs a command to completion (bounded by `timeout`) and returns its exit
// code and combined stdout+stderr.
struct CommandOutput {
  int exit_code = -1;
  std::string output;
};
CommandOutput RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout = absl::Seconds(60));

// Like RunCommand, but with `input` on the command's stdin, followed by end
// of input, as in `printf 'help\nquit\n' | itemctl` (with pipe_input
// false, stdin is /dev/null as for RunCommand). `input` must fit in a pipe
// (64 KiB on Linux); larger input is not run (exit code -1).
CommandOutput RunCommandWithInput(const std::vector<std::string>& argv,
                                  const std::string& input,
                                  absl::Duration timeout = absl::Seconds(60),
                                  bool pipe_input = true);

}  // namespace inventory::test_support

#endif  // INVENTORY_TESTS_SUPPORT_SERVICE_PROCESS_H_
