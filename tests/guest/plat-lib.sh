# tests/guest/plat-lib.sh - what tests/guest/platforms.sh (with the kernel
# helper) and fallback.sh (without it) share: the places, the overlay's
# options, the btrfs image with two subvolumes, the offline change of an
# overlay's upper layer and operator's ctypes load of a library. Sourced by
# both; uses the runner's as_operator.
# shellcheck shell=bash disable=SC2034 # the variables are for the sourcing scripts

PL=/opt/plat              # the overlay's lower tree, on the root's ext4
PO=/mnt/ovl               # the overlay: lower $PL, upper tmpfs $PU
PU=/run/ovl-up            # its upper and work directories
PB=/mnt/btr               # btrfs (a loop image), subvolumes sv1 and sv2
PI=localhost/hmilock-ctr  # the container image (a static busybox)
plat_lib=$(ldconfig -p | awk '$1 == "libz.so.1" { print $NF; exit }')
# The overlay as a box would mount its root: index=on,nfs_export=on lets
# the exec gate and a maintenance window mark it (docs/platforms.md).
plat_ovl_opts="lowerdir=$PL,upperdir=$PU/u,workdir=$PU/w,index=on,nfs_export=on"

# plat_py_load LIB: operator maps LIB with ctypes (PROT_EXEC): "loaded", or
# the error.
plat_py_load() {
	as_operator "python3 -c 'import ctypes; ctypes.CDLL(\"$1\"); print(\"loaded\")' 2>&1 | tail -1"
}

# plat_btrfs: a btrfs loop image at $PB with subvolumes sv1 and sv2 (sv2
# operator's); the error on stdout when it cannot be made.
plat_btrfs() {
	truncate -s 320M /var/tmp/btr.img && mkfs.btrfs -q -f /var/tmp/btr.img 2>&1 &&
		mkdir -p "$PB" && mount -o loop /var/tmp/btr.img "$PB" 2>&1 &&
		btrfs -q subvolume create "$PB/sv1" 2>&1 && btrfs -q subvolume create "$PB/sv2" 2>&1 &&
		chmod 1777 "$PB/sv2"
}

# plat_ovl_mount: the tmpfs upper and the overlay on $PO.
plat_ovl_mount() {
	mkdir -p "$PU" && mount -t tmpfs -o mode=0755 plat-up "$PU" 2>&1 &&
		mkdir -p "$PU/u" "$PU/w" "$PO" &&
		mount -t overlay plat-ovl -o "$plat_ovl_opts" "$PO" 2>&1
}

# plat_upper_change: as on a box whose upper layer was written offline:
# the overlay unmounted, a changed ptool put in the upper layer, mounted
# again.
plat_upper_change() {
	umount "$PO" 2>&1 && mkdir -p "$PU/u/bin" && cp /usr/bin/echo "$PU/u/bin/ptool" &&
		printf 'changed' >>"$PU/u/bin/ptool" &&
		mount -t overlay plat-ovl -o "$plat_ovl_opts" "$PO" 2>&1
}
