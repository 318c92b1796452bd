#!/usr/bin/env python3
"""One CTest test per case of a GoogleTest binary that runs all its cases in
one process (one server for all, as bad_input_test does).

    gtest_case_result.py run <results.json> <binary> [args...]
        Runs the binary once, writing GoogleTest's JSON report. Exits 0 when
        the report was written and names a verdict for every case (the
        verdicts themselves are for the case tests below), 1 otherwise, or
        when the binary failed while no case did (a crash after the
        cases, a failed global set-up).

    gtest_case_result.py case <results.json> <binary> --gtest_filter=<name>
        The verdict of that case from the report: 0 passed, 1 failed (its
        failure messages printed), 1 skipped or missing. gtest_discover_tests
        puts it in front of the binary (the target's CROSSCOMPILING_EMULATOR),
        so it is also called to list the cases (--gtest_list_tests): then it
        runs the binary for that.
"""
import json
import os
import subprocess
import sys


def cases(report):
    for suite in report.get("testsuites", []):
        for case in suite.get("testsuite", []):
            yield "%s.%s" % (suite["name"], case["name"]), case


def run(results, command):
    if os.path.exists(results):
        os.remove(results)
    status = subprocess.call(command + ["--gtest_output=json:" + results])
    if not os.path.exists(results):
        print("no report written (exit status %d)" % status)
        return 1
    with open(results) as f:
        report = json.load(f)
    failed = [name for name, case in cases(report) if case.get("failures")]
    # 77: a case skipped and none failed (postgres_test_main.cc); the
    # skipped case's own test reports it.
    if status not in (0, 77) and not failed:
        print("the binary failed (exit status %d) but no case did" % status)
        return 1
    print("%d cases, %d failed: each is reported as a test of its own"
          % (sum(1 for _ in cases(report)), len(failed)))
    return 0


def verdict(results, command):
    if "--gtest_list_tests" in command:
        return subprocess.call(command)
    names = [a.split("=", 1)[1] for a in command if
             a.startswith("--gtest_filter=")]
    if len(names) != 1:
        print("need exactly one --gtest_filter=<name>")
        return 1
    if not os.path.exists(results):
        print("no report at %s: the run test did not run" % results)
        return 1
    with open(results) as f:
        report = json.load(f)
    for name, case in cases(report):
        if name != names[0]:
            continue
        for failure in case.get("failures", []):
            print(failure.get("failure", ""))
        if case.get("failures"):
            return 1
        if case.get("result") != "COMPLETED" or case.get("status") != "RUN":
            print("%s did not run: %s" % (name, case.get("result")))
            return 1
        print("%s passed in %s" % (name, case.get("time")))
        return 0
    print("%s is not in the report" % names[0])
    return 1


def main(argv):
    if len(argv) < 4 or argv[1] not in ("run", "case"):
        print(__doc__)
        return 2
    action = run if argv[1] == "run" else verdict
    return action(argv[2], argv[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
