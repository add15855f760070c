#!/bin/bash
# ../65-events.sh with privileged guests: each guest it builds without a mode of
# its own is built --privileged (see mode_args in ../lib.sh).
VS_TEST_PRIVILEGED=1 exec bash "$(dirname "$0")/../65-events.sh"
