# hmilock top-level Makefile.
#   make              release build into build/rel (hmilock, hmilockd, libwhitelist.a)
#   make test         sanitizer build into build/test, then the whole suite (tests/run.sh)
#   make bench        release build, then the benchmarks (tests/bench/run.sh); the
#                     qemu guest ones (40, 41) in amd64, or arm64 with HMILOCK_VM_ARCH=arm64
#   make vm-test      only the kernel-helper tests in the qemu guests: amd64
#                     (tests/vm/run.sh) and arm64 (test 84, HMILOCK_VM_ARCH=arm64)
#   make guest-test   only the Debian 12 guest suite (systemd, the .deb; tests/guest),
#                     on kernels 6.1 and 6.12 (HMILOCK_GUEST_KERNELS="6.12" for one),
#                     then in the arm64 guest (test 85)
#   make check-style  clang-format check against .clang-format
#   make fuzz         libFuzzer targets (clang, ASan/UBSan) into build/fuzz, each run
#                     FUZZ_SECONDS (10); see tests/fuzz/fuzz.mk
#   make deps         install build and test dependencies (apt-get)
#   make V=1          show full commands; BUILD=dir to build elsewhere
#   make ARCH=arm64   cross build for 64-bit ARM into build/arm64 (all, deb):
#                     aarch64-linux-gnu-gcc against the Debian 12 arm64
#                     libraries that tools/cross-sysroot.sh unpacks into
#                     SYSROOT (build/sysroot-arm64)
VERSION ?= 0.1.0
FLAVOR ?= rel

# Cross build: ARCH (a Debian architecture) other than unset; the native
# build is untouched by all of this.
# ARCH names the target only when given to make (make ARCH=arm64), not when
# it is left in the environment (kernel builds export ARCH=x86_64 and such).
ifeq ($(origin ARCH),environment)
ARCH :=
endif
ifneq ($(ARCH),)
ifeq ($(ARCH),arm64)
CROSS_TRIPLET := aarch64-linux-gnu
else
$(error ARCH=$(ARCH) is not supported: the cross build knows ARCH=arm64 only (leave ARCH unset for a native build))
endif
BUILD ?= build/$(ARCH)$(if $(filter rel,$(FLAVOR)),,-$(FLAVOR))
SYSROOT ?= build/sysroot-$(ARCH)
override SYSROOT := $(abspath $(SYSROOT))
ifeq ($(origin CC),default)
CC := $(CROSS_TRIPLET)-gcc
endif
ifeq ($(origin AR),default)
AR := $(CROSS_TRIPLET)-ar
endif
CROSS_FLAGS := --sysroot=$(SYSROOT)
PKG_CONFIG_ENV := PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/$(CROSS_TRIPLET)/pkgconfig:$(SYSROOT)/usr/share/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$(SYSROOT)
# The BPF object: bpf_tracing.h's target, and the target's headers.
BPF_ARCH := $(ARCH)
BPF_SYS_INCLUDES := -idirafter $(SYSROOT)/usr/include/$(CROSS_TRIPLET) -idirafter $(SYSROOT)/usr/include
# The sysroot's stamp is a makefile: when it is missing or older than the
# script, make runs the script and then reads this Makefile again, so that
# pkg-config below sees the sysroot. Not for goals that build nothing.
ifneq ($(filter-out clean check-style format,$(or $(MAKECMDGOALS),all)),)
include $(SYSROOT)/.hmilock-sysroot
endif
$(SYSROOT)/.hmilock-sysroot: tools/cross-sysroot.sh packaging/debian/control
	$(Q)tools/cross-sysroot.sh $(ARCH) $(SYSROOT)
endif

BUILD ?= build/$(FLAVOR)
B := $(BUILD)

