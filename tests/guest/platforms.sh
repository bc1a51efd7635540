# tests/guest/platforms.sh - issue 12's filesystems on the locked box, with
# the kernel helper enforcing: an overlay over a read-only lower tree (the
# overlay-root pattern: lower on the root's ext4, upper on tmpfs), a real
# container (podman, from an image imported in a maintenance window: its
# layers are approved there, docs/platforms.md) and btrfs subvolumes (a
# loop image; inode numbers restart in each subvolume). Sourced by
# tests/guest/runner.sh in phase 1 after the attacks. Uses the runner's
# helpers (pass, fail, hl, line, as_operator, status_json) and $PW.
# shellcheck shell=bash disable=SC2154 # PW is the runner's

# shellcheck source=tests/guest/plat-lib.sh
. /usr/local/lib/hmilock-guest/plat-lib.sh
# What is made here is for operator to reach (the runner's umask is 077).
plat_umask=$(umask)
umask 022

# plat_why: the last events and hmilockd's last lines, for a FAIL line.
plat_why() {
	echo "events: $(hl events -n 3 2>&1 | line); log: $(journalctl -u hmilockd -n 4 --no-pager 2>&1 | line)"
}

# The btrfs filesystem, mounted before the window so that the window
# records what is written there; sv2 is operator's.
plat_ok=1
if ! o=$(plat_btrfs); then
	fail "btrfs: cannot make the btrfs image with subvolumes sv1, sv2: $(line <<<"$o")"
	plat_ok=0
fi

# One window installs it all, as an integrator would: a program and a
# library in the lower tree, the same in subvolume sv1 (the library first:
# inode 257, the first file of a subvolume), and the container image
# (podman import writes its layer under /var/lib/containers: recorded and
# approved by `end` like any install). Each copy has bytes of its own: its
# hash was never listed anywhere else.
if o=$(hl maintenance begin --timeout 10m --password-file "$PW" 2>&1) &&
	mkdir -p "$PL/bin" "$PL/lib" "$PL/drop" && chmod 1777 "$PL/drop" &&
	cp /usr/bin/echo "$PL/bin/ptool" && printf 'plat' >>"$PL/bin/ptool" &&
	cp "$plat_lib" "$PL/lib/libok.so" && printf 'plat' >>"$PL/lib/libok.so" &&
	{ [ $plat_ok = 0 ] || { cp "$plat_lib" "$PB/sv1/libok.so" && printf 'btr' >>"$PB/sv1/libok.so" &&
		cp /usr/bin/echo "$PB/sv1/btool" && printf 'btr' >>"$PB/sv1/btool"; }; } &&
	o=$(podman import /usr/local/lib/hmilock-guest/ctr-rootfs.tar "$PI" 2>&1) &&
	o=$(hl maintenance end --password-file "$PW" 2>&1) && [ "$(status_json mode)" = enforce ]; then
	pass "platforms: one window installed the overlay's lower tree, sv1's files and the image $PI: back in enforce ($(tail -1 <<<"$o" | line))"
else
	fail "platforms: the window: $(line <<<"$o"); mode $(status_json mode)"
fi

# --- a fresh mount is never held: podman's feature checks --------------------
# podman (and containers/storage) probe overlay at start: mount, a look,
# umount, with no retry; an umount that fails (EBUSY: someone holds the
# mount) leaves the mount behind, and every maintenance window after that
# refuses to open over an overlay it cannot record. hmilockd marks a new
# mount (a moment's hold, unavoidable) and asks the helper about a type it
# does not know yet only through a mount that is a second old. After a
# restart it knows no overlay (none is mounted), so the probes below are
# the first overlays it sees.
PP=/run/plat-probe
o=$(findmnt -rn -t overlay -o TARGET | paste -sd' ' -)
if [ -n "$o" ]; then
	fail "probe: overlays mounted before the probes (a feature check left behind?): $(line <<<"$o")"
elif ! systemctl restart hmilockd.service || [ "$(status_json mode)" != enforce ]; then
	fail "probe: hmilockd restart: $(systemctl is-active hmilockd.service), mode $(status_json mode); $(plat_why)"
