// floor: the raw system-call floor of each boxwalk step kind (issue 10).
//
// Each case does the kernel work of one step with direct system calls from C, the cheapest way
// to do it, and nothing else: no helper protocol, no Swift, no state tree. bench/run compiles
// this with gcc -O2 -static and runs it in the same run as the Swift benchmark, so a step's time
// is compared with a floor measured on the same machine at the same moment.
//
//   floor all RUNS IMAGE SCRATCH     every case
//   floor fs RUNS IMAGE SCRATCH      only the cases that write files (rootfs, container)
//   floor net RUNS IMAGE SCRATCH     only the network cases (net veth, net addr, read: net)
//
// Each case prints one line, tab-separated: "floor NAME MEDIAN P25 P75 RUNS", in milliseconds.
// IMAGE is a directory tree to copy (the busybox image boxwalk builds), SCRATCH a directory on
// the same file system as boxwalk's session directory, where copies are made and removed. Every
// namespace is made in a child process that exits, so nothing is left behind; nothing is mounted
// in this process's own mount namespace, and no network request goes to its network namespace.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define NS_GET_USERNS _IO(0xb7, 0x1)

static const char *image_dir, *scratch_dir, *self_path;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void report(const char *name, int64_t *samples, int n) {
  qsort(samples, n, sizeof *samples, cmp);
  // Nearest rank, as the Swift side (Stopwatch.swift) computes it.
  int m = (int)((n - 1) * 0.5 + 0.5), lo = (int)((n - 1) * 0.25 + 0.5), hi = (int)((n - 1) * 0.75 + 0.5);
  printf("floor\t%s\t%.4f\t%.4f\t%.4f\t%d\n", name, samples[m] / 1e6, samples[lo] / 1e6, samples[hi] / 1e6, n);
  fflush(stdout);
}

// ---------------------------------------------------------------------------------------------
// Running a timed body in a fresh child: `setup` runs untimed (unshare the namespaces the step
// needs first), then `body` is timed inside the child, which sends the nanoseconds back and exits.

typedef int (*step_fn)(void *arg);

static int64_t in_child(step_fn setup, step_fn body, void *arg) {
  int fds[2];
  if (pipe(fds) < 0) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(fds[0]);
    int64_t t = -1;
    if (!setup || setup(arg) == 0) {
      int64_t start = now_ns();
      if (body(arg) == 0) t = now_ns() - start;
      else fprintf(stderr, "floor: child step failed: %s\n", strerror(errno));
    } else {
      fprintf(stderr, "floor: child setup failed: %s\n", strerror(errno));
    }
    if (write(fds[1], &t, sizeof t) != sizeof t) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  int64_t t = -1;
  if (read(fds[0], &t, sizeof t) != sizeof t) t = -1;
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return t;
}

static void run_child_case(const char *name, int runs, step_fn setup, step_fn body, void *arg) {
  int64_t *samples = calloc(runs, sizeof *samples);
  for (int i = 0; i < runs + 3; i++) {
    int64_t t = in_child(setup, body, arg);
    if (t < 0) {
      printf("floor\t%s\t-\t-\t-\t0\tnote=failed\n", name);
      free(samples);
      return;
    }
    if (i >= 3) samples[i - 3] = t;
  }
  report(name, samples, runs);
  free(samples);
}

// ---------------------------------------------------------------------------------------------
// Namespaces and the steps inside them.

static int do_unshare(void *arg) { return unshare((int)(intptr_t)arg); }