CC ?= cc
PKGS := libcrypto libelf json-c inih libseccomp audit libsystemd libbpf libcap-ng libclamav
PKG_CFLAGS := $(shell $(PKG_CONFIG_ENV) pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG_ENV) pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
BASE_CFLAGS := -std=gnu11 -g $(WARN) -D_GNU_SOURCE -DHMILOCK_VERSION='"$(VERSION)"' -Iwhitelist -Iinclude -I$(B)/gen $(PKG_CFLAGS)
ifeq ($(FLAVOR),test)
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else
OPT := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
endif
ALL_CFLAGS := $(BASE_CFLAGS) $(OPT) $(CROSS_FLAGS) $(CFLAGS)
ALL_LDFLAGS := $(OPT) $(CROSS_FLAGS) $(LDFLAGS)
LIBS := $(PKG_LIBS) -lpthread

ifeq ($(V),1)
Q :=
else
Q := @
endif

WL_SRC := $(wildcard whitelist/*.c)
WL_OBJ := $(WL_SRC:%.c=$(B)/%.o)
AGENT_MAIN := agent/hmilockd.c
AGENT_SRC := $(filter-out $(AGENT_MAIN),$(wildcard agent/*.c))
AGENT_OBJ := $(AGENT_SRC:%.c=$(B)/%.o)
TOOLS_MAIN := tools/hmilock.c tools/hmilock-notify.c
TOOLS_SRC := $(filter-out $(TOOLS_MAIN),$(wildcard tools/*.c))
TOOLS_OBJ := $(TOOLS_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

PROGS := $(B)/hmilock $(B)/hmilock-notify
ifneq ($(wildcard $(AGENT_MAIN)),)
PROGS += $(B)/hmilockd
endif

# The BPF helper and its skeleton; kmod.mk also makes the objects that
# include the skeleton (and only those) depend on it.
-include kmod/kmod.mk
# install, deb: owned by packaging/
-include packaging/packaging.mk

.PHONY: all lib progs unit test bench vm-test guest-test check-style format deps clean install
all: progs
lib: $(B)/libwhitelist.a
progs: $(PROGS)
unit: $(UNIT_BIN)

$(B)/%.o: %.c | $(B)/gen
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/gen:
	@mkdir -p $@

$(B)/libwhitelist.a: $(WL_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/libagent.a: $(AGENT_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/hmilock: $(B)/tools/hmilock.o $(TOOLS_OBJ) $(B)/libwhitelist.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/hmilock-notify: $(B)/tools/hmilock-notify.o $(TOOLS_OBJ) $(B)/libwhitelist.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/hmilockd: $(B)/agent/hmilockd.o $(B)/libagent.a $(B)/libwhitelist.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# Unit tests link the libraries and every non-main object of agent/ and tools/.
$(B)/tests/%: tests/unit/%.c $(B)/libagent.a $(TOOLS_OBJ) $(B)/libwhitelist.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -Iagent -Itools -o $@ $^ $(LIBS) -lcmocka

# The release build is tested too where it differs: its seccomp filter
# (37-sandbox-release) has none of the sanitizer build's allowances.
test:
	$(MAKE) FLAVOR=rel BUILD=build/rel all
	$(MAKE) FLAVOR=test BUILD=$(if $(filter command line,$(origin BUILD)),$(BUILD),build/test) all unit
	HMILOCK_REL_BUILD=$(CURDIR)/build/rel tests/run.sh $(if $(filter command line,$(origin BUILD)),$(BUILD),build/test)

bench: all
	tests/bench/run.sh $(B)

vm-test: all
	tests/run.sh $(B) vm

guest-test: all
	tests/run.sh $(B) 80-guest-workflow 85-guest-arm64

check-style:
	@files=$$(git ls-files '*.c' '*.h' | grep -v -e '^kmod/vmlinux' -e '/gen/'); \
	clang-format --dry-run -Werror $$files && echo "style OK"

format:
	@git ls-files '*.c' '*.h' | grep -v -e '^kmod/vmlinux' -e '/gen/' | xargs clang-format -i

deps:
	tools/bootstrap.sh --deps-only

clean:
	rm -rf build

# fuzz, fuzz-build: owned by tests/fuzz/ (after `all`, which stays the default)
include tests/fuzz/fuzz.mk

-include $(WL_OBJ:.o=.d) $(AGENT_OBJ:.o=.d) $(TOOLS_OBJ:.o=.d) $(B)/agent/hmilockd.d $(B)/tools/hmilock.d $(B)/tools/hmilock-notify.d
