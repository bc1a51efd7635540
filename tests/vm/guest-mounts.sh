# tests/vm/guest-mounts.sh - sourced first by the /init of every busybox
# guest (tests/vm/init.sh, bench-init.sh, daemon-bench-init.sh), from
# /t/guest-mounts.sh (vm_initramfs puts it there): busybox's applets on
# PATH, the pseudo filesystems, the tmpfs /w, and vm_param.
# shellcheck shell=sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t securityfs securityfs /sys/kernel/security
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=0755 w /w

# vm_param NAME DEFAULT: the value of NAME=V on the kernel command line,
# its commas made blanks (hmk_bench=21,60,400: "21 60 400"), else DEFAULT.
vm_param() {
	_v=$2
	# shellcheck disable=SC2013 # one word per kernel parameter
	for _a in $(cat /proc/cmdline); do
		case "$_a" in "$1"=*) _v=$(echo "${_a#"$1"=}" | tr , ' ') ;; esac
	done
	echo "$_v"
}