// unshare(CLONE_NEWNS) and make "/" private at once, as boxwalk (and runc) do.
static int unshare_mnt_private(void *arg) {
  int flags = (int)(intptr_t)arg;
  if (unshare(flags | CLONE_NEWNS) < 0) return -1;
  return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

static int set_hostname(void *arg) {
  (void)arg;
  return sethostname("lab-box", 7);
}

static int mount_tmpfs(void *arg) {
  (void)arg;
  return mount("tmpfs", "/mnt", "tmpfs", MS_NOSUID | MS_NODEV, NULL);
}

static int make_queue(void *arg) {
  (void)arg;
  return msgget(42, IPC_CREAT | IPC_EXCL | 0600) < 0 ? -1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Removing a tree (the box's scratch directory at box rm), as boxwalk's FileTree does.

static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) < 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *dir = opendir(path);
    if (dir) {
      struct dirent *e;
      while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char a[PATH_MAX];
        snprintf(a, sizeof a, "%s/%s", path, e->d_name);
        remove_tree(a);
      }
      closedir(dir);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

// rootfs busybox: since `rootfs IMAGE` is an overlay of the image, its floor is what
// boxwalk does for it: a scratch directory with the upper, work and mount-point directories,
// then, in the box's own mount namespace, an overlay of the image's one layer under that upper
// layer (overlayfs: Documentation/filesystems/overlayfs.rst). The overlay is a mount point, so
// pivot_root accepts it with no bind mount first.
static char scratch_box[PATH_MAX], rootfs[PATH_MAX + 16], rootfs_upper[PATH_MAX + 16], rootfs_work[PATH_MAX + 16];

static int make_rootfs_dirs(void) {
  const char *dirs[] = {scratch_box, rootfs_upper, rootfs_work, rootfs};
  for (int i = 0; i < 4; i++) {
    if (mkdir(dirs[i], 0755) < 0 && errno != EEXIST) return -1;
  }
  return 0;
}

static int mount_rootfs(void *arg) {
  (void)arg;
  char options[3 * PATH_MAX + 128];
  snprintf(options, sizeof options, "lowerdir=%s,upperdir=%s,workdir=%s", image_dir, rootfs_upper, rootfs_work);
  return mount("overlay", rootfs, "overlay", MS_NOSUID | MS_NODEV, options);
}

static int make_rootfs(void *arg) {
  if (make_rootfs_dirs() < 0) return -1;
  return mount_rootfs(arg);
}

// Untimed setup for the steps after rootfs: the box's mount namespace with its overlay root.
static int setup_rootfs(void *arg) {
  if (unshare_mnt_private(0) < 0) return -1;
  return make_rootfs(arg);
}

// mount bind / /: binding the root filesystem onto itself, which a plain directory needs before
// pivot_root (still a step of its own in boxwalk).
static int bind_rootfs(void *arg) {
  (void)arg;
  return mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL);
}

static int pivot(void *arg) {
  (void)arg;
  char old[PATH_MAX + 32];
  snprintf(old, sizeof old, "%s/.oldroot", rootfs);
  if (mkdir(old, 0700) < 0 && errno != EEXIST) return -1;
  if (syscall(SYS_pivot_root, rootfs, old) < 0) return -1;
  if (chdir("/") < 0) return -1;
  if (umount2("/.oldroot", MNT_DETACH) < 0) return -1;
  return rmdir("/.oldroot");
}

// ---------------------------------------------------------------------------------------------
// Cases timed from the parent.

// box new: socketpair, fork, PR_SET_PDEATHSIG, setsid, the socket on fd 3, execve of a static
// program that says hello on it. Timed until the hello arrives. Then box rm: SIGKILL and reap.
static void case_spawn(int runs) {
  int64_t *spawn = calloc(runs, sizeof *spawn), *kill_reap = calloc(runs, sizeof *kill_reap);
  for (int i = 0; i < runs + 3; i++) {
    int64_t start = now_ns();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      setsid();
      dup2(sv[1], 3);
      char *argv[] = {"floor", "--hello", NULL};
      char *envp[] = {"PATH=/usr/bin:/bin", NULL};
      execve(self_path, argv, envp);
      _exit(127);
    }
    close(sv[1]);
    char hello[16];
    if (recv(sv[0], hello, sizeof hello, 0) <= 0) die("recv hello");
    int64_t spawned = now_ns();
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    close(sv[0]);
    int64_t reaped = now_ns();
    if (i >= 3) {
      spawn[i - 3] = spawned - start;
      kill_reap[i - 3] = reaped - spawned;
    }
  }
  report("box new", spawn, runs);
  report("box rm", kill_reap, runs);
  free(spawn);
  free(kill_reap);
}

// The helper's side of --hello: say hello, then wait for end of file.
static int hello_main(void) {
  send(3, "hello", 5, 0);
  char buffer[64];
  while (recv(3, buffer, sizeof buffer, 0) > 0) {
  }
  return 0;
}

// run /bin/true: a pipe for its output, fork, execve, read to end of file, waitpid.
static void case_run_true(int runs) {
  int64_t *samples = calloc(runs, sizeof *samples);
  for (int i = 0; i < runs + 3; i++) {
    int64_t start = now_ns();
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) die("pipe2");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      char *argv[] = {"/bin/true", NULL};
      char *envp[] = {"PATH=/usr/bin:/bin", NULL};
      execve("/bin/true", argv, envp);
      _exit(127);
    }
    close(fds[1]);
    char buffer[256];
    while (read(fds[0], buffer, sizeof buffer) > 0) {
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (i >= 3) samples[i - 3] = now_ns() - start;
  }
  report("run /bin/true", samples, runs);
  free(samples);
}

// ledger record: what boxwalk writes before it makes a directory that would outlive a crash of
// the machine, so cleanup can find it: the ledger, a few hundred bytes, into a temporary file,
// fsync(2), then rename(2) over the old one. On tmpfs the fsync is free; on a disk file system it
// is a journal commit.
static void case_ledger(int runs) {
  char temporary[PATH_MAX], ledger[PATH_MAX];
  snprintf(temporary, sizeof temporary, "%s/floor-ledger.tmp", scratch_dir);
  snprintf(ledger, sizeof ledger, "%s/floor-ledger", scratch_dir);
  static const char text[] =
      "boxwalk-ledger 1 00000000-0000-0000-0000-000000000000 1234 5678\n"
      "helper web 1235 5679\n"
      "scratch web /run/boxwalk/1234-5678/boxes/web-overlay\n";
  int64_t *samples = calloc(runs, sizeof *samples);
  for (int i = 0; i < runs + 3; i++) {
    int64_t start = now_ns();
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1) || fsync(fd) < 0) die("ledger");
    close(fd);
    if (rename(temporary, ledger) < 0) die("rename ledger");
    if (i >= 3) samples[i - 3] = now_ns() - start;
  }
  unlink(ledger);
  report("ledger record", samples, runs);
  free(samples);
}

