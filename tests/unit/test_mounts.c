/* test_mounts.c - unit tests for the pure parts of agent/mounts.c: parsing
 * /proc/self/mountinfo lines (optional fields, octal escapes, malformed
 * lines, read-only), which filesystem types are pseudo and which the
 * change recorder leaves out, and "at or below" a watch
 * point. Marking itself is covered by the integration tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mounts.h"

struct parse_row {
	const char *line;
	int rc;
	int id, parent;
	unsigned major, minor;
	const char *mountpoint, *fstype;
};

static const struct parse_row parse_rows[] = {
    {"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue", 0, 36, 35,
     98, 0, "/mnt2", "ext3"},
    {"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw", 0, 22, 1, 0, 21,
     "/proc", "proc"},
    {"99 30 0:55 / /tmp/a\\040b\\011c\\134d rw - tmpfs x rw", 0, 99, 30, 0, 55, "/tmp/a b\tc\\d",
     "tmpfs"},
    {"40 30 0:60 / /tmp/t rw,relatime shared:1 master:2 propagate_from:3 - tmpfs hmilock-test "
     "rw,size=262144k\n",
     0, 40, 30, 0, 60, "/tmp/t", "tmpfs"},
    {"41 30 8:1 / / rw - fuse.sshfs host:/ rw", 0, 41, 30, 8, 1, "/", "fuse.sshfs"},
    /* malformed */
    {"", -EINVAL, 0, 0, 0, 0, NULL, NULL},
    {"36 35 98:0 /mnt1", -EINVAL, 0, 0, 0, 0, NULL, NULL},
    {"36 35 98:0 /mnt1 /mnt2 rw master:1 ext3 /dev/root rw", -EINVAL, 0, 0, 0, 0, NULL, NULL},
    {"x 35 98:0 / /mnt rw - ext3 /dev/root rw", -EINVAL, 0, 0, 0, 0, NULL, NULL},
    {"36 35 980 / /mnt rw - ext3 /dev/root rw", -EINVAL, 0, 0, 0, 0, NULL, NULL},
    {"36 35 98:0 / mnt rw - ext3 /dev/root rw", -EINVAL, 0, 0, 0, 0, NULL, NULL},
    {"36 35 98:0 / /mnt rw -", -EINVAL, 0, 0, 0, 0, NULL, NULL},
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		const struct parse_row *r = &parse_rows[i];
		char line[512];
		struct mnt_info mi;
		int rc;

		memset(&mi, 0, sizeof(mi));
		strcpy(line, r->line);
		rc = mounts_parse_line(line, &mi);
		if (rc != r->rc) {
			print_error("row %zu '%s': rc %d, want %d\n", i, r->line, rc, r->rc);
			fail();
		}
		if (rc)
			continue;
		assert_int_equal(mi.id, r->id);
		assert_int_equal(mi.parent, r->parent);
		assert_int_equal(mi.major, r->major);
		assert_int_equal(mi.minor, r->minor);
		assert_string_equal(mi.mountpoint, r->mountpoint);
		assert_string_equal(mi.fstype, r->fstype);
	}
}

static void test_too_long(void **state)
{
	static char line[2 * PATH_MAX];
	struct mnt_info mi;
	size_t n;

	(void)state;
	n = (size_t)snprintf(line, sizeof(line), "1 1 0:1 / /");
	memset(line + n, 'a', PATH_MAX + 10);
	strcpy(line + n + PATH_MAX + 10, " rw - tmpfs x rw");
	assert_int_equal(mounts_parse_line(line, &mi), -EINVAL);
}

/* A FUSE type with a long subtype: kept truncated and never a pseudo type,
 * so the mount is marked like any other (it used to be skipped). */
