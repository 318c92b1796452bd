// A TCP proxy for fault tests: it sits between a client (a service, a
// PostgresEventStore) and a server (PostgreSQL) on the loopback interface
// and, on command, breaks a connection at a chosen point of a chosen
// request.
//
// Every accepted connection is forwarded to 127.0.0.1:<target port>, one
// thread per connection. A fault is armed for the next client-to-server
// chunk that contains a byte pattern (a prepared statement's name such as
// "append_events" travels in the bytes of each execution; see
// ExecutionOf()); the end of the previous chunk is kept, so a pattern split
// across two reads still matches. Each fault fires once (or `times` times)
// on whichever connection sends the pattern first, then disarms itself.
//
//   Cut, kBeforeRequest:  the matching chunk is dropped and both sides are
//                         reset (RST): the server never saw the request.
//   Cut, kAtResponse:     the chunk is forwarded; the server's first
//                         response bytes (so the request was executed, and
//                         in autocommit committed) are dropped and both
//                         sides are reset: a lost answer.
//   Cut, kAfterResponse:  like kAtResponse, but the first response chunk is
//                         delivered before the reset.
//   CutResponse(k):       the chunk is forwarded, then the first `k` bytes
//                         of the response, then the client side is closed
//                         (FIN, after those bytes) and the server side reset:
//                         a connection cut in the middle of an answer.
//   Hold:                 the matching chunk is held back (and the
//                         connection with it) until ResumeHeld(), then
//                         forwarded: a statement kept in flight while a
//                         test lines up what comes next.
//   Blackhole, <point>:   at the same points, instead of closing, the
//                         connection stops forwarding in both directions and
//                         keeps both sockets open (no FIN, no RST) until
//                         Release() or the proxy's destruction. The client's
//                         kernel still acknowledges keepalive probes, so only
//                         an application-level timeout can notice.
//
// Besides armed faults: a fixed delay added to every chunk (SetDelay), all
// connections blackholed at once (BlackholeAll), new connections refused
// (RefuseNewConnections: accepted and reset at once), and counters with
// waits, so a test waits for a fault to fire instead of sleeping.
//
// Thread-safe. Destruction closes every connection and joins every thread.
#ifndef INVENTORY_TESTS_SUPPORT_FAULT_PROXY_H_
#define INVENTORY_TESTS_SUPPORT_FAULT_PROXY_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace inventory::test_support {

class FaultProxy {
 public:
  // What a fault does to its connection.
  enum class Action {
    kCut,        // close both sides (reset)
    kBlackhole,  // stop forwarding, keep both sockets open
    kHold,       // hold the matching chunk until ResumeHeld()
  };
  // When, relative to the matching request, the fault acts.
  enum class Point {
    kBeforeRequest,  // the matching chunk is not forwarded
    kAtResponse,     // forwarded; the server's first response bytes are not
    kAfterResponse,  // forwarded, and the server's first response chunk too
  };

