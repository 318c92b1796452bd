#include "tests/support/service_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace inventory::test_support {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Writes all of `input` into a new pipe and closes its write end, so the
// reader sees the input, then end of input. Returns the read end, or -1
// when the pipe cannot hold the input.
int PipeHolding(const std::string& input) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  const int capacity = fcntl(fds[1], F_GETPIPE_SZ);
  size_t written = 0;
  while (capacity > 0 && static_cast<size_t>(capacity) >= input.size() &&
         written < input.size()) {
    const ssize_t n =
        write(fds[1], input.data() + written, input.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  close(fds[1]);
  if (written != input.size()) {
    close(fds[0]);
    return -1;
  }
  return fds[0];
}

// Forks and execs `argv` with stdout and stderr going to `output_fd`, stdin
// from `input_fd` (/dev/null when -1) and `env` added to the environment.
// Returns the child's pid.
pid_t Spawn(const std::vector<std::string>& argv,
            const std::vector<std::string>& env, int output_fd,
            int input_fd = -1) {
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.push_back(*e);
  environment.insert(environment.end(), env.begin(), env.end());
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : environment) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    // A new process group, so that signals meant for the test runner do
    // not reach the child and the child's own children die with it.
    setpgid(0, 0);
    dup2(output_fd, STDOUT_FILENO);
    dup2(output_fd, STDERR_FILENO);
    const int input = input_fd >= 0 ? input_fd : open("/dev/null", O_RDONLY);
    if (input >= 0) dup2(input, STDIN_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  return pid;
}

// Waits up to `timeout` for `pid`; returns its exit code (128 + signal when
// killed) or nullopt on timeout.
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

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    const std::string& binary, const std::vector<std::string>& args,
    const std::vector<std::string>& env, absl::Duration timeout) {
  std::unique_ptr<ServiceProcess> process(new ServiceProcess());
  char log_template[] = "/tmp/inventory-service-XXXXXX";
  const int log_fd = mkstemp(log_template);
  if (log_fd < 0) return absl::InternalError("mkstemp failed");
  process->log_path_ = log_template;
  std::vector<std::string> argv = {binary};
  argv.insert(argv.end(), args.begin(), args.end());
  process->pid_ = Spawn(argv, env, log_fd);
  close(log_fd);
  if (process->pid_ < 0) return absl::InternalError("fork failed");

  static const std::regex kListening(R"(listening on \S+ \(port (\d+)\))");
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(5);
  for (;;) {
    std::smatch match;
    const std::string log = process->Log();
    if (std::regex_search(log, match, kListening)) {
      if (!absl::SimpleAtoi(match[1].str(), &process->port_)) {
        return absl::InternalError("bad port in log");
      }
      return process;
    }
    if (auto code = WaitForExit(process->pid_, absl::ZeroDuration())) {
      process->exited_ = true;
      process->exit_code_ = *code;
      return absl::FailedPreconditionError(absl::StrCat(
          binary, " exited with ", *code, " before listening:\n", log));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(binary, " did not start listening:\n", log));
    }
    // Waiting for a line in another process's log: nothing to block on.
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(100));
  }
}

ServiceProcess::~ServiceProcess() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    (void)Wait(absl::Seconds(10));
  }
  if (!log_path_.empty()) unlink(log_path_.c_str());
}

std::string ServiceProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::string ServiceProcess::Log() const { return ReadFile(log_path_); }

void ServiceProcess::Signal(int signal) {
  if (pid_ > 0 && !exited_) kill(pid_, signal);
}

absl::StatusOr<int> ServiceProcess::Wait(absl::Duration timeout) {
  if (exited_) return exit_code_;
  std::optional<int> code = WaitForExit(pid_, timeout);
  if (!code.has_value()) {
    return absl::DeadlineExceededError("process did not exit in time");
  }
  exited_ = true;
  exit_code_ = *code;
  return exit_code_;
}

CommandOutput RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout) {
  return RunCommandWithInput(argv, /*input=*/"", timeout, /*pipe_input=*/false);
}

CommandOutput RunCommandWithInput(const std::vector<std::string>& argv,
                                  const std::string& input,
                                  absl::Duration timeout, bool pipe_input) {
  CommandOutput result;
  const int input_fd = pipe_input ? PipeHolding(input) : -1;
  if (pipe_input && input_fd < 0) return result;
  char out_template[] = "/tmp/inventory-command-XXXXXX";
  const int out_fd = mkstemp(out_template);
  if (out_fd < 0) {
    if (input_fd >= 0) close(input_fd);
    return result;
  }
  const pid_t pid = Spawn(argv, {}, out_fd, input_fd);
  close(out_fd);
  if (input_fd >= 0) close(input_fd);
  std::optional<int> code = WaitForExit(pid, timeout);
  if (!code.has_value()) {
    kill(pid, SIGKILL);
    code = WaitForExit(pid, absl::Seconds(10));
    result.output = "(timed out) ";
  }
  result.exit_code = code.value_or(-1);
  result.output += ReadFile(out_template);
  unlink(out_template);
  return result;
}

}  // namespace inventory::test_support
