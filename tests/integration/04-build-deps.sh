#!/bin/bash
# 04-build-deps: only the objects that include the BPF skeleton (agent/helper.o
# in the normal and the VM build) wait for it, and building the BPF object
# reads no kernel BTF (kmod/hmk_kernel.h declares the kernel types). Asks make
# only (-p, -n, -q, -W): nothing is built or touched.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1
# Name the build dir as `make` and `make test` do (relative), so that the
# targets the -MMD files name are the ones make considers.
B=${BIN#"$TOP"/}
skel=gen/hmilock.skel.h
mk() { make --no-print-directory BUILD="$B" "$@" 2>/dev/null; }

# 1. The rule database: an object depends on the skeleton exactly when its
# source includes it. Lines come from the pattern rules (after make has
# searched them for every goal) and from the -MMD files.
db=$(mk -np all vm-progs | grep -E "^[^#: ]*\.o: ")
n=0 bad=() want_ok=0
while read -r obj src deps; do
	obj=${obj%:}
	rel=${obj#"$TOP"/}
	rel=${rel#"$B"/}
	rel=${rel#vm/obj/}
	case "$src" in *.c) ;; *) continue ;; esac
	[ -f "$src" ] || continue
	n=$((n + 1))
	if grep -q 'hmilock\.skel\.h' "$src"; then inc=1; else inc=0; fi
	case " $deps " in *"/$skel "*) dep=1 ;; *) dep=0 ;; esac
	if [ $dep = 1 ] && [ $inc = 0 ]; then
		bad+=("$obj waits for the skeleton but $src does not include it")
	elif [ $dep = 0 ] && [ $inc = 1 ]; then
		bad+=("$obj: $src includes the skeleton but does not depend on it")
	fi
	[ "$rel" = agent/helper.o ] && [ $dep = 1 ] && want_ok=$((want_ok + 1))
done <<<"$db"
wl=$(grep -cE "^[^ ]*/(whitelist|tools)/[^ /]*\.o: " <<<"$db")
if [ "$n" -lt 20 ] || [ "$wl" -lt 10 ]; then
	fail "build-deps: make's database lists only $n objects ($wl in whitelist/, tools/)"
elif [ ${#bad[@]} -gt 0 ]; then
	fail "build-deps: skeleton dependencies: $(printf '%s\n' "${bad[@]}" | paste -sd ';')"
elif [ "$want_ok" -lt 2 ]; then
	fail "build-deps: agent/helper.o (release and VM build) should depend on the skeleton"
else
	pass "build-deps: of $n objects only those including the skeleton depend on it"
fi

# 2. What a change to the BPF source rebuilds (make -n -W: as if it were
# newer): the BPF object, the skeleton, agent/helper.o and the links. Only
# meaningful on an up-to-date build.
if ! mk -q all; then
	skip "build-deps-whatif: $B is not up to date (run make first)"
else
	out=$(mk -n V=1 -W kmod/hmilock.bpf.c all |
		grep -oE -- '( -o |ar rcs |gen object |>)[^ &;]+' |
		sed -E -e 's/^( -o |ar rcs |gen object |>)//' -e 's/\.tmp(\.o)?$//' |
		grep -v '^/dev/null$' | sed "s|^$B/||" | sort -u)
	allowed=" kmod/hmilock.bpf.o $skel agent/helper.o libagent.a hmilockd "
	extra=() missing=()
	for o in $out; do
		case "$allowed" in *" $o "*) ;; *) extra+=("$o") ;; esac
	done
	for o in kmod/hmilock.bpf.o $skel agent/helper.o hmilockd; do
		grep -qxF "$o" <<<"$out" || missing+=("$o")
	done
	if [ ${#extra[@]} -gt 0 ]; then
		fail "build-deps-whatif: a change to hmilock.bpf.c also rebuilds: ${extra[*]}"
	elif [ ${#missing[@]} -gt 0 ]; then
		fail "build-deps-whatif: a change to hmilock.bpf.c does not rebuild: ${missing[*]}"
	else
		pass "build-deps-whatif: a change to hmilock.bpf.c rebuilds only $(paste -sd ' ' <<<"$out")"
	fi
fi

# 3. No kernel BTF at build time: neither the BPF object's prerequisites nor
# its commands name vmlinux or /sys/kernel/btf, and it builds (dry run) with
# VMLINUX_BTF pointing nowhere.
bpf=$B/kmod/hmilock.bpf.o
deps=$(mk -np "$bpf" | grep -E "^$bpf: ")
cmds=$(mk -n V=1 -W kmod/hmilock.bpf.c VMLINUX_BTF=/nonexistent "$bpf")
if [ -z "$deps" ] || ! grep -q -- '-target bpf' <<<"$cmds"; then
	fail "build-deps-btf: make gives no rule or command for $bpf"
elif grep -qE 'vmlinux|/sys/kernel/btf|btf dump' <<<"$deps $cmds"; then
	fail "build-deps-btf: the BPF build reads kernel BTF: $(grep -oE '[^ ]*(vmlinux|/sys/kernel/btf|btf dump)[^ ]*' <<<"$deps $cmds" | sort -u | tr '\n' ' ')"
else
	pass "build-deps-btf: the BPF object needs no vmlinux.h or kernel BTF"
fi
finish
