// The shared main() of test binaries that need PostgreSQL: it starts one
// throwaway server (postgres_server.h) before any test runs and stops it
// after the last. Link postgres_test_main.cc instead of gtest_main.
#ifndef INVENTORY_TESTS_SUPPORT_POSTGRES_TEST_MAIN_H_
#define INVENTORY_TESTS_SUPPORT_POSTGRES_TEST_MAIN_H_

#include "tests/support/postgres_server.h"

namespace inventory::test_support {

// The server of this test binary; valid while tests run.
PostgresServer& TestPostgres();

}  // namespace inventory::test_support

#endif  // INVENTORY_TESTS_SUPPORT_POSTGRES_TEST_MAIN_H_
