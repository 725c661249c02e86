/* A private /etc/hosts for unit tests that resolve names.
 *
 * Minimal roots and containers often have no /etc/hosts, and then not even
 * "localhost" resolves. own_hosts(text) moves the calling process into a
 * new user and mount namespace of its own (uid and gid mapped to
 * themselves, so file permissions mean what they meant), mounts a file
 * holding TEXT over /etc/hosts (or, when there is no /etc/hosts to mount
 * over, an overlay of /etc that adds one), and drops the namespace's
 * capabilities again. Nothing outside the process sees it; it ends with
 * the process. Call it first thing in main(), while single-threaded.
 * Returns 0 or -errno, with what failed in why. */
#ifndef RINGSCAN_TEST_OWN_HOSTS_H
#define RINGSCAN_TEST_OWN_HOSTS_H

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Write TEXT to PATH (created or truncated); 0 or -errno. */
static inline int own_hosts_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc = 0;
	size_t n = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		rc = errno ? -errno : -EIO;
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

/* Become the only user of a new user and mount namespace, ids mapped to
 * themselves, mounts private; 0 or -errno. */
static inline int own_hosts_unshare(char *why, size_t whylen)
{
	char map[64];
	unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();
	int rc;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS)) {
		rc = -errno;
		snprintf(why, whylen, "unshare(CLONE_NEWUSER|CLONE_NEWNS): %s", strerror(errno));
		return rc;
	}
	snprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
	rc = own_hosts_write("/proc/self/uid_map", map);
	if (!rc)
		rc = own_hosts_write("/proc/self/setgroups", "deny\n");
	snprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
	if (!rc)
		rc = own_hosts_write("/proc/self/gid_map", map);
	if (!rc && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		rc = -errno;
	if (rc)
		snprintf(why, whylen, "mapping ids or making / private: %s", strerror(-rc));
	return rc;
}

/* See the comment at the top of this file. */
static inline int own_hosts(const char *text, char *why, size_t whylen)
{
	char dir[] = "/tmp/rs_own_hosts.XXXXXX", path[96], opts[320];
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct none[2];
	int rc;

	rc = own_hosts_unshare(why, whylen);
	if (rc)
		return rc;
	if (!mkdtemp(dir) || mount("tmpfs", dir, "tmpfs", 0, "mode=0755")) {
		rc = -errno;
		snprintf(why, whylen, "a tmpfs on %s: %s", dir, strerror(errno));
		return rc;
	}
	if (access("/etc/hosts", F_OK) == 0) {
		snprintf(path, sizeof(path), "%s/hosts", dir);
		rc = own_hosts_write(path, text);
		if (!rc && mount(path, "/etc/hosts", NULL, MS_BIND, NULL))
			rc = -errno;
	} else {
		snprintf(path, sizeof(path), "%s/up", dir);
		rc = mkdir(path, 0755) ? -errno : 0;
		snprintf(path, sizeof(path), "%s/work", dir);
		if (!rc && mkdir(path, 0755))
			rc = -errno;
		snprintf(path, sizeof(path), "%s/up/hosts", dir);
		if (!rc)
			rc = own_hosts_write(path, text);
		snprintf(opts, sizeof(opts), "lowerdir=/etc,upperdir=%s/up,workdir=%s/work", dir,
			 dir);
		if (!rc && mount("overlay", "/etc", "overlay", 0, opts))
			rc = -errno;
	}
	if (rc)
		snprintf(why, whylen, "mounting a private /etc/hosts: %s", strerror(-rc));
	umount2(dir, MNT_DETACH); /* the mount above keeps what it needs */
	rmdir(dir);
	memset(none, 0, sizeof(none));
	if (syscall(SYS_capset, &hdr, none) && !rc) {
		rc = -errno;
		snprintf(why, whylen, "capset: %s", strerror(errno));
	}
	return rc;
}

#endif
