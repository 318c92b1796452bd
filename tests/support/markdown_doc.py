#!/usr/bin/env python3
"""Checks that keep the project's markdown true (used by tests/docs_test.sh).

  markdown_doc.py steps DOC OUT_DIR REPLACEMENTS [--every-shell-block]
      Writes each hands-on step of DOC as OUT_DIR/NNN.sh, with its expected
      output (NNN.expected), what it should exit with (NNN.exit: "0" or
      "nonzero"), where it is (NNN.where: "file:line") and how its JSON
      output names fields (NNN.names: "proto" for a step that calls
      `grpcurl`, "json" otherwise). Prints the number of steps; reports
      each block marked not-run, with its reason, on stderr. With
      --every-shell-block, a shell block (sh, bash, shell) that is neither a
      step nor marked not-run is an error.
  markdown_doc.py compare STEP_PREFIX REPLACEMENTS
      Compares STEP_PREFIX.out (what the step printed) with
      STEP_PREFIX.expected; exits 1 with a diff when they differ.
  markdown_doc.py links FILE...
      Every relative link of every FILE must point at an existing file or
      folder; a `code span` in the link text must occur in the target file;
      a #fragment of a markdown target must name one of its headings. In a
      paragraph, list item or table row that links to test files, a test
      name in `code` (CamelCase) must occur in one of those files.
  markdown_doc.py flags REFERENCE HELP_FILE...
      Every --flag and [env VAR] in the --help texts must appear in the
      configuration reference (docs/configuration.md) as `--flag` and `VAR`.

The markdown conventions (see the end of docs/tutorial.md):

  ```sh title="tutorial-step"            a step; it must exit 0
  ```sh title="tutorial-step" exit="nonzero"   a step that must fail
  ```text title="expected"               the output of the step before it:
                                         stdout and stderr together
  ```sh title="not-run" reason="..."     shown, never run; the reason says
                                         why (needs Docker, another host...)

Steps run in order in one bash shell from the repository root, as a reader
would type them. REPLACEMENTS ("50051=41234,/tmp/x=/tmp/y,...") replaces
documented ports and paths in the steps with the test's own, and the other
way round in what the steps print. Before comparing, both sides
have timestamps and UUIDs replaced by placeholders and trailing blanks
removed. An expected line that is exactly "..." matches any number of
lines; one that ends in "..." matches any line starting with what precedes
it.

Field names: a real grpcurl prints the proto's field names ("item_id"), and
that is what the docs show for a `grpcurl` command; `buf curl`, which
stands in for grpcurl in the test (grpcurl is not packaged for Debian),
prints the JSON names ("itemId"). So the object keys in the JSON output of
a step that calls `grpcurl` are turned back from lowerCamelCase into
snake_case before comparing (keys only, never string values; safe because
no field of the API has a digit or an upper-case letter in its name). A
step that calls `buf curl` itself is compared as it prints, JSON names.
"""

import difflib
import json
import os
import re
import sys

FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')