// rootfs busybox: the directories and the overlay mount in a child's own mount namespace (as
// boxwalk-helper mounts it in the box's); the removal of the scratch directory (box rm) is timed
// separately, in the parent, after the child's namespace (and with it the mount) is gone.
static void case_rootfs(int runs) {
  int64_t *make = calloc(runs, sizeof *make), *removal = calloc(runs, sizeof *removal);
  for (int i = 0; i < runs + 3; i++) {
    int64_t t = in_child(unshare_mnt_private, make_rootfs, 0);
    if (t < 0) die("overlay rootfs");
    int64_t start = now_ns();
    remove_tree(scratch_box);
    int64_t removed = now_ns();
    if (i >= 3) {
      make[i - 3] = t;
      removal[i - 3] = removed - start;
    }
  }
  report("rootfs busybox", make, runs);
  report("rootfs removal", removal, runs);
  free(make);
  free(removal);
}

// map uid: a child unshares its user namespace; the parent writes its uid_map (one write(2)).
static void case_map(int runs) {
  int64_t *samples = calloc(runs, sizeof *samples);
  for (int i = 0; i < runs + 3; i++) {
    int ready[2], go[2];
    if (pipe(ready) < 0 || pipe(go) < 0) die("pipe");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
      if (write(ready[1], &c, 1) != 1) _exit(1);
      if (read(go[0], &c, 1) != 1) _exit(1);
      _exit(0);
    }
    char c;
    if (read(ready[0], &c, 1) != 1 || c != 'y') die("child unshare user");
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    int64_t start = now_ns();
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0 100000 65536\n", 15) != 15) die("write uid_map");
    close(fd);
    int64_t t = now_ns() - start;
    if (write(go[1], "x", 1) != 1) die("go");
    int status;
    waitpid(pid, &status, 0);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
    if (i >= 3) samples[i - 3] = t;
  }
  report("map uid", samples, runs);
  free(samples);
}

// ---------------------------------------------------------------------------------------------
// Reading a box's state: what facts() learns, with the fewest system calls. The box is a child
// with its own uts, ipc, mnt and pid namespaces that answers one request over a SEQPACKET
// socket with its hostname and IPC objects (what only the inside can see); the rest is read
// from /proc from outside: every ns link of the host and the box, the box's mountinfo, its
// children, status, uid_map and gid_map of both, and the owner of each box namespace.

static int read_file(const char *path, char *buffer, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n, total = 0;
  while ((n = read(fd, buffer, size)) > 0) total += n;
  close(fd);
  return (int)total;
}

// Every System V object of the caller's IPC namespace (sysvipc(7)): *_INFO for the highest
// index, then *_STAT_ANY for each slot, as boxwalk's bw_ipc_list does.
static void list_ipc(void) {
  struct msginfo mi;
  int highest = msgctl(0, MSG_INFO, (struct msqid_ds *)&mi);
  for (int i = 0; i <= highest; i++) {
    struct msqid_ds ds;
    msgctl(i, MSG_STAT_ANY, &ds);
  }
  struct shminfo si;
  highest = shmctl(0, SHM_INFO, (struct shmid_ds *)&si);
  for (int i = 0; i <= highest; i++) {
    struct shmid_ds ds;
    shmctl(i, SHM_STAT_ANY, &ds);
  }
  struct seminfo mi2;
  highest = semctl(0, 0, SEM_INFO, &mi2);
  for (int i = 0; i <= highest; i++) {
    struct semid_ds ds;
    semctl(i, 0, SEM_STAT_ANY, &ds);
  }
}

static const char *ns_names[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};

static void read_process(const char *pid, int owners) {
  char path[128], buffer[16384];
  struct stat st;
  for (int k = 0; k < 8; k++) {
    snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, ns_names[k]);
    stat(path, &st);
    if (owners && strcmp(ns_names[k], "user")) {
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      int owner = ioctl(fd, NS_GET_USERNS);
      fstat(owner, &st);
      close(owner);
      close(fd);
    }
  }
  snprintf(path, sizeof path, "/proc/%s/status", pid);
  read_file(path, buffer, sizeof buffer);
  snprintf(path, sizeof path, "/proc/%s/uid_map", pid);
  read_file(path, buffer, sizeof buffer);
  snprintf(path, sizeof path, "/proc/%s/gid_map", pid);
  read_file(path, buffer, sizeof buffer);
}

static void case_read(int runs) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(sv[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWPID) < 0) _exit(1);
    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    sethostname("lab-box", 7);
    // One process in the box, as `run -d sleep 1000` makes it.
    if (fork() == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      pause();
      _exit(0);
    }
    char request[64], reply[512];
    while (recv(sv[1], request, sizeof request, 0) > 0) {
      struct utsname names;
      uname(&names);
      list_ipc();
      int n = snprintf(reply, sizeof reply, "%s %s", names.nodename, names.domainname);
      send(sv[1], reply, n, 0);
    }
    _exit(0);
  }
  close(sv[1]);
  char box[16];
  snprintf(box, sizeof box, "%d", pid);
  int64_t *samples = calloc(runs, sizeof *samples);
  for (int i = 0; i < runs + 3; i++) {
    int64_t start = now_ns();
    struct utsname names;
    uname(&names);
    read_process("self", 0);
    list_ipc();
    char reply[512], path[128], buffer[65536];
    send(sv[0], "facts", 5, 0);
    recv(sv[0], reply, sizeof reply, 0);
    read_process(box, 1);
    snprintf(path, sizeof path, "/proc/%s/mountinfo", box);
    read_file(path, buffer, sizeof buffer);
    snprintf(path, sizeof path, "/proc/%s/task/%s/children", box, box);
    int len = read_file(path, buffer, sizeof buffer - 1);
    buffer[len > 0 ? len : 0] = 0;
    for (char *p = strtok(buffer, " \n"); p; p = strtok(NULL, " \n")) {
      char child[PATH_MAX], text[4096];
      snprintf(child, sizeof child, "/proc/%s/status", p);
      read_file(child, text, sizeof text);
      snprintf(child, sizeof child, "/proc/%s/cmdline", p);
      read_file(child, text, sizeof text);
    }
    if (i >= 3) samples[i - 3] = now_ns() - start;
  }
  report("read", samples, runs);
  free(samples);
  close(sv[0]);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

