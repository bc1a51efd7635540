#!/bin/bash
# 83-cross-arm64.sh - the arm64 cross build: make ARCH=arm64 builds every
# program and library for AArch64 and the BPF object for arm64 against the
# sysroot of tools/cross-sysroot.sh (cached in build/sysroot-arm64); the
# programs run under qemu-aarch64 (--version, init and verify of a small
# tree); make deb ARCH=arm64 gives an arm64 package of arm64 programs whose
# Depends covers their libraries, with no lintian error. Bad input: an
# unsupported ARCH and a package the archive does not have stop with an
# error naming them.
. "$(dirname "$0")/lib.sh"

missing=
for t in aarch64-linux-gnu-gcc aarch64-linux-gnu-ar qemu-aarch64 readelf clang bpftool \
	dpkg-buildpackage dh lintian apt-get; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	fail "cross: not installed:$missing (run tools/bootstrap.sh --deps-only)"
	finish
fi

out=$BIN/cross-arm64
debs=$BIN/deb-arm64
sysroot=$TOP/build/sysroot-arm64
mk() { make -C "$TOP" --no-print-directory "$@"; }

# Bad input first: nothing is built for an ARCH the build does not know.
if ! mk ARCH=sparc BUILD="$T/sparc" >"$T/sparc.log" 2>&1 &&
	grep -q 'ARCH=sparc is not supported' "$T/sparc.log" && [ ! -e "$T/sparc" ]; then
	pass "cross: make ARCH=sparc stops: $(grep -o 'ARCH=sparc is not supported[^.]*' "$T/sparc.log")"
else
	fail "cross: make ARCH=sparc did not stop with an error naming it: $(tail -3 "$T/sparc.log")"
fi
if ! HMILOCK_CROSS_EXTRA=hmilock-no-such-dev "$TOP/tools/cross-sysroot.sh" arm64 "$T/sr" \
	>"$T/sr.log" 2>&1 && grep -q 'cross-sysroot:.*hmilock-no-such-dev' "$T/sr.log"; then
	pass "cross: a package the archive lacks stops cross-sysroot.sh, naming it"
else
	fail "cross: cross-sysroot.sh with a missing package: $(tail -3 "$T/sr.log")"
fi

start=$SECONDS
if mk ARCH=arm64 BUILD="$out" V=1 -j2 all >"$T/build.log" 2>&1; then
	pass "cross: make ARCH=arm64 built $out in $((SECONDS - start)) s (sysroot $(du -sh "$sysroot" | cut -f1))"
else
	fail "cross: make ARCH=arm64 failed: $(grep -m3 -e 'error' -e '\*\*\*' "$T/build.log" | paste -sd' ' -)"
	tail -30 "$T/build.log"
	finish
fi

# Every program and library is AArch64 (each member of an archive too).
for f in hmilock hmilockd hmilock-notify libwhitelist.a libagent.a; do
	m=$(readelf -h "$out/$f" 2>/dev/null | sed -n 's/^ *Machine: *//p' | sort -u | paste -sd, -)
	if [ "$m" = AArch64 ]; then
		pass "cross: $f is AArch64"
	else
		fail "cross: $f: machine '${m:-none}', want AArch64"
	fi
done
# The commands, whether or not this run had to build (make -n -B only prints).
mk -n -B ARCH=arm64 BUILD="$out" V=1 all >"$T/cmds.log" 2>&1
m=$(readelf -h "$out/kmod/hmilock.bpf.o" 2>/dev/null | sed -n 's/^ *Machine: *//p')
if [ "$m" = "Linux BPF" ] && grep -q -- '-target bpf -D__TARGET_ARCH_arm64 ' "$T/cmds.log" &&
	grep -q "idirafter $sysroot/usr/include/aarch64-linux-gnu" "$T/cmds.log" &&
	[ -s "$out/gen/hmilock.skel.h" ]; then
	pass "cross: the BPF object is built for arm64 (__TARGET_ARCH_arm64, the sysroot's headers) with its skeleton"
else
	fail "cross: BPF object machine '$m', or no -D__TARGET_ARCH_arm64/sysroot include in the build, or no skeleton"
fi
if grep -q "^aarch64-linux-gnu-gcc .*--sysroot=$sysroot .*-c -o $out/tools/hmilock.o" "$T/cmds.log" &&
	! grep -E '^(cc|gcc|clang) ' "$T/cmds.log" | grep -qv -e '-target bpf'; then
	pass "cross: every C file is compiled by aarch64-linux-gnu-gcc --sysroot (none by the build machine's compiler)"
