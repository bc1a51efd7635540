# shellcheck shell=bash disable=SC2034
# tests/integration/prescan_fixture.sh - known-bad samples and the ClamAV
# signature databases that name them, both made here (never downloaded),
# for the prescan scripts 81 and 82 (source after lib.sh):
#   $PS_SAMPLES/evil-elf  an ELF (/bin/true with bytes appended), named by
#                         its SHA-256 (.hsb) and its MD5 (.hdb), made with
#                         ClamAV's sigtool --sha256 / --md5
#   $PS_SAMPLES/evil.sh   a shell script carrying a marker string, named by
#                         a body signature (.ndb) whose hex sigtool
#                         --hex-dump made
#   $PS_SIGS/             the three database files (one directory, as an
#                         operator copies a signature set onto the box)
# The signature names libclamav reports: PS_HASH_SIG (the .hsb/.hdb
# entries carry the file name; libclamav adds ".UNOFFICIAL") and
# PS_BODY_SIG.
PS_SAMPLES=$T/samples
PS_SIGS=$T/sigs
PS_MARK="HMILOCK-PRESCAN-TEST-SAMPLE-$$"
PS_HASH_SIG=evil-elf.UNOFFICIAL
PS_BODY_SIG=Hmilock.Test.Body.UNOFFICIAL

# ps_make: the samples and the databases; fails when sigtool cannot.
ps_make() {
	local hex
	command -v sigtool >/dev/null || return 1
	mkdir -p "$PS_SAMPLES" "$PS_SIGS" || return 1
	cp /bin/true "$PS_SAMPLES/evil-elf" && printf 'not-true-%s' "$$" >>"$PS_SAMPLES/evil-elf" &&
		chmod 0755 "$PS_SAMPLES/evil-elf" || return 1
	printf '#!/bin/sh\n# %s\necho pwned\n' "$PS_MARK" >"$PS_SAMPLES/evil.sh" &&
		chmod 0755 "$PS_SAMPLES/evil.sh" || return 1
	(cd "$PS_SAMPLES" && sigtool --sha256 evil-elf) >"$PS_SIGS/test.hsb" || return 1
	(cd "$PS_SAMPLES" && sigtool --md5 evil-elf) >"$PS_SIGS/test.hdb" || return 1
	hex=$(printf '%s' "$PS_MARK" | sigtool --hex-dump) && [ -n "$hex" ] || return 1
	printf 'Hmilock.Test.Body:0:*:%s\n' "$hex" >"$PS_SIGS/test.ndb"
}

# ps_corrupt_copy DIR: a copy of the databases in DIR with one broken line
# in the body signatures (what a truncated copy off a USB stick looks like).
ps_corrupt_copy() {
	mkdir -p "$1" && cp "$PS_SIGS"/* "$1"/ && printf 'Hmilock.Test.Broken:0:*:4g\n' >>"$1/test.ndb"
}