// ---------------------------------------------------------------------------------------------
// A whole container, the least a runtime can do: the overlay's directories, clone(2) into six new
// namespaces, make / private, mount the overlay of busybox, pivot_root, mount /proc, execve
// /bin/true, wait, remove the directories. (The cgroup limit is measured alone by case_cgroup.)

static int container_child(void *arg) {
  (void)arg;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) _exit(10);
  if (mount_rootfs(NULL) < 0) _exit(11);
  if (pivot(NULL) < 0) _exit(12);
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) _exit(13);
  char *argv[] = {"/bin/true", NULL};
  char *envp[] = {"PATH=/bin", NULL};
  execve("/bin/true", argv, envp);
  _exit(14);
}

static void case_container(int runs) {
  int64_t *samples = calloc(runs, sizeof *samples);
  static char stack[1 << 16];
  for (int i = 0; i < runs + 3; i++) {
    int64_t start = now_ns();
    if (make_rootfs_dirs() < 0) die("rootfs directories");
    int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP;
    pid_t pid = clone(container_child, stack + sizeof stack, flags | SIGCHLD, NULL);
    if (pid < 0) die("clone");
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "floor: container child: status %d\n", status);
      exit(1);
    }
    remove_tree(scratch_box);
    if (i >= 3) samples[i - 3] = now_ns() - start;
  }
  report("container", samples, runs);
  free(samples);
}

// cgroup v1, as boxwalk's `cgroup new` does it on this hybrid host (strace of the REPL): in each
// of the memory, pids, cpu, cpuacct and freezer hierarchies, mkdir the three levels
// (boxwalk/SESSION/BOX here boxwalk-bench-floor-PID/s/b), then move the box's process in by
// writing its pid to each cgroup.procs. `cgroup set pids.max 64` is one write. The removal
// (rmdir deepest first, after the process is gone) is untimed.
static int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void case_cgroup(int runs) {
  static const char *hierarchies[] = {"memory", "pids", "cpu", "cpuacct", "freezer"};
  enum { H = 5 };
  char top[H][128], session[H][128], box[H][128], file[5 * 128 + 32], pid[16];
  for (int h = 0; h < H; h++) {
    const char *d = "/sys/fs/cgroup";
    snprintf(top[h], sizeof top[h], "%s/%s/boxwalk-bench-floor-%d", d, hierarchies[h], getpid());
    snprintf(session[h], sizeof session[h], "%s/%s/boxwalk-bench-floor-%d/s", d, hierarchies[h], getpid());
    snprintf(box[h], sizeof box[h], "%s/%s/boxwalk-bench-floor-%d/s/b", d, hierarchies[h], getpid());
  }
  int64_t *make = calloc(runs, sizeof *make), *set = calloc(runs, sizeof *set);
  for (int i = 0; i < runs + 3; i++) {
    // The box's process: a child that waits to be killed.
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
      pause();
      _exit(0);
    }
    snprintf(pid, sizeof pid, "%d", child);
    int64_t start = now_ns();
    int rc = 0;
    for (int h = 0; h < H && rc == 0; h++) {
      rc = mkdir(top[h], 0755) | mkdir(session[h], 0755) | mkdir(box[h], 0755);
    }
    for (int h = 0; h < H && rc == 0; h++) {
      snprintf(file, sizeof file, "%s/cgroup.procs", box[h]);
      rc = write_text(file, pid);
    }
    int64_t made = now_ns();
    snprintf(file, sizeof file, "%s/pids.max", box[1]);
    if (rc == 0) rc = write_text(file, "64");
    int64_t limited = now_ns();
    int failure = errno;
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
    }
    for (int h = 0; h < H; h++) {
      rmdir(box[h]);
      rmdir(session[h]);
      rmdir(top[h]);
    }
    if (rc != 0) {
      printf("floor\tcgroup new\t-\t-\t-\t0\tnote=%s\n", strerror(failure));
      free(make);
      free(set);
      return;
    }
    if (i >= 3) {
      make[i - 3] = made - start;
      set[i - 3] = limited - made;
    }
  }
  report("cgroup new", make, runs);
  report("cgroup set", set, runs);
  free(make);
  free(set);
}

// overlay of two layers: in a child's own mount namespace, an overlay of two lower directories
// with the upper and work directories on tmpfs (/run), as boxwalk will make it.
static char lower1[PATH_MAX], lower2[PATH_MAX], upper[PATH_MAX], work[PATH_MAX], merged[PATH_MAX];

