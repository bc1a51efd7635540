#!/bin/bash
# tests/fuzz/mkseeds.sh [db|ctl|classify]... - remake the committed seed
# corpora tests/fuzz/corpus/<name>/ (all three when none is named; db takes
# two files from classify), keeping their regress-* inputs, so that what they
# hold and how it was made is written down. Run from anywhere,
# after `make` and `make fuzz-build`; needs gcc, clang and ld. The config
# seeds are hand-written files and are not made here. Not part of a fuzz run:
# `make fuzz` only reads these directories.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
tmp=$(mktemp -d /tmp/hmilock-seeds.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[ $# -gt 0 ] || set -- classify db ctl

# Empty a corpus directory except its regression inputs (regress-*: inputs
# that once found a bug, kept by hand).
fresh() {
	mkdir -p "$1" && find "$1" -type f ! -name 'regress-*' -delete
}

# A list made by the CLI from a small tree, with the fuzz target's fixed key
# (fuzz_db.c: fuzz_key), behind a mode byte (0: as is, 1: MAC fixed up), and
# the synthetic lists fuzz_db writes itself (odd paths, interpreters).
seeds_db() {
	local out=tests/fuzz/corpus/db
	fresh "$out" && mkdir -p "$tmp/tree/bin" "$tmp/tree/lib"
	printf 'hmilock-fuzz-key-0123456789abcd\0' >"$tmp/key" && chmod 600 "$tmp/key"
	printf '#!/bin/sh\necho hi\n' >"$tmp/tree/bin/hello.sh"
	printf '#!/usr/bin/env python3\n' >"$tmp/tree/bin/tool"
	printf 'data\n' >"$tmp/tree/bin/run me"
	cp tests/fuzz/corpus/classify/exec-static "$tmp/tree/bin/"
	cp tests/fuzz/corpus/classify/shlib.so "$tmp/tree/lib/libhmi.so"
	chmod 755 "$tmp/tree/bin/"*
	build/rel/hmilock --db "$tmp/list.db" --key "$tmp/key" init "$tmp/tree" >/dev/null
	{ printf '\0' && cat "$tmp/list.db"; } >"$out/cli-init-0"
	{ printf '\1' && cat "$tmp/list.db"; } >"$out/cli-init-1"
	FUZZ_DB_SEEDS=$out build/fuzz/fuzz_db -runs=0 >/dev/null 2>&1
}

# One valid message of most types (fuzz_ctl.c: fuzz_seeds).
seeds_ctl() {
	local out=tests/fuzz/corpus/ctl
	fresh "$out"
	FUZZ_CTL_SEEDS=$out build/fuzz/fuzz_ctl -runs=0 >/dev/null 2>&1
}

# Tiny ELF files of each type wl_classify_fd tells apart, a 32-bit and a
# big-endian one, scripts as the kernel reads them, and a plain file.
seeds_classify() {
	local out=tests/fuzz/corpus/classify s="$tmp/src"
	local small=(-Os -s -fno-asynchronous-unwind-tables -Wl,--build-id=none -Wl,-z,noseparate-code)
	local obj=(-c -Os -g0 -fno-asynchronous-unwind-tables)
	fresh "$out" && mkdir -p "$s"
	printf 'void _start(void) { __asm__ volatile("mov $60, %%eax\\n xor %%edi, %%edi\\n syscall"); }\n' >"$s/start.c"
	printf 'void _start(void) { __asm__ volatile("mov $1, %%eax\\n xor %%ebx, %%ebx\\n int $0x80"); }\n' >"$s/start32.c"
	printf '#include <stdio.h>\nint main(void) { return puts("hi") < 0; }\n' >"$s/hello.c"
	printf 'unsigned long hmi_len(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }\n' >"$s/lib.c"
	printf '__attribute__((section(".modinfo"), used)) static const char lic[] = "license=GPL";\nint init_module(void) { return 0; }\n' >"$s/mod.c"
	gcc -nostdlib -static "${small[@]}" -o "$out/exec-static" "$s/start.c"
	gcc -no-pie "${small[@]}" -o "$out/exec-dynamic" "$s/hello.c"
	gcc "${small[@]}" -o "$out/pie-dynamic" "$s/hello.c"
	gcc -shared -fPIC "${small[@]}" -o "$out/shlib.so" "$s/lib.c"
	gcc "${obj[@]}" -o "$out/kmod.ko" "$s/mod.c"
	gcc "${obj[@]}" -o "$out/object-rel" "$s/lib.c"
	clang -m32 "${obj[@]}" -o "$s/start32.o" "$s/start32.c"
	ld -m elf_i386 -s --build-id=none -z noseparate-code -o "$out/exec32-static" "$s/start32.o"
	clang --target=powerpc64-linux-gnu "${obj[@]}" -o "$out/object-ppc64be-rel" "$s/lib.c"
	printf '#!/bin/sh\necho hi\n' >"$out/script-sh"
	printf '#! /usr/bin/env  python3 -u \nprint(1)\n' >"$out/script-env-arg"
	printf '#!/bin/bash\r\necho crlf\r\n' >"$out/script-crlf"
	printf '#!/%0300d' 0 >"$out/script-long-no-newline"
	printf '#!\n' >"$out/script-empty"
	printf 'just data\n' >"$out/other"
}

for t in "$@"; do
	"seeds_$t"
	echo "tests/fuzz/corpus/$t: $(find "tests/fuzz/corpus/$t" -type f | wc -l) files," \
		"$(du -sb "tests/fuzz/corpus/$t" | cut -f1) bytes"
done