  // Listens on 127.0.0.1:<free port> and forwards to 127.0.0.1:target_port.
  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(int target_port);

  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }

  // `url` (a libpq URI naming 127.0.0.1:<target port>) with the port
  // replaced by the proxy's. INVALID_ARGUMENT when the URL does not name
  // the target (e.g. TEST_DATABASE_URL points elsewhere).
  absl::StatusOr<std::string> Redirect(absl::string_view url) const;

  // The bytes that name prepared statement `statement` in the PostgreSQL
  // wire protocol's Bind message, which every execution of the statement
  // sends: the empty portal name's NUL, the statement name and its NUL,
  // then the high byte (0) of the count of parameter format codes. Unlike
  // the bare name, it matches neither the statement's Parse (preparation,
  // where SQL text follows the name) nor SQL text that mentions the name.
  static std::string ExecutionOf(absl::string_view statement);

  // Arms a fault for the next `times` client-to-server chunks that contain
  // `pattern` (non-empty). Faults armed earlier are matched first; a chunk
  // fires at most one fault.
  void Arm(Action action, Point point, absl::string_view pattern,
           int times = 1);
  void CutBefore(absl::string_view pattern, int times = 1) {
    Arm(Action::kCut, Point::kBeforeRequest, pattern, times);
  }
  void CutAfter(absl::string_view pattern, int times = 1) {
    Arm(Action::kCut, Point::kAtResponse, pattern, times);
  }
  void Blackhole(absl::string_view pattern, Point point, int times = 1) {
    Arm(Action::kBlackhole, point, pattern, times);
  }
  // Holds the matching chunk until ResumeHeld().
  void Hold(absl::string_view pattern, int times = 1) {
    Arm(Action::kHold, Point::kBeforeRequest, pattern, times);
  }
  // Forwards every chunk held so far.
  void ResumeHeld();
  // Forwards the matching request and `response_bytes` bytes of the answer,
  // then closes.
  void CutResponse(absl::string_view pattern, size_t response_bytes,
                   int times = 1);
  // Counts the next `times` chunks that contain `pattern` as fired faults
  // without disturbing them: a way to wait until a client sends something.
  void Watch(absl::string_view pattern, int times = 1);
  // Drops every armed fault that has not fired.
  void Disarm();

  // Delays every chunk, in both directions, by `delay` (zero: none).
  void SetDelay(absl::Duration delay);
  // Every open connection, and every new one until Release(), stops
  // forwarding (new ones are accepted and never connected to the target).
  void BlackholeAll();
  // While true, new connections are accepted and reset at once.
  void RefuseNewConnections(bool refuse);
  // Closes (resets) every blackholed connection and ends BlackholeAll().
  void Release();

  int64_t connections_accepted() const;
  int64_t connections_open() const;
  // Faults fired so far, Watch() matches included.
  int64_t faults_fired() const;
  // Answers that CutResponse() really cut (a fault fires when its request
  // matches; an answer shorter than the cut passes whole).
  int64_t responses_cut() const;
  // Wait until faults_fired() >= n (or connections_accepted() >= n); false
  // if `timeout` passes first.
  bool WaitForFaults(int64_t n, absl::Duration timeout) const;
  bool WaitForConnections(int64_t n, absl::Duration timeout) const;

 private:
  struct Fault {
    Action action;
    Point point;
    std::string pattern;
    int remaining;
    // CutResponse: response bytes to forward before closing; -1 otherwise.
    int64_t response_bytes = -1;
    bool watch_only = false;
    // kHold: resume_generation_ when the fault fired.
    int64_t resume_generation = 0;
  };
  class Connection;

  FaultProxy(int listen_fd, int wake_fd, int port, int target_port);
  void AcceptLoop();
  // Accepts one connection: refused, held or forwarded.
  void AcceptOne() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddFault(Fault fault);
  // The fault `data` (the new bytes, after `tail` from the previous chunk)
  // fires, if any; decrements its count. Returns false when none.
  bool TakeFault(absl::string_view tail, absl::string_view data, Fault* fired);
  // Sleeps for the configured delay, or less if the proxy stops.
  void Delay() const;
  // Waits until ResumeHeld() is called after `fault` fired; false if the
  // proxy stops first.
  bool AwaitResume(const Fault& fault) const;
  void WakeAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ConnectionClosed();

  const int listen_fd_;
  const int wake_fd_;  // eventfd: stops the accept loop
  const int port_;
  const int target_port_;

  mutable absl::Mutex mu_;
  std::vector<Fault> faults_ ABSL_GUARDED_BY(mu_);
  absl::Duration delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  // Incremented by each Release(): a connection blackholed before it ends.
  int64_t release_generation_ ABSL_GUARDED_BY(mu_) = 0;
  // Incremented by each ResumeHeld().
  int64_t resume_generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool blackhole_all_ ABSL_GUARDED_BY(mu_) = false;
  bool refuse_new_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t accepted_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t open_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t fired_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t responses_cut_ ABSL_GUARDED_BY(mu_) = 0;
  std::list<std::unique_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace inventory::test_support

#endif  // INVENTORY_TESTS_SUPPORT_FAULT_PROXY_H_
