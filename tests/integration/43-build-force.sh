#!/bin/bash
# vs-build --force replaces a guest only once the new one is complete: a
# rebuild that fails, even after the new tree is in place, leaves the old
# guest as it was (its files, its config), and it still starts.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vsf-one)
check "build a guest" -- build_minimal $g
echo kept >"$VS_GUESTDIR/$g/rootfs/marker"
conf=$(cat "$VS_CONFDIR/$g.conf")

# A failure early in the build (the template refuses).
out=$(vs-build $g --template minimal --force --hostname -bad- 2>&1)
ok $(($? == 0)) "a rebuild with a bad template option fails"
is "$(cat "$VS_GUESTDIR/$g/rootfs/marker" 2>&1)" kept "the old guest's files are kept"

# A failure at the very end, after the new tree took the old one's place: the
# config cannot be written (a read-only bind mount on it, in the build's own
# mount namespace).
out=$(unshare -m --propagation private sh -c 'mount --bind -o ro "$1" "$1" && exec vs-build "$2" --template minimal --force' \
        sh "$VS_CONFDIR/$g.conf" $g 2>&1)
ok $(($? == 0)) "a rebuild whose config cannot be written fails"
like "$out" "Cannot write .*$g.conf" "and says why"
is "$(cat "$VS_GUESTDIR/$g/rootfs/marker" 2>&1)" kept "the old guest's files are back in place"
is "$(cat "$VS_CONFDIR/$g.conf")" "$conf" "its config is unchanged"
is "$(ls -A "$VS_GUESTDIR" | grep -v "^$g\$" | tr '\n' ' ')" "" "no build or old tree is left beside it"
check "the old guest starts" -- vs-start $g
like "$(vs-status $g)" "^$g: running" "and runs"
check "vs-stop" -- vs-stop $g

# A rebuild that works replaces it.
check "vs-build --force" -- vs-build $g --template minimal --force
ok $([ ! -e "$VS_GUESTDIR/$g/rootfs/marker" ]; echo $?) "the new guest has no marker"
is "$(ls -A "$VS_GUESTDIR" | grep -v "^$g\$" | tr '\n' ' ')" "" "the old tree is gone"
check "the new guest starts" -- vs-start $g
check "vs-stop" -- vs-stop $g
check_no_leftovers $g
done_testing