static void test_long_fstype(void **state)
{
	static char line[2048];
	struct mnt_info mi;
	size_t n;

	(void)state;
	n = (size_t)snprintf(line, sizeof(line), "40 1 0:77 / /media/usb rw - fuse.");
	memset(line + n, 'x', 600);
	strcpy(line + n + 600, " dev rw");
	assert_int_equal(mounts_parse_line(line, &mi), 0);
	assert_string_equal(mi.mountpoint, "/media/usb");
	assert_int_equal(strlen(mi.fstype), sizeof(mi.fstype) - 1);
	assert_memory_equal(mi.fstype, "fuse.xxx", 8);
	assert_false(mounts_fstype_pseudo(mi.fstype));
}

static void test_pseudo(void **state)
{
	static const char *const pseudo[] = {"proc",    "sysfs",      "cgroup2", "bpf",   "debugfs",
	                                     "tracefs", "securityfs", "devpts",  "mqueue"};
	static const char *const real[] = {"ext4",     "xfs",     "btrfs",   "tmpfs",
	                                   "vfat",     "fuseblk", "overlay", "devtmpfs",
	                                   "squashfs", "nfs4",    "ramfs"};

	(void)state;
	for (size_t i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++)
		assert_true(mounts_fstype_pseudo(pseudo[i]));
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++)
		assert_false(mounts_fstype_pseudo(real[i]));
}

/* The change recorder's rule: pseudo filesystems, ramfs and FUSE views
 * are left out; every filesystem a program can be installed on is not. */
static void test_unrecorded(void **state)
{
	static const char *const out[] = {
	    "proc",   "sysfs", "cgroup2",  "ramfs",   "bpf",      "fuse.portal", "fuse.gvfsd-fuse",
	    "devpts", "nsfs",  "efivarfs", "tracefs", "configfs", "mqueue"};
	static const char *const in[] = {"ext4", "xfs",      "btrfs",    "tmpfs",
	                                 "vfat", "fuseblk",  "overlay",  "nfs4",
	                                 "f2fs", "squashfs", "devtmpfs", "fuse.sshfs"};

	(void)state;
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		assert_true(mounts_fstype_unrecorded(out[i]));
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_false(mounts_fstype_unrecorded(in[i]));
}

/* Read-only: the mount's own options, or the superblock's. */
static void test_ro(void **state)
{
	static const struct {
		const char *line;
		bool ro;
	} rows[] = {
	    {"36 35 98:0 / /a ro,relatime - ext4 /dev/sda1 ro", true},
	    {"36 35 98:0 / /a ro - overlay x rw,lowerdir=/l", true},
	    {"36 35 98:0 / /a rw,nosuid - squashfs /dev/loop0 ro,errors=continue", true},
	    {"36 35 98:0 / /a rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro", false},
	    {"36 35 98:0 / /a rw,nosuid,rootcontext=ro - tmpfs x rw,size=10k", false},
	    {"36 35 98:0 / /a rw - tmpfs x", false},
	};
	char line[256];
	struct mnt_info mi;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		strcpy(line, rows[i].line);
		assert_int_equal(mounts_parse_line(line, &mi), 0);
		if (mi.ro != rows[i].ro) {
			print_error("'%s': ro %d, want %d\n", rows[i].line, mi.ro, rows[i].ro);
			fail();
		}
	}
}

static void test_below(void **state)
{
	static const struct {
		const char *root, *path;
		bool below;
	} rows[] = {
	    {"/tmp/t", "/tmp/t", true},     {"/tmp/t", "/tmp/t/sub", true},
	    {"/tmp/t", "/tmp/t/a/b", true}, {"/tmp/t", "/tmp/tt", false},
	    {"/tmp/t", "/tmp", false},      {"/tmp/t", "/", false},
	    {"/", "/anything", true},       {"/", "/", true},
	    {"/tmp/t", "/tmp/t2/x", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (wl_path_below(rows[i].root, rows[i].path) != rows[i].below) {
			print_error("%s below %s: want %d\n", rows[i].path, rows[i].root,
			            rows[i].below);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),       cmocka_unit_test(test_too_long),
	    cmocka_unit_test(test_long_fstype), cmocka_unit_test(test_pseudo),
	    cmocka_unit_test(test_unrecorded),  cmocka_unit_test(test_ro),
	    cmocka_unit_test(test_below),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