static int mount_overlay(void *arg) {
  (void)arg;
  char options[4 * PATH_MAX + 64];
  snprintf(options, sizeof options, "lowerdir=%s:%s,upperdir=%s,workdir=%s", lower1, lower2, upper, work);
  return mount("overlay", merged, "overlay", 0, options);
}

static void case_overlay(int runs) {
  snprintf(lower1, sizeof lower1, "%s/ovl-lower1", scratch_dir);
  snprintf(lower2, sizeof lower2, "%s/ovl-lower2", scratch_dir);
  snprintf(upper, sizeof upper, "%s/ovl-upper", scratch_dir);
  snprintf(work, sizeof work, "%s/ovl-work", scratch_dir);
  snprintf(merged, sizeof merged, "%s/ovl-merged", scratch_dir);
  const char *dirs[] = {lower1, lower2, upper, work, merged};
  for (int i = 0; i < 5; i++) mkdir(dirs[i], 0755);
  run_child_case("overlay of two layers", runs, unshare_mnt_private, mount_overlay, 0);
  for (int i = 0; i < 5; i++) remove_tree(dirs[i]);
}

// ---------------------------------------------------------------------------------------------
// Networking (net veth, net addr): rtnetlink(7) messages on a NETLINK_ROUTE socket (netlink(7)),
// byte for byte the requests boxwalk builds (Sources/NetWire/RouteRequests.swift), sent from
// network namespaces of the floor's own. As in boxwalk's lab, the "host side" is a process that
// did nothing but unshare(CLONE_NEWNET), and the box is another process with a network namespace
// of its own. Each run gets a fresh box; when its process exits, its namespace dies and the
// kernel deletes the veth with it, both ends (veth(4)), as boxwalk's `box rm` lets it happen.
// The network namespace floor starts in (the machine's) is never sent a request: the lab
// refuses to run if unshare(2) did not give it a namespace of its own, and every box is checked
// against it before anything is sent (refuse_machine_net).

static ino_t machine_net;  // the inode of /proc/self/ns/net when floor starts
static dev_t machine_net_dev;
static pid_t machine_pid;  // floor's first process, which stays in that namespace

static uint32_t sequence;
static char answer[65536];  // boxwalk-helper's receive buffer: a dump datagram is at most 32 KiB

// A request: struct nlmsghdr, the family's fixed struct (ifinfomsg, ifaddrmsg, rtmsg, rtgenmsg),
// then attributes, each a struct rtattr (length, type) and its payload padded to 4 bytes.
struct request {
  struct nlmsghdr header;
  char room[1024];
};

static struct nlmsghdr *begin(struct request *r, uint16_t type, uint16_t flags, const void *fixed, size_t size) {
  memset(r, 0, sizeof *r);
  r->header.nlmsg_len = NLMSG_LENGTH(size);
  r->header.nlmsg_type = type;
  r->header.nlmsg_flags = flags;
  r->header.nlmsg_seq = ++sequence;  // nlmsg_pid 0: the kernel fills in our port id
  memcpy(NLMSG_DATA(&r->header), fixed, size);
  return &r->header;
}

// Append an attribute; with no payload it opens a nested one, which end_nest closes once its
// children (or, for VETH_INFO_PEER, an ifinfomsg and attributes) follow it.
static struct rtattr *attr(struct nlmsghdr *h, uint16_t type, const void *payload, size_t size) {
  struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(size);
  if (size) memcpy(RTA_DATA(a), payload, size);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static void end_nest(struct nlmsghdr *h, struct rtattr *nest) {
  nest->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)nest);
}

// A NETLINK_ROUTE socket, as boxwalk-helper's RouteSocket makes it: no bind(2) (the kernel gives
// it a port id on the first send, and a send without an address goes to the kernel), and a bound
// on the wait for an answer. It belongs to the network namespace of the process that made it.
static int route_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -1;
  struct timeval limit = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  return fd;
}

static int send_request(int fd, struct nlmsghdr *h) {
  ssize_t n;
  while ((n = send(fd, h, h->nlmsg_len, 0)) < 0 && errno == EINTR) {
  }
  return n == (ssize_t)h->nlmsg_len ? 0 : -1;
}

static int receive(int fd) {
  ssize_t n;
  while ((n = recv(fd, answer, sizeof answer, 0)) < 0 && errno == EINTR) {
  }
  if (n == 0) errno = EPROTO;
  return n > 0 ? (int)n : -1;
}

// A request that changes something carries NLM_F_ACK: the kernel answers with an NLMSG_ERROR
// message whose error is 0 (done) or -errno (rtnetlink(7)).
static int acknowledged(int fd, struct nlmsghdr *h) {
  if (send_request(fd, h) < 0) return -1;
  for (;;) {
    int n = receive(fd);
    if (n < 0) return -1;
    for (struct nlmsghdr *m = (struct nlmsghdr *)answer; NLMSG_OK(m, n); m = NLMSG_NEXT(m, n)) {
      if (m->nlmsg_seq != h->nlmsg_seq || m->nlmsg_type != NLMSG_ERROR) continue;
      int code = ((struct nlmsgerr *)NLMSG_DATA(m))->error;
      if (code == 0) return 0;
      errno = -code;
      return -1;
    }
  }
}

