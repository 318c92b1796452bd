// RunCommandWithInput: like RunCommand (service_process.h), but with the
// given text as the command's stdin, through a pipe, as in
// `printf 'help\nquit\n' | itemctl`. For tests of interactive programs fed
// a script.
#ifndef INVENTORY_TESTS_SUPPORT_PIPED_COMMAND_H_
#define INVENTORY_TESTS_SUPPORT_PIPED_COMMAND_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/support/service_process.h"

namespace inventory::test_support {

// Runs `argv` (argv[0] a path) to completion, bounded by `timeout` (then
// killed, and the output starts with "(timed out) "), with `input` on its
// stdin followed by end of input. Returns its exit code (128 + signal when
// killed, -1 when it could not be run) and its stdout and stderr combined
// in the order written. `input` must fit in a pipe (at least 64 KiB on
// Linux); larger input is not run (-1).
CommandOutput RunCommandWithInput(const std::vector<std::string>& argv,
                                  const std::string& input,
                                  absl::Duration timeout = absl::Seconds(60));

}  // namespace inventory::test_support

#endif  // INVENTORY_TESTS_SUPPORT_PIPED_COMMAND_H_
