#include "common/eventstore/postgres/postgres_connection_pool.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

TEST(WithConnectTimeoutTest, AddsTheTimeoutToAUri) {
  EXPECT_EQ(WithConnectTimeout("postgresql://u@h:5432/db", absl::Seconds(10)),
            "postgresql://u@h:5432/db?connect_timeout=10");
  EXPECT_EQ(
      WithConnectTimeout("postgres://h/db?sslmode=require", absl::Seconds(3)),
      "postgres://h/db?sslmode=require&connect_timeout=3");
}

TEST(WithConnectTimeoutTest, AddsTheTimeoutToAKeywordString) {
  EXPECT_EQ(WithConnectTimeout("host=h dbname=db", absl::Seconds(4)),
            "host=h dbname=db connect_timeout=4");
  EXPECT_EQ(WithConnectTimeout("", absl::Seconds(4)), "connect_timeout=4");
}

TEST(WithConnectTimeoutTest, RoundsUpToWholeSecondsOfAtLeastTwo) {
  EXPECT_EQ(WithConnectTimeout("host=h", absl::Milliseconds(300)),
            "host=h connect_timeout=2");
  EXPECT_EQ(WithConnectTimeout("host=h", absl::Milliseconds(4200)),
            "host=h connect_timeout=5");
}

TEST(WithConnectTimeoutTest, KeepsATimeoutTheUrlSets) {
  EXPECT_EQ(WithConnectTimeout("postgresql://h/db?connect_timeout=30",
                               absl::Seconds(2)),
            "postgresql://h/db?connect_timeout=30");
}

TEST(WithKeepalivesTest, AddsKeepalivesInTheUrlsOwnSyntax) {
  EXPECT_EQ(WithKeepalives("postgresql://h/db", absl::Seconds(10)),
            "postgresql://h/db?keepalives=1&keepalives_idle=10&"
            "keepalives_interval=5&keepalives_count=3");
  EXPECT_EQ(WithKeepalives("postgresql://h/db?sslmode=require",
                           absl::Milliseconds(1500)),
            "postgresql://h/db?sslmode=require&keepalives=1&keepalives_idle=2&"
            "keepalives_interval=1&keepalives_count=3");
  EXPECT_EQ(WithKeepalives("host=h", absl::Seconds(4)),
            "host=h keepalives=1 keepalives_idle=4 keepalives_interval=2 "
            "keepalives_count=3");
}

TEST(WithKeepalivesTest, KeepsKeepalivesTheUrlSets) {
  EXPECT_EQ(WithKeepalives("host=h keepalives=0", absl::Seconds(4)),
            "host=h keepalives=0");
}

}  // namespace
}  // namespace inventory
