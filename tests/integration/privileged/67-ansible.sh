#!/bin/bash
# ../67-ansible.sh with privileged guests: the module builds them with
# privileged: true (see mode_args in ../lib.sh).
VS_TEST_PRIVILEGED=1 exec bash "$(dirname "$0")/../67-ansible.sh"
