#ifndef BOXWALK_LAYERFS_H
#define BOXWALK_LAYERFS_H
// File system calls for layers and overlays that Swift's Glibc module does not offer: openat2(2)
// (no glibc wrapper), the xattr calls (sys/xattr.h is not in the module), mknodat(2) for a
// whiteout, and the overlay mount built one layer at a time with fsconfig(2).

#include <stddef.h>
#include <sys/types.h>

// O_PATH (fcntl.h, only with _GNU_SOURCE): a descriptor that names a file without opening it.
#define BW_O_PATH 010000000

// openat2(2) resolve flags (linux/openat2.h).
#define BW_RESOLVE_NO_XDEV 0x01
#define BW_RESOLVE_NO_MAGICLINKS 0x02
#define BW_RESOLVE_NO_SYMLINKS 0x04
#define BW_RESOLVE_BENEATH 0x08
#define BW_RESOLVE_IN_ROOT 0x10

/// openat2(2): open `path` relative to `dirfd` with `flags` and `mode`, resolving it as `resolve`
/// says. With RESOLVE_IN_ROOT, "/" and ".." stop at `dirfd` (as if chrooted there); with
/// RESOLVE_NO_SYMLINKS no symbolic link is followed anywhere on the way (ELOOP instead).
int bw_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve);

/// fgetxattr(2): the value of an extended attribute of an open file; -1 with ENODATA if unset.
ssize_t bw_fgetxattr(int fd, const char *name, void *value, size_t size);
/// fsetxattr(2).
int bw_fsetxattr(int fd, const char *name, const void *value, size_t size);
/// mknodat(2) of a character device 0/0: how overlayfs writes a whiteout.
int bw_mknod_whiteout(int dirfd, const char *name);
/// major and minor of a device number (makedev(3)'s inverse): 1 when `dev` is 0/0.
int bw_is_whiteout_device(unsigned long long dev);

/// 1 when the calling process is in the initial user namespace: its /proc/self/uid_map is the
/// identity over the whole 32-bit range ("0 0 4294967295"), which only the initial namespace
/// has (user_namespaces(7)); 0 in any other; -1 with errno when the map cannot be read.
int bw_in_initial_user_namespace(void);

#endif
