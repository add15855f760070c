#!/bin/sh
# make check-v2's test: the cgroup v2 lane (tests/vm/run-v2), under a name
# automake's .sh test rule covers. Its log is tests/vm/check-v2.log.
exec "$(dirname "$0")/run-v2" "$@"
