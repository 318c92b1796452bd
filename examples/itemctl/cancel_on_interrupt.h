// CancelOnInterrupt: Ctrl-C stops a running stream, not the program.
//
// While an instance lives, SIGINT cancels the given gRPC call (the call
// then ends with CANCELLED) instead of killing the process, so `watch` and
// `events --follow` return to the interactive prompt. When it is destroyed
// SIGINT does again whatever it did before. At most one instance may exist
// at a time.
#ifndef INVENTORY_EXAMPLES_ITEMCTL_CANCEL_ON_INTERRUPT_H_
#define INVENTORY_EXAMPLES_ITEMCTL_CANCEL_ON_INTERRUPT_H_

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <thread>

namespace inventory::itemctl {

class CancelOnInterrupt {
 public:
  // `context` must outlive this object.
  explicit CancelOnInterrupt(grpc::ClientContext* context);
  ~CancelOnInterrupt();
  CancelOnInterrupt(const CancelOnInterrupt&) = delete;
  CancelOnInterrupt& operator=(const CancelOnInterrupt&) = delete;

  // True once SIGINT has cancelled the call.
  bool interrupted() const { return interrupted_; }

 private:
  // The signal handler only writes to this pipe (async-signal-safe); the
  // thread waits on it and cancels the call.
  int pipe_[2] = {-1, -1};
  struct sigaction previous_ {};
  std::atomic<bool> interrupted_{false};
  std::thread canceller_;
};

}  // namespace inventory::itemctl

#endif  // INVENTORY_EXAMPLES_ITEMCTL_CANCEL_ON_INTERRUPT_H_
