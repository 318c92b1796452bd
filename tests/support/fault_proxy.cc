#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace inventory::test_support {
namespace {

// Bytes of the previous chunk kept for matching: patterns up to this long
// plus one are found even when split across two reads.
constexpr size_t kTailBytes = 1024;
constexpr size_t kBufferBytes = 64 * 1024;

// Closes `fd` with a reset (RST) instead of an orderly FIN.
void Reset(int fd) {
  if (fd < 0) return;
  linger option{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
  close(fd);
}

// Sends all of `data`; false when the peer is gone.
bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t sent = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

int ConnectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const sockaddr_in address = Loopback(port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address),
              sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void Signal(int event_fd) {
  const uint64_t one = 1;
  ssize_t ignored = write(event_fd, &one, sizeof(one));
  (void)ignored;
}

void Drain(int event_fd) {
  uint64_t value = 0;
  ssize_t ignored = read(event_fd, &value, sizeof(value));
  (void)ignored;
}

}  // namespace

// One proxied connection and the thread that forwards it.
class FaultProxy::Connection {
 public:
  // `held`: blackholed from the start (BlackholeAll() was in force), never
  // connected to the target.
  Connection(FaultProxy* proxy, int client_fd, bool held,
             int64_t release_generation)
      : proxy_(proxy),
        client_fd_(client_fd),
        wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
        blackholed_(held),
        generation_(release_generation) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Connection() {
    thread_.join();
    close(wake_fd_);
  }

  void Wake() { Signal(wake_fd_); }
  bool done() const { return done_.load(); }

  // Unblocks a send() stuck on a peer that does not read (at shutdown).
  void ShutdownSockets() {
    absl::MutexLock lock(&fd_mu_);
    if (client_fd_ >= 0) shutdown(client_fd_, SHUT_RDWR);
    if (server_fd_ >= 0) shutdown(server_fd_, SHUT_RDWR);
  }

 private:
  void Run() {
    if (!blackholed_) {
      const int server_fd = ConnectTo(proxy_->target_port_);
      absl::MutexLock lock(&fd_mu_);
      server_fd_ = server_fd;
    }
    if (blackholed_ || server_fd_ >= 0) Forward();
    CloseBoth();
    proxy_->ConnectionClosed();
    done_.store(true);
  }

