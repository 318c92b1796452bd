#include "common/base/uuid.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Checks the canonical lowercase version-4 form; returns "" when `uuid`
// has it, otherwise what is wrong.
std::string FormatProblem(const std::string& uuid) {
  if (uuid.size() != 36u) return "length is not 36";
  for (size_t i = 0; i < uuid.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position) {
      if (uuid[i] != '-') return "no dash at " + std::to_string(i);
    } else if (!IsLowerHex(uuid[i])) {
      return "not lowercase hex at " + std::to_string(i);
    }
  }
  if (uuid[14] != '4') return "version nibble is not 4";
  const char variant = uuid[19];
  if (variant != '8' && variant != '9' && variant != 'a' && variant != 'b') {
    return "variant nibble is not one of 89ab";
  }
  return "";
}

TEST(NewUuidTest, HasCanonicalForm) {
  const std::string uuid = NewUuid();
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid[8], '-');
  EXPECT_EQ(uuid[13], '-');
  EXPECT_EQ(uuid[18], '-');
  EXPECT_EQ(uuid[23], '-');
  EXPECT_EQ(uuid[14], '4');
  EXPECT_THAT(std::string(1, uuid[19]), testing::MatchesRegex("[89ab]"));
  EXPECT_THAT(uuid,
              testing::MatchesRegex(
                  "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                  "[0-9a-f]{12}"));
}

TEST(NewUuidTest, ManyValuesHaveCanonicalFormAndAreDistinct) {
  constexpr int kCount = 10000;
  absl::flat_hash_set<std::string> seen;
  seen.reserve(kCount);
  for (int i = 0; i < kCount; ++i) {
    const std::string uuid = NewUuid();
    const std::string problem = FormatProblem(uuid);
    ASSERT_EQ(problem, "") << uuid;
    EXPECT_TRUE(seen.insert(uuid).second) << "duplicate " << uuid;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kCount));
}

TEST(NewUuidTest, VariantNibbleTakesAllFourValues) {
  absl::flat_hash_set<char> variants;
  for (int i = 0; i < 1000; ++i) variants.insert(NewUuid()[19]);
  EXPECT_THAT(variants, testing::UnorderedElementsAre('8', '9', 'a', 'b'));
}

TEST(NewUuidTest, ConcurrentGenerationYieldsDistinctValues) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2500;
  std::vector<std::vector<std::string>> results(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&results, t] {
      results[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) results[t].push_back(NewUuid());
    });
  }
  for (std::thread& thread : threads) thread.join();

  absl::flat_hash_set<std::string> seen;
  for (const std::vector<std::string>& batch : results) {
    ASSERT_EQ(batch.size(), static_cast<size_t>(kPerThread));
    for (const std::string& uuid : batch) {
      EXPECT_EQ(FormatProblem(uuid), "") << uuid;
      EXPECT_TRUE(seen.insert(uuid).second) << "duplicate " << uuid;
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace inventory
