#ifndef BOXWALK_BOXMOUNT_H
#define BOXWALK_BOXMOUNT_H
// The new mount API on file descriptors (Linux 5.2): a mount is made detached, as a file
// descriptor, and attached with move_mount(2) onto a directory that is itself a descriptor. The
// helper opens that directory with openat2(2) beneath the box's root, so no path the box can
// influence is ever resolved through the host's root. glibc 2.36 wraps these calls, but its
// headers clash with linux/mount.h, so here are one-line wrappers (each returns what the kernel
// returns: -1 with errno) and the constants of linux/mount.h.

// fsopen(2) flags.
#define BW_FSOPEN_CLOEXEC 0x00000001
// fsconfig(2) commands.
#define BW_FSCONFIG_SET_FD 5
#define BW_FSCONFIG_CMD_CREATE 6
// fsmount(2) flags and mount attributes.
#define BW_FSMOUNT_CLOEXEC 0x00000001
#define BW_MOUNT_ATTR_RDONLY 0x00000001
#define BW_MOUNT_ATTR_NOSUID 0x00000002
#define BW_MOUNT_ATTR_NODEV 0x00000004
#define BW_MOUNT_ATTR_NOEXEC 0x00000008
// move_mount(2) flags: the source and the target are the descriptors themselves.
#define BW_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define BW_MOVE_MOUNT_T_EMPTY_PATH 0x00000040
// open_tree(2) flags: clone the mount (a bind mount not yet attached anywhere), with every mount
// below it (AT_RECURSIVE, as MS_BIND|MS_REC), of the descriptor itself (AT_EMPTY_PATH).
#define BW_OPEN_TREE_CLONE 1
#define BW_OPEN_TREE_CLOEXEC 02000000
#define BW_AT_RECURSIVE 0x8000
#define BW_AT_EMPTY_PATH 0x1000
// umount2(2): do not follow the last component if it is a symbolic link.
#define BW_UMOUNT_NOFOLLOW 0x00000008

/// fsopen(2): a new, unconfigured file system context of type `fstype` ("proc", "tmpfs", ...).
int bw_fsopen(const char *fstype, unsigned int flags);
/// fsconfig(2) with a value that is a file descriptor (FSCONFIG_SET_FD), e.g. proc's "pidns".
int bw_fsconfig_fd(int fsfd, const char *key, int fd);
/// fsconfig(2) with a string value (FSCONFIG_SET_STRING), e.g. tmpfs's "mode".
int bw_fsconfig_string(int fsfd, const char *key, const char *value);
/// fsconfig(2) FSCONFIG_CMD_CREATE: make the superblock from the context's configuration.
int bw_fsconfig_create(int fsfd);
/// fsconfig(2) FSCONFIG_SET_FLAG: a flag without a value, e.g. overlayfs's "userxattr".
int bw_fsconfig_flag(int fsfd, const char *key);
/// fsmount(2): a detached mount of the created superblock, with MOUNT_ATTR_* `attrs`.
int bw_fsmount(int fsfd, unsigned int flags, unsigned int attrs);
/// open_tree(2): with OPEN_TREE_CLONE, a detached copy of the mount (tree) at `dirfd`/`path`.
int bw_open_tree(int dirfd, const char *path, unsigned int flags);
/// move_mount(2) from descriptor to descriptor (MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH):
/// attaches the detached mount `from` on the directory `to`.
int bw_move_mount_fds(int from, int to);
/// move_mount(2) of the detached mount `from` (MOVE_MOUNT_F_EMPTY_PATH) onto the directory `path`,
/// looked up by name: for boxwalk's own directories, never a path the box chose.
int bw_move_mount_to_path(int from, const char *path);
/// mount_setattr(2) on the mount `fd` itself (AT_EMPTY_PATH): sets the MOUNT_ATTR_* `attrs`.
int bw_mount_setattr_fd(int fd, unsigned long long attrs);
/// major(3) and minor(3) of a device number (macros in glibc, which Swift cannot call).
unsigned int bw_major(unsigned long long dev);
unsigned int bw_minor(unsigned long long dev);

#endif
