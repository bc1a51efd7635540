# packaging/packaging.mk - `make install` and `make deb`, included by the
# top-level Makefile. Owned by packaging/ (helper F); reads $(B) and $(Q)
# from the Makefile and defines no other build rule.
#
#   make install [DESTDIR=dir] [PREFIX=/usr]
#       hmilock and hmilockd into $(PREFIX)/sbin (both are root's tools: the
#       list, its key and the control socket are root-only), hmilock-notify
#       into $(PREFIX)/bin with its XDG autostart entry (the panel's user
#       runs it), the default
#       config into /etc/hmilock (never overwriting one that is there), the
#       systemd unit, tmpfiles.d entry, man pages (every packaging/*.[1-9])
#       and bash completion, and the apt hook packaging/apt/99hmilock into
#       /etc/apt/apt.conf.d (installs through apt become trusted updates;
#       sbin paths in it follow SBINDIR). Builds the programs first if needed. On a live
#       system (no DESTDIR) follow with: systemd-tmpfiles --create hmilock.conf;
#       systemctl daemon-reload; systemctl enable --now hmilockd.
#   make deb [DEB_OUT=build/deb]
#       the Debian package, built by dpkg-buildpackage -us -uc -b in a
#       temporary copy of the tree (packaging/debian/ becomes its debian/),
#       so the checkout stays clean. The .deb, .changes, .buildinfo and the
#       build log land in $(DEB_OUT).
#   make deb ARCH=arm64 [DEB_OUT=build/deb-arm64]
#       the same for arm64, cross-built (dpkg-buildpackage -aarm64) against
#       the sysroot of tools/cross-sysroot.sh, which also gives
#       dpkg-shlibdeps the arm64 libraries' symbols for Depends.
#   make deb-lint [DEB_OUT=...]
#       make deb, then lintian on the result; fails on any lintian error.

DESTDIR ?=
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
# Debian 12 keeps system units in /lib/systemd/system (pkg-config systemd
# says where); /usr/lib/tmpfiles.d likewise.
SYSTEMDUNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
TMPFILESDIR ?= $(or $(shell pkg-config --variable=tmpfilesdir systemd 2>/dev/null),/usr/lib/tmpfiles.d)
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DEB_OUT ?= build/deb$(if $(ARCH),-$(ARCH))

PKG_MANPAGES := $(wildcard packaging/*.[1-9])
PKG_CONF_DIR := $(DESTDIR)$(SYSCONFDIR)/hmilock

.PHONY: install deb deb-lint

install: $(B)/hmilock $(B)/hmilockd $(B)/hmilock-notify
	@$(if $(Q),echo "  INSTALL $(if $(DESTDIR),$(DESTDIR),/)")
	$(Q)install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(SYSCONFDIR)/xdg/autostart
	$(Q)install -m 0755 $(B)/hmilock $(B)/hmilockd $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 0755 $(B)/hmilock-notify $(DESTDIR)$(BINDIR)/
	$(Q)sed 's|/usr/bin/|$(BINDIR)/|g' packaging/hmilock-notify.desktop \
		>$(DESTDIR)$(SYSCONFDIR)/xdg/autostart/hmilock-notify.desktop && \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/xdg/autostart/hmilock-notify.desktop
	$(Q)install -d -m 0755 $(PKG_CONF_DIR)
	$(Q)if [ -e $(PKG_CONF_DIR)/hmilock.conf ]; then \
		echo "install: keeping $(PKG_CONF_DIR)/hmilock.conf; new default in hmilock.conf.dist"; \
		install -m 0644 packaging/hmilock.conf $(PKG_CONF_DIR)/hmilock.conf.dist; \
	else \
		install -m 0644 packaging/hmilock.conf $(PKG_CONF_DIR)/hmilock.conf; \
	fi
	$(Q)sed 's|/usr/sbin/|$(SBINDIR)/|g' packaging/hmilockd.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/hmilockd.service && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/hmilockd.service
	$(Q)install -m 0644 packaging/hmilock.tmpfiles $(DESTDIR)$(TMPFILESDIR)/hmilock.conf
	$(Q)install -m 0644 packaging/hmilock.bash-completion $(DESTDIR)$(BASHCOMPDIR)/hmilock
	$(Q)install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/apt/apt.conf.d
	$(Q)sed 's|/usr/sbin/|$(SBINDIR)/|g' packaging/apt/99hmilock \
		>$(DESTDIR)$(SYSCONFDIR)/apt/apt.conf.d/99hmilock && \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/apt/apt.conf.d/99hmilock
	$(Q)for m in $(PKG_MANPAGES); do \
		s=$${m##*.}; \
		install -d -m 0755 $(DESTDIR)$(MANDIR)/man$$s && \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
	done

deb:
	$(Q)$(if $(ARCH),HMILOCK_DEB_ARCH=$(ARCH) HMILOCK_SYSROOT=$(SYSROOT) )packaging/build-deb.sh $(DEB_OUT)

deb-lint: deb
	$(Q)lintian --fail-on error --tag-display-limit 0 $(DEB_OUT)/hmilock_*.deb

# `make` alone must build `all`, the Makefile's first own rule after the
# included files. Clearing the goal makes make take the next rule it reads,
# whatever rules this file or an earlier include (kmod/kmod.mk) defined.
.DEFAULT_GOAL :=
