#!/bin/bash
# ../66-backup.sh with privileged guests: each guest it builds without a mode of
# its own is built --privileged (see mode_args in ../lib.sh).
VS_TEST_PRIVILEGED=1 exec bash "$(dirname "$0")/../66-backup.sh"
