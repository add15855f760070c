#!/bin/bash
# Bad input gets a clear error, the right exit status, and changes nothing.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

for cmd in vs-build vs-start vs-stop vs-enter vs-list vs-status vs-console vs-destroy; do
        out=$($cmd --help 2>&1)
        ok $? "$cmd --help exits 0"
        like "$out" "^Usage: $cmd" "$cmd --help prints its usage"
        $cmd --no-such-option >/dev/null 2>&1
        is $? 2 "$cmd: an unknown option exits 2"
done

long=$(printf 'a%.0s' $(seq 1 65))
for name in '' . .. ../x a/b -rf 'a b' $'a\nb' "$long" '$(id)' 'é' defaults; do
        for cmd in "vs-build --template minimal" vs-start vs-stop vs-status vs-destroy "vs-enter"; do
                out=$($cmd -- "$name" 2>&1)
                rc=$?
                is $rc 2 "$cmd refuses the name '$(printf %q "$name")' with exit 2"
        done
        like "$out" "Invalid guest name|Missing guest name" "the message says why ('$(printf %q "$name")')"
done
is "$(ls -A "$VS_CONFDIR" "$VS_GUESTDIR" | grep -v ':$' | grep -v '^$' | wc -l)" 0 "bad names created nothing"

out=$(vs-start vst-missing 2>&1)
is $? 1 "starting a missing guest exits 1"
like "$out" 'No such guest "vst-missing"' "and names it"
out=$(vs-status vst-missing 2>&1)
is $? 1 "vs-status of a missing guest exits 1"
out=$(vs-destroy vst-missing 2>&1)
like "$out" 'No such guest' "vs-destroy of a missing guest says so"

g=$(guest vst-cli)
out=$(vs-build $g --template nosuch 2>&1)
is $? 2 "an unknown template exits 2"
like "$out" 'Unknown template "nosuch"' "and names the template"
out=$(vs-build $g --template debian --release nosuch 2>&1)
is $? 2 "an unknown release exits 2"
like "$out" 'nosuch' "and names the release"
out=$(vs-build $g --init upstart 2>&1)
is $? 2 "an unknown init exits 2"
out=$(vs-build $g --template minimal --hostname 'bad_host!' 2>&1)
is $? 2 "a bad --hostname exits 2"
out=$(vs-build $g --template minimal --set guest.order=abc 2>&1)
is $? 2 "a bad --set value exits 2"
like "$out" 'guest.order' "and names the key"
out=$(vs-build $g --template minimal --set guest.nosuch=1 2>&1)
is $? 2 "an unknown --set key exits 2"
is "$(ls -A "$VS_CONFDIR" "$VS_GUESTDIR" | grep -v ':$' | grep -v '^$' | wc -l)" 0 "refused builds created nothing"

# A config with a bad key or value: the start names file, line and key and makes nothing.
check "a minimal guest builds" -- build_minimal $g
cp "$VS_CONFDIR/$g.conf" "$VST_ROOT/good.conf"
printf '[guest]\ninit = /sbin/init\nfrobnicate = yes\n' >"$VS_CONFDIR/$g.conf"
out=$(vs-start $g 2>&1)
is $? 2 "a config with an unknown key refuses to start (exit 2)"
like "$out" "$VS_CONFDIR/$g.conf:3: key \"guest.frobnicate\": unknown key" "the message names file, line and key"
printf '[guest]\norder = 1e30\n' >"$VS_CONFDIR/$g.conf"
out=$(vs-start $g 2>&1)
like "$out" "$g.conf:2: key \"guest.order\": bad value \"1e30\"" "a bad value is named with its line"
out=$(vs-list 2>&1)
ok $? "vs-list still works with a broken config beside it"
check_no_leftovers $g
cp "$VST_ROOT/good.conf" "$VS_CONFDIR/$g.conf"

# A bad fstab line names the file and line and stops the start.
printf 'tmpfs /tmp tmpfs defaults 0 0\nrelative/src /mnt none bind 0 0\n' >"$VS_CONFDIR/$g.fstab"
out=$(vs-start $g 2>&1)
is $? 2 "a bad fstab line stops the start (exit 2)"
like "$out" "$g.fstab:2: bind source \"relative/src\" must be an absolute host path" "the message names the file and the line"
check_no_leftovers $g
rm -f "$VS_CONFDIR/$g.fstab"

out=$(vs-destroy $g 2>&1)
ok $? "vs-destroy removes a stopped guest"
[ ! -e "$VS_CONFDIR/$g.conf" ] && [ ! -e "$VS_GUESTDIR/$g" ]
ok $? "config and directory are gone"
done_testing
