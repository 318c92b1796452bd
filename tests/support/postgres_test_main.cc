#include "tests/support/postgres_test_main.h"

#include <cstdio>
#include <memory>

#include "gtest/gtest.h"

namespace inventory::test_support {
namespace {

PostgresServer* test_postgres = nullptr;

}  // namespace

PostgresServer& TestPostgres() { return *test_postgres; }

}  // namespace inventory::test_support

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Listing the tests (gtest_discover_tests, at build time) needs no server.
  if (GTEST_FLAG_GET(list_tests)) return RUN_ALL_TESTS();
  auto server = inventory::test_support::PostgresServer::Start();
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start PostgreSQL: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  inventory::test_support::test_postgres = server->get();
  const int result = RUN_ALL_TESTS();
  inventory::test_support::test_postgres = nullptr;
  // A run that skipped a case (GTEST_SKIP) and failed none exits 77, which
  // CTest reports as skipped (SKIP_RETURN_CODE, inventory_process_test in
  // tests/CMakeLists.txt) rather than as passed.
  if (result == 0 &&
      ::testing::UnitTest::GetInstance()->skipped_test_count() > 0) {
    return 77;
  }
  return result;
}
