#!/bin/bash
# ../58-net-spoof.sh with privileged guests: each guest it builds without a
# mode of its own is built --privileged (see mode_args in ../lib.sh).
VS_TEST_PRIVILEGED=1 exec bash "$(dirname "$0")/../58-net-spoof.sh"