// A dump (NLM_F_DUMP): the kernel packs the records into as many datagrams as it takes, then
// sends NLMSG_DONE. `each` sees every record; boxwalk-helper parses them all into its Dump.
typedef void (*record_fn)(struct nlmsghdr *m, void *arg);

static int dumped(int fd, struct nlmsghdr *h, record_fn each, void *arg) {
  if (send_request(fd, h) < 0) return -1;
  for (;;) {
    int n = receive(fd);
    if (n < 0) return -1;
    for (struct nlmsghdr *m = (struct nlmsghdr *)answer; NLMSG_OK(m, n); m = NLMSG_NEXT(m, n)) {
      if (m->nlmsg_seq != h->nlmsg_seq) continue;
      if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) {
        int code = *(int *)NLMSG_DATA(m);
        if (code == 0) return 0;
        errno = -code;
        return -1;
      }
      if (each) each(m, arg);
    }
  }
}

// What boxwalk-helper's `netdump` asks the kernel, in the namespace `fd` belongs to: every link
// without statistics (`ip link show`), every IPv4 address (`ip -4 addr show`), every IPv4 route
// (`ip -4 route show table all`), then for each other lab process the id this namespace gives its
// network namespace (RTM_GETNSID, answered by one RTM_NEWNSID): that is how boxwalk tells which
// namespace a veth's peer is in (IFLA_LINK_NETNSID). `each` sees the link records.
static int dump_network(int fd, const pid_t *others, int count, record_fn each, void *arg) {
  struct request r;
  struct ifinfomsg link = {.ifi_family = AF_UNSPEC};
  struct nlmsghdr *h = begin(&r, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &link, sizeof link);
  uint32_t mask = RTEXT_FILTER_SKIP_STATS;
  attr(h, IFLA_EXT_MASK, &mask, sizeof mask);
  if (dumped(fd, h, each, arg) < 0) return -1;
  struct ifaddrmsg address = {.ifa_family = AF_INET, .ifa_scope = RT_SCOPE_UNIVERSE};
  if (dumped(fd, begin(&r, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, &address, sizeof address), NULL, NULL) < 0)
    return -1;
  struct rtmsg route = {.rtm_family = AF_INET};
  if (dumped(fd, begin(&r, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, &route, sizeof route), NULL, NULL) < 0)
    return -1;
  for (int i = 0; i < count; i++) {
    // struct rtgenmsg is one byte; boxwalk pads it to 4, as NLMSG_ALIGN does here.
    struct rtgenmsg family = {.rtgen_family = AF_UNSPEC};
    h = begin(&r, RTM_GETNSID, NLM_F_REQUEST, &family, sizeof family);
    uint32_t pid = (uint32_t)others[i];
    attr(h, NETNSA_PID, &pid, sizeof pid);
    // One answer, RTM_NEWNSID or an error (the process is gone), as boxwalk-helper reads it.
    if (send_request(fd, h) < 0 || receive(fd) < 0) return -1;
  }
  return 0;
}

// RTM_NEWADDR names a link by index only: boxwalk finds it in a link dump, by IFLA_IFNAME.
struct wanted_link {
  const char *name;
  int index;
};

static void find_link(struct nlmsghdr *m, void *arg) {
  struct wanted_link *w = arg;
  if (m->nlmsg_type != RTM_NEWLINK) return;
  struct ifinfomsg *info = NLMSG_DATA(m);
  int size = IFLA_PAYLOAD(m);
  for (struct rtattr *a = IFLA_RTA(info); RTA_OK(a, size); a = RTA_NEXT(a, size)) {
    if (a->rta_type == IFLA_IFNAME && !strcmp(RTA_DATA(a), w->name)) w->index = info->ifi_index;
  }
}