else
	t0=$(date +%s)
	bad=
	for i in 1 2 3 4 5 6 7 8; do
		if ! o=$(mkdir -p "$PP/l$i" "$PP/u$i" "$PP/w$i" "$PP/m$i" 2>&1 &&
			mount -t overlay plat-probe -o "lowerdir=$PP/l$i,upperdir=$PP/u$i,workdir=$PP/w$i" "$PP/m$i" 2>&1); then
			bad+=" m$i: mount: $o"
		elif ! o=$(umount "$PP/m$i" 2>&1); then
			bad+=" m$i: umount: $o"
			umount -l "$PP/m$i"
		fi
	done
	sleep 3
	j=$(journalctl -u hmilockd --since "@$t0" --no-pager 2>&1)
	seen=$(grep -c "new mount $PP/m[0-9] (overlay) marked" <<<"$j")
	if [ -z "$bad" ] && ! grep -q "asked about overlay filesystems" <<<"$j"; then
		pass "probe: 8 overlays mounted and at once unmounted, as podman probes, after a restart of hmilockd: every umount succeeded, none was opened to ask about its type (hmilockd marked $seen of them)"
	else
		fail "probe: mount and at once umount of an overlay:${bad:- all unmounted}; $(grep 'asked about' <<<"$j" | line)"
	fi
fi
rm -rf "$PP"

# --- overlayfs: a read-only lower tree with a tmpfs upper ---------------------
if ! o=$(plat_ovl_mount); then
	fail "overlay: cannot mount the overlay at $PO: $(line <<<"$o")"
fi
o=$(as_operator "$PO/bin/ptool ovl-ok")
if [ "$o" = ovl-ok ]; then
	pass "overlay: the approved lower file runs through the overlay as operator ($PO/bin/ptool)"
else
	fail "overlay: the approved lower file through the overlay: $(line <<<"$o"); $(plat_why)"
fi
sleep 2
o=$(journalctl -u hmilockd --no-pager 2>&1 | grep "asked about overlay filesystems through $PO " | tail -1)
if grep -qE "mounted (1\.[0-9]|[2-9]\.[0-9]) s before\): known file identity" <<<"$o"; then
	pass "overlay: hmilockd asked the helper about overlay through $PO once it was a second old, not at once (${o#*asked about })"
else
	fail "overlay: hmilockd's question about overlay through $PO: '$(line <<<"$o")'"
fi
o=$(plat_py_load "$PO/lib/libok.so")
if [ "$o" = loaded ]; then
	pass "overlay: the approved library maps executable through the overlay (ctypes)"
else
	fail "overlay: the approved library through the overlay: $(line <<<"$o")"
fi
o=$(as_operator "cp /usr/bin/true $PO/drop/t && $PO/drop/t; echo rc=\$?")
o2=$(as_operator "cp $plat_lib $PO/drop/l.so && printf d >>$PO/drop/l.so" &&
	plat_py_load "$PO/drop/l.so")
if grep -q 'rc=126' <<<"$o" && [ -e "$PU/u/drop/t" ] && [ -n "$o2" ] && [ "$o2" != loaded ]; then
	pass "overlay: files operator drops in the upper layer are denied: exec (126) and mmap ($(line <<<"$o2"))"
else
	fail "overlay: dropped in the upper layer: exec: $(line <<<"$o"); mmap: $(line <<<"$o2")"
fi
o=$( (printf x >>"$PO/bin/ptool") 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ "$(as_operator "$PO/bin/ptool w")" = w ]; then
	pass "overlay: root cannot change the approved file through the overlay while locked ($(line <<<"$o"))"
else
	fail "overlay: root's write through the overlay to the approved file: $(line <<<"$o")"
fi
# Copied up and changed in the upper layer (as on a box whose upper layer
# was written offline): denied until it is approved again.
if o=$(plat_upper_change); then
	o=$(as_operator "$PO/bin/ptool x; echo rc=\$?")
	if grep -q 'rc=126' <<<"$o"; then
		pass "overlay: the file changed in the upper layer is denied (126)"
	else
		fail "overlay: the file changed in the upper layer: $(line <<<"$o")"
	fi
	if o=$(hl maintenance begin --timeout 10m --password-file "$PW" 2>&1) &&
		o=$(hl add "$PO/bin/ptool" 2>&1) && o=$(hl reload 2>&1) &&
		o=$(hl maintenance end --password-file "$PW" 2>&1) &&
		o=$(as_operator "$PO/bin/ptool again") && [ "$o" = again ]; then
		pass "overlay: once approved again (hmilock add in a window), the changed file runs"
	else
		fail "overlay: approving the changed file again: $(line <<<"$o"); $(plat_why)"
	fi