  // Forwards until either side closes, a fault closes the connection, a
  // blackhole is released, or the proxy stops.
  void Forward() {
    std::string buffer(kBufferBytes, '\0');
    for (;;) {
      if (!CheckProxyState()) return;
      pollfd fds[3] = {{wake_fd_, POLLIN, 0},
                       {client_fd_, POLLIN, 0},
                       {server_fd_, POLLIN, 0}};
      const nfds_t count = blackholed_ ? 1 : 3;
      if (poll(fds, count, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[0].revents != 0) Drain(wake_fd_);
      // Again: data that arrived after BlackholeAll() must not pass.
      if (!CheckProxyState()) return;
      if (blackholed_) continue;
      if (fds[1].revents != 0) {
        const ssize_t n = recv(client_fd_, buffer.data(), buffer.size(), 0);
        if (n <= 0) return EndOrderly(n);
        if (!FromClient(absl::string_view(buffer.data(), n))) return;
      }
      if (blackholed_) continue;
      if (fds[2].revents != 0) {
        const ssize_t n = recv(server_fd_, buffer.data(), buffer.size(), 0);
        if (n <= 0) return EndOrderly(n);
        if (!FromServer(absl::string_view(buffer.data(), n))) return;
      }
    }
  }

  // A side closed (n == 0, passed on as an orderly close) or failed.
  void EndOrderly(ssize_t n) {
    if (n == 0) reset_client_ = reset_server_ = false;
  }

  // Applies Release(), BlackholeAll() and stopping; false: close now.
  bool CheckProxyState() {
    absl::MutexLock lock(&proxy_->mu_);
    if (proxy_->stopping_) return false;
    if (blackholed_) return proxy_->release_generation_ == generation_;
    if (proxy_->blackhole_all_) StartBlackhole();
    return true;
  }

  void StartBlackhole() ABSL_EXCLUSIVE_LOCKS_REQUIRED(proxy_->mu_) {
    blackholed_ = true;
    generation_ = proxy_->release_generation_;
  }
  void StartBlackholeLocking() {
    absl::MutexLock lock(&proxy_->mu_);
    StartBlackhole();
  }

  // Handles a client-to-server chunk; false: close the connection.
  bool FromClient(absl::string_view data) {
    proxy_->Delay();
    Fault fault;
    const bool fired = proxy_->TakeFault(tail_, data, &fault);
    tail_.append(data.data(), data.size());
    if (tail_.size() > kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
    if (fired && fault.action == Action::kHold && !proxy_->AwaitResume(fault)) {
      return false;
    }
    if (fired && !fault.watch_only && fault.action != Action::kHold) {
      if (fault.point == Point::kBeforeRequest) {
        if (fault.action == Action::kCut) return false;
        StartBlackholeLocking();
        return true;
      }
      pending_ = std::move(fault);
      response_forwarded_ = 0;
    }
    return SendAll(server_fd_, data);
  }

  // Handles a server-to-client chunk; false: close the connection.
  bool FromServer(absl::string_view data) {
    proxy_->Delay();
    if (!pending_.has_value()) return SendAll(client_fd_, data);
    const Fault fault = *std::move(pending_);
    pending_.reset();
    if (fault.response_bytes >= 0) {
      const size_t wanted =
          static_cast<size_t>(fault.response_bytes) - response_forwarded_;
      if (data.size() < wanted) {
        // The answer so far is shorter than the cut: keep waiting for more.
        response_forwarded_ += data.size();
        pending_ = fault;
        return SendAll(client_fd_, data);
      }
      SendAll(client_fd_, data.substr(0, wanted));
      {
        absl::MutexLock lock(&proxy_->mu_);
        ++proxy_->responses_cut_;
      }
      // The client gets the bytes, then an orderly end (a reset could make
      // its kernel discard them unread); the server gets a reset.
      reset_client_ = false;
      return false;
    }
    if (fault.point == Point::kAfterResponse && !SendAll(client_fd_, data)) {
      return false;
    }
    if (fault.action == Action::kCut) return false;
    StartBlackholeLocking();
    return true;
  }

  void CloseBoth() {
    absl::MutexLock lock(&fd_mu_);
    for (auto [fd, reset] : {std::pair<int*, bool>{&client_fd_, reset_client_},
                             {&server_fd_, reset_server_}}) {
      if (*fd < 0) continue;
      if (reset) {
        Reset(*fd);
      } else {
        close(*fd);
      }
      *fd = -1;
    }
  }

  FaultProxy* const proxy_;
  absl::Mutex fd_mu_;  // guards closing the fds against ShutdownSockets()
  int client_fd_;
  int server_fd_ = -1;
  const int wake_fd_;
  // Only the connection's thread touches these.
  bool blackholed_;
  int64_t generation_;  // release generation when blackholed
  std::string tail_;
  std::optional<Fault> pending_;  // waiting for the response
  size_t response_forwarded_ = 0;
  // How each side is closed: reset (RST) unless the connection ended in
  // an orderly way.
  bool reset_client_ = true;
  bool reset_server_ = true;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(int target_port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("fault proxy: socket() failed");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address = Loopback(0);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, 128) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    return absl::InternalError(
        absl::StrCat("fault proxy: cannot listen: ", error));
  }
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    close(fd);
    return absl::InternalError("fault proxy: eventfd() failed");
  }
  std::unique_ptr<FaultProxy> proxy(
      new FaultProxy(fd, wake_fd, ntohs(address.sin_port), target_port));
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

FaultProxy::FaultProxy(int listen_fd, int wake_fd, int port, int target_port)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      port_(port),
      target_port_(target_port) {}

FaultProxy::~FaultProxy() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    WakeAll();
    for (auto& connection : connections_) connection->ShutdownSockets();
  }
  Signal(wake_fd_);
  acceptor_.join();
  std::list<std::unique_ptr<Connection>> connections;
  {
    absl::MutexLock lock(&mu_);
    connections.swap(connections_);
  }
  connections.clear();  // joins each thread
  close(listen_fd_);
  close(wake_fd_);
}

absl::StatusOr<std::string> FaultProxy::Redirect(absl::string_view url) const {
  const std::string target = absl::StrCat("@127.0.0.1:", target_port_, "/");
  if (url.find(target) == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("fault proxy: URL does not name ", target, ": ", url));
  }
  return absl::StrReplaceAll(
      url, {{target, absl::StrCat("@127.0.0.1:", port_, "/")}});
}

std::string FaultProxy::ExecutionOf(absl::string_view statement) {
  std::string bytes(1, '\0');
  bytes.append(statement.data(), statement.size());
  bytes.append(2, '\0');
  return bytes;
}

