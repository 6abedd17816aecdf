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

/// Mount an overlay at `target` with the new mount API: fsopen("overlay"), one
/// fsconfig(FSCONFIG_SET_STRING, "lowerdir+", path) per lower layer (Linux 6.8: a path can hold
/// ',' or ':' without escaping, so no path can inject an option), then "upperdir", "workdir",
/// FSCONFIG_CMD_CREATE, fsmount(2) with nosuid and nodev, move_mount(2). `lowers` has `count`
/// paths, top first. Returns 0, or -1 with errno; `*stage` names the call that failed.
///
/// A directory may come as a descriptor instead (`*_fd` >= 0, else -1): then the layer is given
/// with FSCONFIG_SET_FD (Linux 6.13) and the mount attached with MOVE_MOUNT_T_EMPTY_PATH, for a
/// directory the helper cannot reach by name any more (a box mounted over it; Anchors.swift).
///
/// `userxattr` nonzero sets the "userxattr" flag (FSCONFIG_SET_FLAG, Linux 5.11): overlayfs then
/// keeps its own marks (opaque directories, redirects) in user.overlay.* xattrs instead of
/// trusted.overlay.*, which only CAP_SYS_ADMIN in the initial user namespace may set. A mount made
/// inside any other user namespace needs it, or removing a lower directory fails with EIO
/// (Documentation/filesystems/overlayfs.rst, "User xattr").
int bw_mount_overlay(const char *target, int target_fd, const char *const *lowers, const int *lower_fds, int count,
                     const char *upper, int upper_fd, const char *work, int work_fd, int userxattr,
                     const char **stage);

/// 1 when the calling process is in the initial user namespace: its /proc/self/uid_map is the
/// identity over the whole 32-bit range ("0 0 4294967295"), which only the initial namespace
/// has (user_namespaces(7)); 0 in any other; -1 with errno when the map cannot be read.
int bw_in_initial_user_namespace(void);

#endif