else
	fail "overlay: cannot change the upper layer offline: $(line <<<"$o")"
fi
umount "$PO" 2>/dev/null
umount "$PU" 2>/dev/null

# --- a container (podman, overlay storage on the root's ext4) -----------------
o=$(podman run --rm --network=none "$PI" /bin/busybox echo ctr-ok 2>&1)
if [ "$o" = ctr-ok ]; then
	pass "container: podman runs the image approved in the window ($PI: /bin/busybox)"
else
	fail "container: podman run of the approved image: $(line <<<"$o"); $(plat_why)"
fi
# (the shell is busybox's applet: no exec; /bb2 is one)
o=$(podman run --rm --network=none "$PI" /bin/busybox sh -c \
	'/bin/busybox cp /bin/busybox /bb2 && /bb2 echo ran; echo rc=$?' 2>&1)
if grep -q 'rc=126' <<<"$o" && ! grep -q '^ran' <<<"$o"; then
	pass "container: a program dropped in the container's upper layer is denied (126)"
else
	fail "container: dropped in the container: $(line <<<"$o")"
fi
podman rm -f plat-c1 >/dev/null 2>&1
if o=$(podman create --name plat-c1 --network=none "$PI" /bin/busybox echo c1-ok 2>&1) &&
	o=$(podman start -a plat-c1 2>&1) && [ "$o" = c1-ok ] &&
	up=$(podman inspect plat-c1 --format '{{.GraphDriver.Data.UpperDir}}' 2>&1) && [ -d "$up" ] &&
	mkdir -p "$up/bin" && cp /usr/local/lib/hmilock-guest/busybox "$up/bin/busybox" &&
	printf 'changed' >>"$up/bin/busybox"; then
	o=$(podman start -a plat-c1 2>&1)
	if [ "$o" != c1-ok ] && grep -qi 'permission denied\|operation not permitted' <<<"$o"; then
		pass "container: the program changed in the container's upper layer is denied ($(line <<<"$o" | cut -c1-120))"
	else
		fail "container: the changed upper-layer program: $(line <<<"$o")"
	fi
else
	fail "container: create, start and change plat-c1: $(line <<<"$o")"
fi
podman rm -f plat-c1 >/dev/null 2>&1

# --- btrfs: two subvolumes, the same inode numbers ------------------------------
if [ $plat_ok = 1 ]; then
	o=$(as_operator "$PB/sv1/btool btr-ok")
	if [ "$o" = btr-ok ]; then
		pass "btrfs: the approved program in subvolume sv1 runs"
	else
		fail "btrfs: the approved program in sv1: $(line <<<"$o")"
	fi
	o=$(plat_py_load "$PB/sv1/libok.so")
	if [ "$o" = loaded ]; then
		pass "btrfs: the approved library in sv1 maps executable"
	else
		fail "btrfs: the approved library in sv1: $(line <<<"$o")"
	fi
	# operator's first file in sv2 has sv1's library's inode number
	o=$(as_operator "cp $plat_lib $PB/sv2/evil.so && printf e >>$PB/sv2/evil.so" && plat_py_load "$PB/sv2/evil.so")
	i1=$(stat -c %i "$PB/sv1/libok.so")
	i2=$(stat -c %i "$PB/sv2/evil.so" 2>/dev/null)
	if [ "$i1" != "$i2" ]; then
		fail "btrfs: operator's file in sv2 has inode $i2, not sv1's library's $i1: the case is not made"
	elif [ -n "$o" ] && [ "$o" != loaded ]; then
		pass "btrfs: operator's library in sv2 with the inode number ($i2) of sv1's approved one is denied ($(line <<<"$o"))"
	else
		fail "btrfs: operator's library in sv2 (inode $i2, as sv1's approved one) was mapped executable: $(line <<<"$o")"
	fi
fi

# The overlay and btrfs mounts do not come back after the reboot: their
# entries go off the list in a window (the after-reboot verify checks the
# list against the box), and the mounts go.
plat_rm=()
for d in "$PO" "$PB"; do
	hl list 2>/dev/null | grep -q -F " $d/" && plat_rm+=("$d")