else
	fail "cross: compilers: $(grep -E '^(cc|gcc|clang|aarch64-linux-gnu-gcc) ' "$T/cmds.log" | grep -v -e '-target bpf' | head -1 | cut -c1-160)"
fi

# The programs run under qemu-aarch64 with the sysroot's libraries.
q() { qemu-aarch64 -L "$sysroot" "$@"; }
for p in hmilock hmilockd; do
	got=$(q "$out/$p" --version 2>&1 | head -1)
	if [[ $got =~ ^$p\ [0-9] ]]; then
		pass "cross: $p --version under qemu-aarch64: $got"
	else
		fail "cross: $p --version under qemu-aarch64 said '$got'"
	fi
done
: >"$T/conf"
hlq() { q "$out/hmilock" --db "$T/db" --key "$T/key" --config "$T/conf" "$@"; }
mkdir -p "$T/tree/bin"
cp "$out/hmilock" "$T/tree/bin/" && printf '#!/bin/sh\necho hi\n' >"$T/tree/bin/hi.sh" &&
	chmod 0755 "$T/tree/bin/hi.sh"
if hlq init "$T/tree" >"$T/init.out" 2>&1 && grep -q '^approved 2 files' "$T/init.out"; then
	pass "cross: hmilock init under qemu-aarch64: $(grep '^approved' "$T/init.out")"
else
	fail "cross: hmilock init under qemu-aarch64: $(head -c 300 "$T/init.out")"
fi
if hlq verify >"$T/v.out" 2>&1 && grep -q '2 ok; no drift' "$T/v.out"; then
	pass "cross: hmilock verify under qemu-aarch64: no drift"
else
	fail "cross: hmilock verify under qemu-aarch64: $(head -c 300 "$T/v.out")"
fi
echo 'echo changed' >>"$T/tree/bin/hi.sh"
hlq verify >"$T/v2.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "changed.*$T/tree/bin/hi.sh" "$T/v2.out"; then
	pass "cross: hmilock verify under qemu-aarch64 finds the changed script (exit 1)"
else
	fail "cross: verify after a change: exit $rc: $(head -c 300 "$T/v2.out")"
fi

# The arm64 package.
start=$SECONDS
if mk deb ARCH=arm64 DEB_OUT="$debs" >"$T/deb.log" 2>&1 &&
	deb=$(ls -t "$debs"/hmilock_*_arm64.deb 2>/dev/null | head -1) && [ -n "$deb" ]; then
	pass "cross: make deb ARCH=arm64 built $(basename "$deb") in $((SECONDS - start)) s"
else
	fail "cross: make deb ARCH=arm64 failed: $(tail -5 "$T/deb.log")"
	finish
fi
a=$(dpkg-deb -f "$deb" Architecture)
if [ "$a" = arm64 ]; then pass "cross: Architecture: arm64"; else fail "cross: Architecture: $a"; fi
x=$T/x
dpkg-deb -x "$deb" "$x"
for f in usr/sbin/hmilock usr/sbin/hmilockd usr/bin/hmilock-notify; do
	m=$(readelf -h "$x/$f" 2>/dev/null | sed -n 's/^ *Machine: *//p')
	if [ "$m" = AArch64 ]; then
		pass "cross: the package's /$f is AArch64"
	else
		fail "cross: the package's /$f: machine '${m:-none}'"
	fi
done
# Every library the programs load, by the sysroot's dpkg database, is in Depends.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*//' -e 's/[[:space:]]//g')
missing=
for so in $(readelf -d "$x/usr/sbin/hmilock" "$x/usr/sbin/hmilockd" "$x/usr/bin/hmilock-notify" |
	sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u); do
	owner=$(dpkg-query --admindir="$sysroot/var/lib/dpkg" -S "$sysroot/lib/aarch64-linux-gnu/$so" \
		"$sysroot/usr/lib/aarch64-linux-gnu/$so" "$sysroot/lib/$so" 2>/dev/null | head -1 | cut -d: -f1)
	grep -qx -- "${owner:-?}" <<<"$deps" || missing="$missing $so(${owner:-?})"
done
if [ -z "$missing" ]; then
	pass "cross: Depends covers every NEEDED arm64 library ($(paste -sd' ' - <<<"$deps"))"
else
	fail "cross: libraries loaded but not in Depends:$missing"
fi
lint=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v -e '^running with root' -e 'will drop')
errs=$(grep '^E: ' <<<"$lint")
if [ -z "$errs" ]; then
	pass "cross: lintian reports no error on the arm64 package ($(grep -c '^W: ' <<<"$lint") warnings)"
else
	fail "cross: lintian errors: $(paste -sd';' - <<<"$errs")"
fi
finish