void FaultProxy::Arm(Action action, Point point, absl::string_view pattern,
                     int times) {
  AddFault(Fault{action, point, std::string(pattern), times});
}

void FaultProxy::CutResponse(absl::string_view pattern, size_t response_bytes,
                             int times) {
  Fault fault{Action::kCut, Point::kAtResponse, std::string(pattern), times};
  fault.response_bytes = static_cast<int64_t>(response_bytes);
  AddFault(std::move(fault));
}

void FaultProxy::Watch(absl::string_view pattern, int times) {
  Fault fault{Action::kCut, Point::kBeforeRequest, std::string(pattern), times};
  fault.watch_only = true;
  AddFault(std::move(fault));
}

void FaultProxy::AddFault(Fault fault) {
  if (fault.pattern.empty() || fault.pattern.size() > kTailBytes + 1 ||
      fault.remaining < 1) {
    return;
  }
  absl::MutexLock lock(&mu_);
  faults_.push_back(std::move(fault));
}

void FaultProxy::Disarm() {
  absl::MutexLock lock(&mu_);
  faults_.clear();
}

bool FaultProxy::TakeFault(absl::string_view tail, absl::string_view data,
                           Fault* fired) {
  const std::string haystack = absl::StrCat(tail, data);
  absl::MutexLock lock(&mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    // Only occurrences that end inside `data`: those within the tail were
    // matched (or not) with the previous chunk.
    const size_t overlap = std::min(tail.size(), it->pattern.size() - 1);
    if (haystack.find(it->pattern, tail.size() - overlap) ==
        std::string::npos) {
      continue;
    }
    *fired = *it;
    fired->resume_generation = resume_generation_;
    ++fired_;
    if (--it->remaining == 0) faults_.erase(it);
    return true;
  }
  return false;
}

void FaultProxy::SetDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  delay_ = delay;
}

void FaultProxy::Delay() const {
  absl::MutexLock lock(&mu_);
  if (delay_ <= absl::ZeroDuration()) return;
  auto stopping = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
  mu_.AwaitWithTimeout(absl::Condition(&stopping), delay_);
}

bool FaultProxy::AwaitResume(const Fault& fault) const {
  absl::MutexLock lock(&mu_);
  auto resumed = [this, &fault]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return resume_generation_ > fault.resume_generation || stopping_;
  };
  mu_.Await(absl::Condition(&resumed));
  return !stopping_;
}

void FaultProxy::ResumeHeld() {
  absl::MutexLock lock(&mu_);
  ++resume_generation_;
}

void FaultProxy::BlackholeAll() {
  absl::MutexLock lock(&mu_);
  blackhole_all_ = true;
  WakeAll();
}

void FaultProxy::RefuseNewConnections(bool refuse) {
  absl::MutexLock lock(&mu_);
  refuse_new_ = refuse;
}

void FaultProxy::Release() {
  absl::MutexLock lock(&mu_);
  blackhole_all_ = false;
  ++release_generation_;
  WakeAll();
}

void FaultProxy::WakeAll() {
  for (auto& connection : connections_) connection->Wake();
}

int64_t FaultProxy::connections_accepted() const {
  absl::MutexLock lock(&mu_);
  return accepted_;
}

int64_t FaultProxy::connections_open() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

int64_t FaultProxy::responses_cut() const {
  absl::MutexLock lock(&mu_);
  return responses_cut_;
}

int64_t FaultProxy::faults_fired() const {
  absl::MutexLock lock(&mu_);
  return fired_;
}

bool FaultProxy::WaitForFaults(int64_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, n]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return fired_ >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

bool FaultProxy::WaitForConnections(int64_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return accepted_ >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

void FaultProxy::ConnectionClosed() {
  absl::MutexLock lock(&mu_);
  --open_;
}

void FaultProxy::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    // Threads of closed connections, joined after the lock is released.
    std::list<std::unique_ptr<Connection>> finished;
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    if (fds[1].revents != 0) AcceptOne();
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->done()) {
        finished.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void FaultProxy::AcceptOne() {
  const int client_fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client_fd < 0) return;
  ++accepted_;
  if (refuse_new_) {
    Reset(client_fd);
    return;
  }
  ++open_;
  connections_.push_back(std::make_unique<Connection>(
      this, client_fd, blackhole_all_, release_generation_));
}

}  // namespace inventory::test_support