def fenced_blocks(path):
    """Yields (line number, info attributes, body, language) of each fenced
    block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i].strip())
        if not match:
            i += 1
            continue
        fence, info = match.group(1), match.group(2)
        start = i + 1
        i += 1
        body = []
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        language = info.split()[0] if info.split() else ""
        yield start, dict(ATTRIBUTE.findall(info)), "\n".join(body), language


def parse_replacements(text):
    pairs = [p.split("=", 1) for p in text.split(",") if p]
    return [(doc, real) for doc, real in pairs]


def substitute(text, replacements, reverse=False):
    for doc, real in replacements:
        old, new = (real, doc) if reverse else (doc, real)
        text = re.sub(r"(?<!\d)" + re.escape(old) + r"(?!\d)", new, text)
    return text


SHELL_LANGUAGES = ("sh", "bash", "shell")
CALLS_GRPCURL = re.compile(r"(^|[\s;&|(`])grpcurl\s")


def command_steps(doc, out_dir, replacements_text, every_shell_block=False):
    replacements = parse_replacements(replacements_text)
    os.makedirs(out_dir, exist_ok=True)
    count = 0
    last = None
    for line, attributes, body, language in fenced_blocks(doc):
        title = attributes.get("title")
        where = "%s:%d" % (doc, line)
        if title == "tutorial-step":
            count += 1
            last = os.path.join(out_dir, "%03d" % count)
            with open(last + ".sh", "w", encoding="utf-8") as f:
                f.write(substitute(body, replacements) + "\n")
            with open(last + ".exit", "w", encoding="utf-8") as f:
                f.write(attributes.get("exit", "0") + "\n")
            with open(last + ".where", "w", encoding="utf-8") as f:
                f.write(where + "\n")
            with open(last + ".names", "w", encoding="utf-8") as f:
                f.write(("proto" if CALLS_GRPCURL.search(body) else "json")
                        + "\n")
            with open(last + ".expected", "w", encoding="utf-8") as f:
                f.write("")
        elif title == "expected":
            if last is None:
                sys.exit("%s: expected output before any step" % where)
            with open(last + ".expected", "w", encoding="utf-8") as f:
                f.write(body + "\n")
            last = None  # one expected block per step
        elif title == "not-run":
            if not attributes.get("reason"):
                sys.exit('%s: a not-run block needs reason="..."' % where)
            sys.stderr.write("skipped %s: %s\n" % (where, attributes["reason"]))
        elif title is not None:
            sys.exit("%s: unknown block title %r" % (where, title))
        elif every_shell_block and language in SHELL_LANGUAGES:
            sys.exit('%s: a shell block must be a step (title="tutorial-step")'
                     ' or say why it is not run (title="not-run" reason="...")'
                     % where)
    if count == 0:
        sys.exit("%s: no tutorial steps found" % doc)
    print(count)


TIMESTAMPS = [
    # RFC 3339, as in JSON: 2024-05-01T10:00:00.123456Z
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"),
    # psql timestamptz: 2024-05-01 10:00:00.123456+00
    re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d(:\d\d)?"),
    # itemctl: 2024-05-01 10:00:00 UTC
    re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"),
]
UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalise(text):
    for pattern in TIMESTAMPS:
        text = pattern.sub("<time>", text)
    text = UUID.sub("<uuid>", text)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def line_matches(pattern, line):
    if pattern.endswith("..."):
        return line.startswith(pattern[:-3])
    return line == pattern


def matches(expected, actual):
    """True when `actual` lines match `expected`, where "..." is a wildcard."""
    # reachable[j]: expected[:i] can match actual[:j]
    reachable = [True] + [False] * len(actual)
    for pattern in expected:
        if pattern == "...":
            for j in range(1, len(actual) + 1):
                reachable[j] = reachable[j] or reachable[j - 1]
        else:
            reachable = [False] + [
                reachable[j] and line_matches(pattern, actual[j])
                for j in range(len(actual))
            ]
    return reachable[len(actual)]


JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:)?')


def proto_names(json_text):
    """`json_text` (one JSON document) with every object key turned from
    lowerCamelCase (protobuf's JSON name) into snake_case (the proto field
    name). A string followed by a colon is a key; string values and
    everything else are left as they are."""
    def key(match):
        if not match.group(2):
            return match.group(0)
        name = re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(),
                      match.group(1))
        return '"%s"%s' % (name, match.group(2))
    return JSON_STRING.sub(key, json_text)


def with_proto_names(text):
    """`text` with the keys of every JSON document in it (one that starts a
    line) in snake_case; other text is left as it is."""
    decoder = json.JSONDecoder()
    result = []
    i = 0
    while i < len(text):
        if text[i] in "{[" and (i == 0 or text[i - 1] == "\n"):
            try:
                _, end = decoder.raw_decode(text, i)
            except ValueError:
                end = None
            if end is not None:
                result.append(proto_names(text[i:end]))
                i = end
                continue
        result.append(text[i])
        i += 1
    return "".join(result)


def command_compare(prefix, replacements_text):
    replacements = parse_replacements(replacements_text)
    with open(prefix + ".expected", encoding="utf-8") as f:
        expected = normalise(f.read())
    with open(prefix + ".out", encoding="utf-8", errors="replace") as f:
        output = substitute(f.read(), replacements, reverse=True)
    names = "json"
    if os.path.exists(prefix + ".names"):
        with open(prefix + ".names", encoding="utf-8") as f:
            names = f.read().strip()
    if names == "proto":
        output = with_proto_names(output)
    actual = normalise(output)
    if matches(expected, actual):
        return
    sys.stdout.writelines(
        line + "\n"
        for line in difflib.unified_diff(
            expected, actual, "expected (in the markdown)", "actual", lineterm=""))
    sys.exit(1)


LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"`([^`]+)`")


def slug(heading):
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[`*_\[\]]|\(([^)]*)\)", lambda m: m.group(1) or "", heading)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path):
    result = set()
    in_fence = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if FENCE.match(line.strip()):
                in_fence = not in_fence
            elif not in_fence and line.startswith("#"):
                result.add(slug(line.lstrip("#").strip()))
    return result


def prose_lines(path):
    """(line number, text) of every line outside fenced blocks."""
    in_fence = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if FENCE.match(line.strip()):
                in_fence = not in_fence
            elif not in_fence:
                yield number, line


def symbol_parts(span, target):
    """The names a code span asks to find in `target` (none for a path)."""
    name = span.split("(")[0].strip()
    if "/" in name and target.rstrip("/").endswith(name.rstrip("/")):
        return []
    if name == os.path.basename(target):
        return []
    parts = re.split(r"::|/", name)
    return [p.lstrip("-") for p in parts if p.lstrip("-")]


def check_link(doc, number, text, target, problems):
    where = "%s:%d" % (doc, number)
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):
        return  # http:, https:, mailto:
    path, _, fragment = target.partition("#")
    resolved = (os.path.normpath(os.path.join(os.path.dirname(doc), path))
                if path else doc)
    if not os.path.exists(resolved):
        problems.append("%s: link to %s: no such file" % (where, target))
        return
    if fragment and resolved.endswith(".md") and fragment not in anchors(resolved):
        problems.append("%s: link to %s: no heading with anchor #%s"
                        % (where, target, fragment))
    spans = CODE_SPAN.findall(text)
    if not spans or os.path.isdir(resolved):
        return
    with open(resolved, encoding="utf-8", errors="replace") as f:
        content = f.read()
    for span in spans:
        for part in symbol_parts(span, path):
            pattern = r"(?<![\w])" + re.escape(part) + r"(?![\w])"
            if not re.search(pattern, content):
                problems.append("%s: link [%s] to %s: %r does not occur there"
                                % (where, text, target, part))


def prose_blocks(path):
    """(first line number, text) of each paragraph, list item and table row
    outside fenced blocks."""
    block, start = [], 0
    for number, line in prose_lines(path):
        stripped = line.strip()
        starts_new = (not stripped or stripped.startswith("|")
                      or re.match(r"^([*-]|\d+\.) ", stripped))
        if starts_new and block:
            yield start, " ".join(block)
            block = []
        if stripped:
            if not block:
                start = number
            block.append(stripped)
        if stripped.startswith("|") and block:
            yield start, " ".join(block)
            block = []
    if block:
        yield start, " ".join(block)


TEST_NAME = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+$")


def check_test_names(doc, number, block, problems):
    """A block that links to test files and names tests in `code` must name
    tests that occur in one of those files."""
    link_texts = [text for text, _ in LINK.findall(block)]
    test_files = []
    for _, target in LINK.findall(block):
        path = target.partition("#")[0]
        resolved = os.path.normpath(os.path.join(os.path.dirname(doc), path))
        if ("_test." in path or "/tests/" in path) and os.path.isfile(resolved):
            test_files.append(resolved)
    if not test_files:
        return
    contents = []
    for path in test_files:
        with open(path, encoding="utf-8", errors="replace") as f:
            contents.append(f.read())
    outside_links = LINK.sub("", block)
    for name in CODE_SPAN.findall(outside_links):
        if not TEST_NAME.match(name) or any(name in t for t in link_texts):
            continue
        pattern = r"(?<![\w])" + re.escape(name) + r"(?![\w])"
        if not any(re.search(pattern, c) for c in contents):
            problems.append("%s:%d: %r is in none of the test files linked "
                            "there" % (doc, number, name))


def command_links(files):
    problems = []
    count = 0
    for doc in files:
        for number, line in prose_lines(doc):
            for text, target in LINK.findall(line):
                count += 1
                check_link(doc, number, text, target, problems)
        for number, block in prose_blocks(doc):
            check_test_names(doc, number, block, problems)
    for problem in problems:
        print(problem)
    if problems:
        sys.exit(1)
    print("%d links checked" % count)


def command_flags(reference, help_files):
    with open(reference, encoding="utf-8") as f:
        text = f.read()
    problems = []
    for help_file in help_files:
        with open(help_file, encoding="utf-8") as f:
            help_text = f.read()
        flags = re.findall(r"^\s+--(\w+) \(", help_text, re.MULTILINE)
        envs = re.findall(r"\[env\s+(\w+)\]", help_text)
        if not flags:
            problems.append("%s: no flags found in the --help text" % help_file)
        for flag in flags:
            if "`--%s`" % flag not in text:
                problems.append("%s: --%s (%s) is not documented"
                                % (reference, flag, os.path.basename(help_file)))
        for env in envs:
            if "`%s`" % env not in text:
                problems.append("%s: env %s (%s) is not documented"
                                % (reference, env, os.path.basename(help_file)))
    for problem in problems:
        print(problem)
    if problems:
        sys.exit(1)
    print("every flag and environment variable is documented")


def main(argv):
    if len(argv) in (4, 5) and argv[0] == "steps" and (
            len(argv) == 4 or argv[4] == "--every-shell-block"):
        command_steps(argv[1], argv[2], argv[3], len(argv) == 5)
    elif len(argv) == 3 and argv[0] == "compare":
        command_compare(argv[1], argv[2])
    elif len(argv) >= 2 and argv[0] == "links":
        command_links(argv[1:])
    elif len(argv) >= 3 and argv[0] == "flags":
        command_flags(argv[1], argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
