#include "tests/support/piped_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>

namespace inventory::test_support {
namespace {

// Writes all of `input` into a new pipe and closes its write end, so the
// reader sees `input` then end of input. Writing everything before the
// child exists means the test never blocks on, or gets SIGPIPE from, a
// child that stops reading early. Returns the read end, or -1.
int PipeHolding(const std::string& input) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const int capacity = fcntl(fds[1], F_GETPIPE_SZ);
  size_t written = 0;
  if (capacity >= 0 && input.size() <= static_cast<size_t>(capacity)) {
    while (written < input.size()) {
      const ssize_t n =
          write(fds[1], input.data() + written, input.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
  }
  close(fds[1]);
  if (written < input.size()) {
    close(fds[0]);
    return -1;
  }
  return fds[0];
}

// Waits up to `timeout` for `pid`: its exit code (128 + signal when
// killed), or nullopt on timeout.
std::optional<int> WaitForExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (done < 0 && errno != EINTR) return -1;
    if (absl::Now() >= deadline) return std::nullopt;
    // Polling a child's exit: waitpid has no timeout.
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(50));
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

CommandOutput RunCommandWithInput(const std::vector<std::string>& argv,
                                  const std::string& input,
                                  absl::Duration timeout) {
  CommandOutput result;
  const int input_fd = PipeHolding(input);
  if (input_fd < 0) return result;
  char out_template[] = "/tmp/inventory-piped-XXXXXX";
  const int out_fd = mkstemp(out_template);
  if (out_fd < 0) {
    close(input_fd);
    return result;
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);  // signals meant for the test runner stay there
    dup2(input_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(input_fd);
  close(out_fd);
  if (pid > 0) {
    std::optional<int> code = WaitForExit(pid, timeout);
    if (!code.has_value()) {
      kill(pid, SIGKILL);
      code = WaitForExit(pid, absl::Seconds(10));
      result.output = "(timed out) ";
    }
    result.exit_code = code.value_or(-1);
  }
  result.output += ReadFile(out_template);
  unlink(out_template);
  return result;
}

}  // namespace inventory::test_support
