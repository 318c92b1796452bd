#include "examples/itemctl/cancel_on_interrupt.h"

#include <unistd.h>

#include <cerrno>

namespace inventory::itemctl {
namespace {

constexpr char kInterrupted = 'i';
constexpr char kDone = 'd';

// The write end of the live instance's pipe.
std::atomic<int> interrupt_fd{-1};

void OnInterrupt(int) {
  const int fd = interrupt_fd.load();
  if (fd < 0) return;
  const ssize_t written = write(fd, &kInterrupted, 1);
  (void)written;  // nothing to do about a full pipe in a signal handler
}

}  // namespace

CancelOnInterrupt::CancelOnInterrupt(grpc::ClientContext* context) {
  if (pipe(pipe_) != 0) return;  // Ctrl-C then simply ends the program
  interrupt_fd = pipe_[1];
  canceller_ = std::thread([this, context] {
    char reason = kDone;
    while (read(pipe_[0], &reason, 1) < 0 && errno == EINTR) {
    }
    if (reason == kInterrupted) {
      interrupted_ = true;
      context->TryCancel();
    }
  });
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &previous_);
}

CancelOnInterrupt::~CancelOnInterrupt() {
  if (pipe_[0] < 0) return;
  sigaction(SIGINT, &previous_, nullptr);
  interrupt_fd = -1;
  const ssize_t written = write(pipe_[1], &kDone, 1);
  (void)written;  // the pipe is empty or the thread is gone: cannot fail
  canceller_.join();
  close(pipe_[0]);
  close(pipe_[1]);
}

}  // namespace inventory::itemctl
