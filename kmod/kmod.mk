# kmod/kmod.mk - builds the kernel helper (BPF LSM) and its skeleton; included
# by the top-level Makefile. Owns $(B)/kmod/ and $(B)/gen/hmilock.skel.h, plus
# the static programs of the VM tests ($(B)/vm/).
# clang, llvm-strip and bpftool are build dependencies (tools/bootstrap.sh):
# when one is missing the build stops with a message saying so.
# No kernel's BTF is read at build time: the kernel types the program uses
# are declared in kmod/hmk_kernel.h and relocated (CO-RE) at load time.
BPF_CLANG ?= clang
BPFTOOL ?= bpftool
# The target's architecture, for bpf_tracing.h's __TARGET_ARCH_*: the build
# machine's unless given (make BPF_ARCH=arm64; make ARCH=arm64 sets it).
ifeq ($(origin BPF_ARCH),undefined)
BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
endif
# clang's own system include directories, which `-target bpf` drops, so that
# <linux/types.h> finds <asm/types.h> in the multiarch directory
# (libbpf-bootstrap's CLANG_BPF_SYS_INCLUDES). Expanded only when the BPF
# object is built. A cross build (make ARCH=) gives the sysroot's instead.
BPF_SYS_INCLUDES ?= $(shell $(BPF_CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

HMK_SKEL := $(B)/gen/hmilock.skel.h

kmod_need = @command -v $(1) >/dev/null 2>&1 || { \
	echo "kmod.mk: '$(1)' not found; it is needed to build the kernel helper" \
	     "(install the build dependencies: tools/bootstrap.sh --deps-only)" >&2; exit 1; }

$(B)/kmod/hmilock.bpf.o: kmod/hmilock.bpf.c kmod/hmk_kernel.h kmod/hmilock_abi.h
	$(call kmod_need,$(BPF_CLANG))
	$(call kmod_need,$(BPFTOOL))
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BPF     $@")
	$(Q)$(BPF_CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(BPF_ARCH) \
		-Ikmod $(BPF_SYS_INCLUDES) -c kmod/hmilock.bpf.c -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(HMK_SKEL): $(B)/kmod/hmilock.bpf.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SKEL    $@")
	$(Q)$(BPFTOOL) gen skeleton $< name hmilock_bpf >$@.tmp && mv $@.tmp $@

# Only the objects that include the skeleton wait for it (libbpf-bootstrap's
# `$(APPS).o: %.skel.h`): agent/helper.o, in the release and the VM build.
# Nothing else does; tests/integration/04-build-deps.sh checks it.
$(B)/agent/helper.o $(B)/vm/obj/agent/helper.o: $(HMK_SKEL)

# ---- static programs for the qemu guest (tests/vm/run.sh) ----------------
# Built without sanitizers whatever FLAVOR is: they run in an initramfs
# with no shared libraries. A cross build (make ARCH=arm64 vm-progs) links
# them against the sysroot's static libraries (CROSS_FLAGS, empty natively).
VM_CFLAGS := -std=gnu11 -g -O2 $(WARN) -D_GNU_SOURCE -Iwhitelist -Iinclude -Iagent -Ikmod \
	-I$(B)/gen -Itests/vm $(CROSS_FLAGS)
VM_LIBS := -lbpf -lelf -lz -lcrypto -linih -lpthread
VM_WL_OBJ := $(WL_SRC:%.c=$(B)/vm/obj/%.o)

$(B)/vm/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(vm)  $<")
	$(Q)$(CC) $(VM_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/vm/libwl.a: $(VM_WL_OBJ)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/vm/hmk_vmtest: $(B)/vm/obj/tests/vm/hmk_vmtest.o $(B)/vm/obj/tests/vm/vmstub.o \
		$(B)/vm/obj/agent/helper.o $(B)/vm/obj/agent/helper_ev.o \
		$(B)/vm/obj/agent/protect.o $(B)/vm/obj/agent/anchor.o $(B)/vm/obj/agent/written.o $(B)/vm/libwl.a
	@$(if $(Q),echo "  LD(vm)  $@")
	$(Q)$(CC) $(CROSS_FLAGS) -static -o $@ $^ $(VM_LIBS)

$(B)/vm/hmk_bench: $(B)/vm/obj/tests/vm/hmk_bench.o $(B)/vm/obj/tests/vm/vmstub.o \
		$(B)/vm/obj/agent/helper.o $(B)/vm/obj/agent/helper_ev.o \
		$(B)/vm/obj/agent/protect.o $(B)/vm/obj/agent/anchor.o $(B)/vm/obj/agent/written.o $(B)/vm/libwl.a
	@$(if $(Q),echo "  LD(vm)  $@")
	$(Q)$(CC) $(CROSS_FLAGS) -static -o $@ $^ $(VM_LIBS)

# Tiny static programs the guest executes, maps and interprets.
$(B)/vm/hmk_true: tests/vm/hmk_true.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CROSS_FLAGS) -static -O2 -o $@ $<

# Dynamically linked dlopen workload and the library it loads (the guest gets
# the build machine's ld.so and libc: the same Debian release as the guest;
# in a cross build, the sysroot's).
$(B)/vm/hmk_dlbench: tests/vm/hmk_dlbench.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CROSS_FLAGS) -O2 $(WARN) -o $@ $<

$(B)/vm/hmk_preload.so: tests/vm/hmk_preload.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CROSS_FLAGS) -O2 $(WARN) -shared -fPIC -o $@ $<

.PHONY: vm-progs vm-bench-progs
vm-progs: $(B)/vm/hmk_vmtest $(B)/vm/hmk_true $(B)/vm/hmk_dlbench $(B)/vm/hmk_preload.so
vm-bench-progs: $(B)/vm/hmk_bench $(B)/vm/hmk_true $(B)/vm/hmk_dlbench $(B)/vm/hmk_preload.so

-include $(VM_WL_OBJ:.o=.d) $(B)/vm/obj/agent/helper.d $(B)/vm/obj/agent/helper_ev.d $(B)/vm/obj/tests/vm/hmk_vmtest.d \
	$(B)/vm/obj/tests/vm/hmk_bench.d $(B)/vm/obj/tests/vm/vmstub.d $(B)/vm/obj/agent/protect.d \
	$(B)/vm/obj/agent/anchor.d $(B)/vm/obj/agent/written.d
