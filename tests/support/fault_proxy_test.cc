// The fault proxy against a small request/response server of the test's
// own, on loopback sockets: each fault does what fault_proxy.h promises,
// seen from both ends. Every wait is bounded; absences (no answer, no
// close) are checked over a short window.
#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace inventory::test_support {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(10);
// How long a test watches for something that must not happen.
constexpr absl::Duration kQuietWindow = absl::Milliseconds(300);
constexpr size_t kBigAnswer = 100000;

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

// The server behind the proxy: answers each chunk it reads with
// "echo:<chunk>", or with kBigAnswer bytes when the chunk starts with
// "big", and records what it read and how many connections ended.
class AnswerServer {
 public:
  AnswerServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = Loopback(0);
    socklen_t length = sizeof(address);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&address),
                   sizeof(address)),
              0);
    EXPECT_EQ(listen(listen_fd_, 16), 0);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~AnswerServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      absl::MutexLock lock(&mu_);
      for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : handlers_) t.join();
    for (int fd : fds_) close(fd);
    close(listen_fd_);
  }

  int port() const { return port_; }

  // Everything read so far, over all connections.
  std::string received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  bool WaitReceived(absl::string_view bytes) {
    absl::MutexLock lock(&mu_);
    auto has = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return absl::StrContains(received_, bytes);
    };
    return mu_.AwaitWithTimeout(absl::Condition(&has), kTimeout);
  }
  // Waits until `n` connections have ended (EOF or reset); false on
  // timeout.
  bool WaitEnded(int n, absl::Duration timeout = kTimeout) {
    absl::MutexLock lock(&mu_);
    auto ended = [&]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ended_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&ended), timeout);
  }
  int ended() {
    absl::MutexLock lock(&mu_);
    return ended_;
  }

 private:
  void Accept() {
    for (;;) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      absl::MutexLock lock(&mu_);
      fds_.push_back(fd);
      handlers_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  void Serve(int fd) {
    std::string buffer(4096, '\0');
    for (;;) {
      const ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      const std::string chunk(buffer.data(), n);
      {
        absl::MutexLock lock(&mu_);
        received_ += chunk;
      }
      const std::string answer = absl::StartsWith(chunk, "big")
                                     ? std::string(kBigAnswer, 'x')
                                     : "echo:" + chunk;
      if (send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) break;
    }
    absl::MutexLock lock(&mu_);
    ++ended_;
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> handlers_ ABSL_GUARDED_BY(mu_);
  std::string received_ ABSL_GUARDED_BY(mu_);
  int ended_ ABSL_GUARDED_BY(mu_) = 0;
};

// A client connection to the proxy.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in address = Loopback(port);
    connected_ = connect(fd_, reinterpret_cast<const sockaddr*>(&address),
                         sizeof(address)) == 0;
  }
  ~Client() { close(fd_); }

  bool connected() const { return connected_; }
  bool Send(absl::string_view data) {
    return send(fd_, data.data(), data.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(data.size());
  }

  // What Read() saw.
  struct Result {
    std::string data;
    bool closed = false;  // EOF or reset
    bool reset = false;   // ECONNRESET
  };
  // Reads until `want` bytes arrived, the connection closed, or `timeout`
  // passed without any byte.
  Result Read(size_t want, absl::Duration timeout = kTimeout) {
    Result result;
    std::string buffer(65536, '\0');
    while (result.data.size() < want) {
      pollfd fd{fd_, POLLIN, 0};
      if (poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <=
          0) {
        break;
      }
      const ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
      if (n <= 0) {
        result.closed = true;
        result.reset = n < 0 && errno == ECONNRESET;
        break;
      }
      result.data.append(buffer.data(), n);
    }
    return result;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto proxy = FaultProxy::Start(server_.port());
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
  }

  AnswerServer server_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(FaultProxyTest, ForwardsBothWaysAndCountsConnections) {
  Client a(proxy_->port());
  Client b(proxy_->port());
  ASSERT_TRUE(a.connected() && b.connected());
  ASSERT_TRUE(a.Send("one"));
  ASSERT_TRUE(b.Send("two"));
  EXPECT_EQ(a.Read(8).data, "echo:one");
  EXPECT_EQ(b.Read(8).data, "echo:two");
  EXPECT_TRUE(proxy_->WaitForConnections(2, kTimeout));
  EXPECT_EQ(proxy_->connections_accepted(), 2);
  EXPECT_EQ(proxy_->connections_open(), 2);
  EXPECT_EQ(proxy_->faults_fired(), 0);
}

TEST_F(FaultProxyTest, CutAfterDeliversTheRequestAndLosesTheAnswer) {
  proxy_->CutAfter("append");
  Client client(proxy_->port());
  ASSERT_TRUE(client.Send("please append this"));
  const Client::Result result = client.Read(1);
  EXPECT_TRUE(result.closed);
  EXPECT_TRUE(result.reset);
  EXPECT_EQ(result.data, "");
  EXPECT_TRUE(absl::StrContains(server_.received(), "please append this"));
  EXPECT_TRUE(server_.WaitEnded(1));
  EXPECT_EQ(proxy_->faults_fired(), 1);
  // One shot: the next connection is forwarded untouched.
  Client next(proxy_->port());
  ASSERT_TRUE(next.Send("append again"));
  EXPECT_EQ(next.Read(17).data, "echo:append again");
  EXPECT_EQ(proxy_->faults_fired(), 1);
}

TEST_F(FaultProxyTest, CutBeforeNeverDeliversTheRequest) {
  proxy_->CutBefore("secret");
  Client client(proxy_->port());
  ASSERT_TRUE(client.Send("harmless"));
  EXPECT_EQ(client.Read(13).data, "echo:harmless");
  ASSERT_TRUE(client.Send("the secret"));
  const Client::Result result = client.Read(1);
  EXPECT_TRUE(result.closed);
  EXPECT_TRUE(result.reset);
  EXPECT_TRUE(server_.WaitEnded(1));
  EXPECT_FALSE(absl::StrContains(server_.received(), "secret"));
  EXPECT_EQ(server_.received(), "harmless");
}

TEST_F(FaultProxyTest, MatchesAPatternSplitAcrossTwoChunks) {
  proxy_->CutBefore("append_events");
  Client client(proxy_->port());
  ASSERT_TRUE(client.Send("xx app"));
  // The server reads the first part on its own: the proxy saw two chunks.
  ASSERT_TRUE(server_.WaitReceived("xx app"));
  EXPECT_EQ(client.Read(11).data, "echo:xx app");
  ASSERT_TRUE(client.Send("end_events"));
  EXPECT_TRUE(client.Read(1).closed);
  EXPECT_EQ(proxy_->faults_fired(), 1);
  EXPECT_EQ(server_.received(), "xx app");
}

TEST_F(FaultProxyTest, NTimesFiresOnNChunksOnly) {
  proxy_->CutAfter("go", /*times=*/2);
  for (int i = 0; i < 2; ++i) {
    Client client(proxy_->port());
    ASSERT_TRUE(client.Send("go"));
    EXPECT_TRUE(client.Read(1).closed) << i;
  }
  Client third(proxy_->port());
  ASSERT_TRUE(third.Send("go"));
  EXPECT_EQ(third.Read(7).data, "echo:go");
  EXPECT_EQ(proxy_->faults_fired(), 2);
}

TEST_F(FaultProxyTest, CutResponseForwardsExactlyKBytes) {
  constexpr size_t kBytes = 12345;
  proxy_->CutResponse("big", kBytes);
  Client client(proxy_->port());
  ASSERT_TRUE(client.Send("big please"));
  const Client::Result result = client.Read(kBigAnswer);
  EXPECT_EQ(result.data.size(), kBytes);
  EXPECT_EQ(result.data, std::string(kBytes, 'x'));
  EXPECT_TRUE(result.closed);
  EXPECT_TRUE(server_.WaitEnded(1));
}

TEST_F(FaultProxyTest, BlackholeKeepsBothSidesOpenUntilReleased) {
  proxy_->Blackhole("ping", FaultProxy::Point::kAfterResponse);
  Client client(proxy_->port());
  ASSERT_TRUE(client.Send("ping"));
  EXPECT_EQ(client.Read(9).data, "echo:ping");
  ASSERT_TRUE(proxy_->WaitForFaults(1, kTimeout));
  ASSERT_TRUE(client.Send("are you there"));
  const Client::Result silent = client.Read(1, kQuietWindow);
  EXPECT_EQ(silent.data, "");
  EXPECT_FALSE(silent.closed);
  EXPECT_FALSE(server_.WaitEnded(1, kQuietWindow));
  EXPECT_EQ(server_.received(), "ping");

  proxy_->Release();
  EXPECT_TRUE(client.Read(1).closed);
  EXPECT_TRUE(server_.WaitEnded(1));
}

TEST_F(FaultProxyTest, BlackholeAtResponseLetsTheServerExecute) {
  proxy_->Blackhole("work", FaultProxy::Point::kAtResponse);
  Client client(proxy_->port());
  ASSERT_TRUE(client.Send("work"));
  ASSERT_TRUE(server_.WaitReceived("work"));
  const Client::Result silent = client.Read(1, kQuietWindow);
  EXPECT_EQ(silent.data, "");
  EXPECT_FALSE(silent.closed);
}

TEST_F(FaultProxyTest, BlackholeAllHoldsOpenAndNewConnections) {
  Client before(proxy_->port());
  ASSERT_TRUE(before.Send("a"));
  EXPECT_EQ(before.Read(6).data, "echo:a");
  proxy_->BlackholeAll();
  Client during(proxy_->port());
  ASSERT_TRUE(during.connected());
  ASSERT_TRUE(proxy_->WaitForConnections(2, kTimeout));
  ASSERT_TRUE(before.Send("b"));
  ASSERT_TRUE(during.Send("c"));
  EXPECT_EQ(before.Read(1, kQuietWindow).data, "");
  const Client::Result held = during.Read(1, kQuietWindow);
  EXPECT_EQ(held.data, "");
  EXPECT_FALSE(held.closed);
  EXPECT_EQ(server_.received(), "a");

  proxy_->Release();
  EXPECT_TRUE(before.Read(1).closed);
  EXPECT_TRUE(during.Read(1).closed);
  Client after(proxy_->port());
  ASSERT_TRUE(after.Send("d"));
  EXPECT_EQ(after.Read(6).data, "echo:d");
}

TEST_F(FaultProxyTest, RefusedConnectionsAreResetAndCounted) {
  proxy_->RefuseNewConnections(true);
  Client refused(proxy_->port());
  refused.Send("x");
  EXPECT_TRUE(refused.Read(1).closed);
  EXPECT_EQ(proxy_->connections_accepted(), 1);
  EXPECT_EQ(proxy_->connections_open(), 0);
  EXPECT_EQ(server_.received(), "");
  proxy_->RefuseNewConnections(false);
  Client accepted(proxy_->port());
  ASSERT_TRUE(accepted.Send("y"));
  EXPECT_EQ(accepted.Read(6).data, "echo:y");
}

TEST_F(FaultProxyTest, DelayAddsLatencyToEveryChunk) {
  constexpr absl::Duration kDelay = absl::Milliseconds(150);
  proxy_->SetDelay(kDelay);
  Client client(proxy_->port());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(client.Send("slow"));
  EXPECT_EQ(client.Read(9).data, "echo:slow");
  // One chunk each way.
  EXPECT_GE(absl::Now() - start, 2 * kDelay);
  proxy_->SetDelay(absl::ZeroDuration());
}

TEST_F(FaultProxyTest, HoldForwardsOnlyAfterResume) {
  proxy_->Hold("wait");
  Client held(proxy_->port());
  ASSERT_TRUE(held.Send("wait for me"));
  ASSERT_TRUE(proxy_->WaitForFaults(1, kTimeout));
  EXPECT_EQ(held.Read(1, kQuietWindow).data, "");
  EXPECT_EQ(server_.received(), "");
  // Other connections keep flowing meanwhile.
  Client other(proxy_->port());
  ASSERT_TRUE(other.Send("hi"));
  EXPECT_EQ(other.Read(7).data, "echo:hi");
  proxy_->ResumeHeld();
  EXPECT_EQ(held.Read(16).data, "echo:wait for me");
}

TEST_F(FaultProxyTest, WatchCountsWithoutDisturbing) {
  proxy_->Watch("LISTEN");
  EXPECT_FALSE(proxy_->WaitForFaults(1, absl::Milliseconds(50)));
  Client client(proxy_->port());
  ASSERT_TRUE(client.Send("LISTEN here"));
  EXPECT_EQ(client.Read(16).data, "echo:LISTEN here");
  EXPECT_TRUE(proxy_->WaitForFaults(1, kTimeout));
}

TEST_F(FaultProxyTest, DisarmDropsArmedFaults) {
  proxy_->CutBefore("x");
  proxy_->Disarm();
  Client client(proxy_->port());
  ASSERT_TRUE(client.Send("x"));
  EXPECT_EQ(client.Read(6).data, "echo:x");
  EXPECT_EQ(proxy_->faults_fired(), 0);
}

TEST(FaultProxyStatic, ExecutionOfIsTheBindMessagesStatementName) {
  EXPECT_EQ(FaultProxy::ExecutionOf("read_all"),
            std::string("\0read_all\0\0", 11));
}

TEST(FaultProxyStatic, RedirectReplacesTheTargetPortOnly) {
  auto proxy = FaultProxy::Start(5432);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto url = (*proxy)->Redirect("postgresql://postgres@127.0.0.1:5432/db_1");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(*url, "postgresql://postgres@127.0.0.1:" +
                      std::to_string((*proxy)->port()) + "/db_1");
  EXPECT_FALSE((*proxy)->Redirect("postgresql://postgres@db:5432/x").ok());
}

}  // namespace
}  // namespace inventory::test_support