done
if ! o=$(hl maintenance begin --timeout 10m --password-file "$PW" 2>&1) ||
	{ [ ${#plat_rm[@]} -gt 0 ] && ! o=$(hl remove "${plat_rm[@]}" 2>&1); } ||
	! o=$(hl reload 2>&1) || ! o=$(hl maintenance end --password-file "$PW" 2>&1); then
	fail "platforms: taking $PO and $PB off the list in a window: $(line <<<"$o")"
fi
umount "$PB" 2>/dev/null

# --- FUSE: a filesystem whose file identity the helper cannot establish ------
# (issue 12: a refusal, never a bricked box). fuse2fs serves an ext4 image;
# the FUSE server could change a file's content with no hook of this kernel
# seeing it. hmilockd names the mount (log, status); the exec gate decides
# programs there by hash, the helper leaves them to it; a library mapped
# there is not checked unless [agent] strict_identity = yes.
PF=/mnt/fz
if o=$(truncate -s 64M /var/tmp/fz.img && mkfs.ext4 -q -F /var/tmp/fz.img 2>&1 &&
	mkdir -p "$PF" && fuse2fs -o allow_other /var/tmp/fz.img "$PF" 2>&1); then
	sleep 2 # hmilockd's mountinfo watch marks it
	gaps=$(status_json helper_gaps)
	if grep -q "file identity unknown on $PF (fuse" <<<"$gaps" &&
		journalctl -u hmilockd --no-pager | grep -q "cannot establish file identity on $PF"; then
		pass "fuse: hmilockd names the FUSE mount whose identity it cannot establish (log and status: $(grep -o "file identity unknown on ${PF}[^;]*" <<<"$gaps"))"
	else
		fail "fuse: $PF not named: status gaps '$gaps'; log: $(journalctl -u hmilockd --no-pager | grep -i identity | tail -2 | line)"
	fi
	o=$(cp /usr/bin/true "$PF/t" && cp "$plat_lib" "$PF/l.so" && printf f >>"$PF/l.so" &&
		chmod 0755 "$PF/t" "$PF/l.so" && as_operator "$PF/t; echo rc=\$?")
	o2=$(plat_py_load "$PF/l.so")
	if grep -q 'rc=126' <<<"$o" && [ "$o2" = loaded ] &&
		hl events -n 100 2>/dev/null | grep -F "path=$PF/t" | grep -q ' deny '; then
		pass "fuse: the exec gate denies the unlisted program there by its hash (126, event); the unlisted library maps (an open gap, named)"
	else
		fail "fuse: unlisted program: $(line <<<"$o"); library: $(line <<<"$o2")"
	fi
	if o=$(hl mode audit --password-file "$PW" 2>&1) &&
		sed -i 's/^strict_identity = no$/strict_identity = yes/' /etc/hmilock/hmilock.conf &&
		grep -q '^strict_identity = yes$' /etc/hmilock/hmilock.conf &&
		systemctl restart hmilockd.service && o=$(hl mode enforce --password-file "$PW" 2>&1); then
		if grep -q "file identity unknown on $PF (fuse.*denied" <<<"$o"; then
			pass "fuse: hmilock mode enforce says so before it locks over the FUSE mount ($(line <<<"$o" | cut -c1-160))"
		else
			fail "fuse: hmilock mode enforce did not name $PF: $(line <<<"$o")"
		fi
		o2=$(plat_py_load "$PF/l.so")
		if [ -n "$o2" ] && [ "$o2" != loaded ]; then
			pass "fuse: with strict_identity = yes the helper denies the unlisted library there ($(line <<<"$o2"))"
		else
			fail "fuse: strict_identity = yes: the unlisted library on FUSE: $(line <<<"$o2")"
		fi
	else
		fail "fuse: could not switch to audit, set strict_identity = yes and restart: $(line <<<"$o")"
	fi
	if ! o=$(hl mode audit --password-file "$PW" 2>&1) ||
		! sed -i 's/^strict_identity = yes$/strict_identity = no/' /etc/hmilock/hmilock.conf ||
		! systemctl restart hmilockd.service || ! o=$(hl mode enforce --password-file "$PW" 2>&1); then
		fail "fuse: could not set strict_identity back to no: $(line <<<"$o")"
	fi
	umount "$PF"
else
	fail "fuse: cannot mount an ext4 image with fuse2fs at $PF: $(line <<<"$o")"
fi
umask "$plat_umask"