// `ip link add veth-b type veth peer name eth0 netns PID`: one RTM_NEWLINK makes both ends. The
// peer is an ifinfomsg with its own attributes inside IFLA_LINKINFO / IFLA_INFO_DATA /
// VETH_INFO_PEER, and IFLA_NET_NS_PID makes it directly in the network namespace of process PID
// (veth_newlink), so nothing is ever half made. NLM_F_CREATE|NLM_F_EXCL: EEXIST if the name is taken.
static int new_veth(int fd, pid_t box) {
  struct request r;
  struct ifinfomsg none = {.ifi_family = AF_UNSPEC};  // index 0: IFLA_IFNAME names the link
  struct nlmsghdr *h =
      begin(&r, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &none, sizeof none);
  attr(h, IFLA_IFNAME, "veth-b", 7);
  struct rtattr *info = attr(h, IFLA_LINKINFO, NULL, 0);
  attr(h, IFLA_INFO_KIND, "veth", 5);
  struct rtattr *data = attr(h, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer = attr(h, VETH_INFO_PEER, &none, sizeof none);
  attr(h, IFLA_IFNAME, "eth0", 5);
  uint32_t pid = (uint32_t)box;
  attr(h, IFLA_NET_NS_PID, &pid, sizeof pid);
  end_nest(h, peer);
  end_nest(h, data);
  end_nest(h, info);
  return acknowledged(fd, h);
}

// `ip addr add 10.99.0.2/24 dev eth0`: for IPv4, IFA_LOCAL is the address itself and IFA_ADDRESS
// the same (it is the peer's only on point-to-point links). The link stays down, as in the step.
static int new_address(int fd, int index) {
  struct request r;
  struct ifaddrmsg a = {.ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = index};
  struct nlmsghdr *h = begin(&r, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &a, sizeof a);
  uint8_t address[4] = {10, 99, 0, 2};
  attr(h, IFA_LOCAL, address, sizeof address);
  attr(h, IFA_ADDRESS, address, sizeof address);
  return acknowledged(fd, h);
}

// What boxwalk checks before it sends anything for a box (refuseMachineNetwork), two stat(2)s of
// ns links: the box's network namespace must not be the machine's. Here it is also the floor's
// guard: a process in the machine's namespace gets EPERM, and nothing is sent.
static int refuse_machine_net(pid_t pid) {
  char path[64];
  struct stat machine, its;
  snprintf(path, sizeof path, "/proc/%d/ns/net", machine_pid);
  if (stat(path, &machine) < 0) return -1;
  snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
  if (stat(path, &its) < 0) return -1;
  if (machine.st_ino != machine_net || machine.st_dev != machine_net_dev ||
      (its.st_ino == machine.st_ino && its.st_dev == machine.st_dev)) {
    errno = EPERM;
    return -1;
  }
  return 0;
}

// A socket in the box's network namespace: a socket stays in the namespace its creator was in
// when it made it (network_namespaces(7)), so setns(2) there, make it, setns(2) back. boxwalk's
// box helper is in that namespace already; this is the floor's cheapest way to the same place.
// If the way back fails, this process must not send anything more: it exits.
static int socket_in(int netns, int home) {
  if (setns(netns, CLONE_NEWNET) < 0) return -1;
  int fd = route_socket();
  int saved = errno;
  if (setns(home, CLONE_NEWNET) < 0) {
    fprintf(stderr, "floor: setns back to the host side: %s\n", strerror(errno));
    _exit(1);
  }
  errno = saved;
  return fd;
}

// The box: a process that unshares its network namespace, says so, and lives until the lab
// closes the pipe (or dies: PR_SET_PDEATHSIG). Its namespace dies with it.
static void box_main(int ready, int go) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  char c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
  if (write(ready, &c, 1) != 1) _exit(1);
  while (read(go, &c, 1) < 0 && errno == EINTR) {
  }
  _exit(0);
}

static void net_failed(const char *what) {
  fprintf(stderr, "floor: net: %s: %s\n", what, strerror(errno));
  const char *names[] = {"net veth", "read: net", "net addr"};
  for (int k = 0; k < 3; k++) printf("floor\t%s\t-\t-\t-\t0\tnote=failed: %s\n", names[k], what);
  fflush(stdout);
  _exit(1);
}

// The lab's host side, in a child: unshare(CLONE_NEWNET), then per run a fresh box and, timed,
//   net veth   = the steps boxwalk's perform makes: the machine check; one dump of the host side
//                (links, addresses, routes, the box's namespace id), which is how boxwalk looks
//                for a dying veth of the same name (awaitDyingLink); the RTM_NEWLINK;
//   read: net  = what facts() adds for the network once the host side and a box namespace exist:
//                the same dump in each of the two namespaces, each asking the other's id;
//   net addr   = the machine check; a dump of the box's namespace to find eth0's index
//                (linkIndex); the RTM_NEWADDR.
// boxwalk opens a fresh socket for each request and dump (its helper may have changed namespace
// in between); the floor opens one per namespace per step.
static void net_lab(int runs) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (unshare(CLONE_NEWNET) < 0) net_failed("unshare(CLONE_NEWNET) for the host side");
  struct stat self;
  if (stat("/proc/self/ns/net", &self) < 0) net_failed("stat /proc/self/ns/net");
  if (self.st_ino == machine_net && self.st_dev == machine_net_dev) {
    errno = EPERM;
    net_failed("still in the machine's network namespace");
  }
  int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) net_failed("open /proc/self/ns/net");
  pid_t host_side = getpid();
  int64_t *veth = calloc(runs, sizeof *veth), *readback = calloc(runs, sizeof *readback), *addr = calloc(runs, sizeof *addr);
  for (int i = 0; i < runs + 3; i++) {
    int ready[2], go[2];
    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) net_failed("pipe2");
    pid_t box = fork();
    if (box < 0) net_failed("fork");
    if (box == 0) {
      close(ready[0]);
      close(go[1]);
      box_main(ready[1], go[0]);
    }
    close(ready[1]);
    close(go[0]);
    char c = 0;
    if (read(ready[0], &c, 1) != 1 || c != 'y') net_failed("the box's unshare(CLONE_NEWNET)");
    close(ready[0]);
    // Untimed: boxwalk knows its box helper's pid; setns(2) wants a file descriptor.
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", box);
    int boxns = open(path, O_RDONLY | O_CLOEXEC);
    if (boxns < 0) net_failed("open the box's ns/net");

    int64_t start = now_ns();
    if (refuse_machine_net(box) < 0) net_failed("net veth: the box's namespace");
    int fd = route_socket();
    if (fd < 0) net_failed("socket(AF_NETLINK, NETLINK_ROUTE)");
    if (refuse_machine_net(box) < 0 || dump_network(fd, &box, 1, NULL, NULL) < 0) net_failed("net veth: dump");
    if (new_veth(fd, box) < 0) net_failed("RTM_NEWLINK veth");
    close(fd);
    int64_t made = now_ns();

    fd = route_socket();
    if (fd < 0 || dump_network(fd, &box, 1, NULL, NULL) < 0) net_failed("read: the host side's dump");
    close(fd);
    fd = socket_in(boxns, home);
    if (fd < 0 || dump_network(fd, &host_side, 1, NULL, NULL) < 0) net_failed("read: the box's dump");
    close(fd);
    int64_t read_back = now_ns();

    if (refuse_machine_net(box) < 0) net_failed("net addr: the box's namespace");
    fd = socket_in(boxns, home);
    struct wanted_link eth0 = {"eth0", 0};
    if (fd < 0 || dump_network(fd, NULL, 0, find_link, &eth0) < 0 || eth0.index <= 0) net_failed("net addr: eth0");
    if (new_address(fd, eth0.index) < 0) net_failed("RTM_NEWADDR");
    close(fd);
    int64_t addressed = now_ns();

    // Untimed: end the box. Its namespace dies with its last reference, and the kernel's cleanup
    // work queue deletes its links a few milliseconds later, the veth's host end with its peer
    // (veth(4)). Wait for that (at most 2 s), as boxwalk's settleNetwork does after `box rm`.
    close(boxns);
    close(go[1]);
    kill(box, SIGKILL);
    while (waitpid(box, NULL, 0) < 0 && errno == EINTR) {
    }
    int k = 0;
    while (if_nametoindex("veth-b") != 0 && k++ < 2000) usleep(1000);
    if (k > 2000) net_failed("the host end of the veth outlived the box's namespace");
    if (i >= 3) {
      veth[i - 3] = made - start;
      readback[i - 3] = read_back - made;
      addr[i - 3] = addressed - read_back;
    }
  }
  report("net veth", veth, runs);
  report("read: net", readback, runs);
  report("net addr", addr, runs);
  _exit(0);
}

