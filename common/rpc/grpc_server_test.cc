#include "common/rpc/grpc_server.h"

#include "gtest/gtest.h"

namespace inventory {
namespace {

TEST(ClientAddressTest, DropsThePortOfAnIpv4Peer) {
  EXPECT_EQ(ClientAddress("ipv4:10.0.0.7:53211"), "ipv4:10.0.0.7");
  EXPECT_EQ(ClientAddress("ipv4:10.0.0.7:1"), ClientAddress("ipv4:10.0.0.7:2"));
}

TEST(ClientAddressTest, CountsAnIpv6PeerByItsSlash64InEitherSpelling) {
  // gRPC writes the brackets percent-encoded.
  EXPECT_EQ(ClientAddress("ipv6:%5B2001:db8:1:2:aaaa::7%5D:5000"),
            "ipv6:2001:db8:1:2::/64");
  EXPECT_EQ(ClientAddress("ipv6:[2001:db8:1:2:bbbb::9]:6000"),
            "ipv6:2001:db8:1:2::/64");
  EXPECT_EQ(ClientAddress("ipv6:%5B::1%5D:5000"), "ipv6:::/64");
  EXPECT_NE(ClientAddress("ipv6:%5B2001:db8:1:3::7%5D:5000"),
            ClientAddress("ipv6:%5B2001:db8:1:2::7%5D:5000"));
}

TEST(ClientAddressTest, AnIpv4MappedPeerIsThatIpv4Client) {
  EXPECT_EQ(ClientAddress("ipv6:%5B::ffff:10.0.0.7%5D:5000"), "ipv4:10.0.0.7");
}

TEST(ClientAddressTest, ZonesAreIgnored) {
  EXPECT_EQ(ClientAddress("ipv6:%5Bfe80::1%25eth0%5D:5000"), "ipv6:fe80::/64");
}

TEST(ClientAddressTest, AnythingElseIsTakenAsGiven) {
  EXPECT_EQ(ClientAddress("unix:/tmp/socket"), "unix:/tmp/socket");
  EXPECT_EQ(ClientAddress("ipv6:%5Bnot-an-address%5D:1"),
            "ipv6:%5Bnot-an-address%5D:1");
  EXPECT_EQ(ClientAddress(""), "");
}

}  // namespace
}  // namespace inventory