static void case_net(int runs) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) net_lab(runs);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // The lab's namespace dies with it, taking its loopback and nothing else.
}

// ---------------------------------------------------------------------------------------------

struct kind {
  const char *name;
  int flags;
};

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "--hello")) return hello_main();
  if (argc != 5 || (strcmp(argv[1], "all") && strcmp(argv[1], "fs") && strcmp(argv[1], "net"))) {
    fprintf(stderr, "usage: floor all|fs|net RUNS IMAGE SCRATCH\n");
    return 2;
  }
  int runs = atoi(argv[2]);
  image_dir = argv[3];
  scratch_dir = argv[4];
  static char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) die("readlink /proc/self/exe");
  self[n] = 0;
  self_path = self;
  snprintf(scratch_box, sizeof scratch_box, "%s/floor-box", scratch_dir);
  snprintf(rootfs_upper, sizeof rootfs_upper, "%s/upper", scratch_box);
  snprintf(rootfs_work, sizeof rootfs_work, "%s/work", scratch_box);
  snprintf(rootfs, sizeof rootfs, "%s/rootfs", scratch_box);
  struct stat net;
  if (stat("/proc/self/ns/net", &net) < 0) die("stat /proc/self/ns/net");
  machine_net = net.st_ino;
  machine_net_dev = net.st_dev;
  machine_pid = getpid();
  if (!strcmp(argv[1], "net")) {
    case_net(runs);
    return 0;
  }
  if (!strcmp(argv[1], "fs")) {
    case_ledger(runs);
    case_rootfs(runs);
    case_container(runs);
    return 0;
  }

  case_spawn(runs);
  struct kind kinds[] = {
      {"unshare uts", CLONE_NEWUTS},       {"unshare ipc", CLONE_NEWIPC},   {"unshare pid", CLONE_NEWPID},
      {"unshare net", CLONE_NEWNET},       {"unshare user", CLONE_NEWUSER}, {"unshare cgroup", CLONE_NEWCGROUP},
      {"unshare time", CLONE_NEWTIME},
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    run_child_case(kinds[i].name, runs, NULL, do_unshare, (void *)(intptr_t)kinds[i].flags);
  }
  run_child_case("unshare mnt", runs, NULL, unshare_mnt_private, 0);
  run_child_case("unshare all six", runs, NULL, unshare_mnt_private,
                 (void *)(intptr_t)(CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP));
  run_child_case("hostname", runs, do_unshare, set_hostname, (void *)(intptr_t)CLONE_NEWUTS);
  run_child_case("mount tmpfs", runs, unshare_mnt_private, mount_tmpfs, 0);
  case_ledger(runs);
  case_rootfs(runs);
  run_child_case("mount bind / /", runs, setup_rootfs, bind_rootfs, 0);
  run_child_case("pivot-root", runs, setup_rootfs, pivot, 0);
  remove_tree(scratch_box);
  case_run_true(runs);
  run_child_case("ipc mq new", runs, do_unshare, make_queue, (void *)(intptr_t)CLONE_NEWIPC);
  case_map(runs);
  case_read(runs < 200 ? 200 : runs);
  case_container(runs);
  case_overlay(runs);
  case_cgroup(runs);
  case_net(runs);
  return 0;
}
