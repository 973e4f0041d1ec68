#!/usr/bin/python3
"""idmap-mount.py SRC DST BASE [COUNT]

Create an ID-mapped bind mount of SRC at DST: a file owned by uid/gid N in SRC
appears owned by BASE+N at DST (for 0 <= N < COUNT, default 65536).
util-linux 2.38 (bookworm) has no `mount -o X-mount.idmap=`, so this calls
open_tree(2) / mount_setattr(2) / move_mount(2) directly.

The idmapping is taken from a throw-away user namespace whose uid_map/gid_map
is "0 BASE COUNT" (written by us, root in the parent namespace).
Used as an overlayfs lowerdir, so that many machines with different
--private-users ranges share one unshifted image."""
import ctypes, os, struct, subprocess, sys, time

SYS_open_tree, SYS_move_mount, SYS_mount_setattr = 428, 429, 442
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC = 1, 0o2000000
AT_FDCWD, AT_EMPTY_PATH, AT_RECURSIVE = -100, 0x1000, 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_IDMAP = 0x00100000
MOUNT_ATTR_RDONLY = 0x1

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def check(r, what):
    if r < 0:
        e = ctypes.get_errno()
        sys.exit(f"{what}: {os.strerror(e)} (errno {e})")
    return r


def main():
    src, dst, base = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
    count = int(sys.argv[4], 0) if len(sys.argv) > 4 else 65536
    # a user namespace holder: the child waits until we wrote its maps
    child = subprocess.Popen(["unshare", "--user", "sleep", "30"])
    try:
        for _ in range(100):   # wait for unshare to have entered the new userns
            if os.readlink(f"/proc/{child.pid}/ns/user") != os.readlink("/proc/self/ns/user"):
                break
            time.sleep(0.01)
        for f in ("uid_map", "gid_map"):
            with open(f"/proc/{child.pid}/{f}", "w") as fh:
                fh.write(f"0 {base} {count}\n")
        userns = os.open(f"/proc/{child.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
        tree = check(libc.syscall(SYS_open_tree, AT_FDCWD, src.encode(),
                                  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC), "open_tree")
        # struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; }
        attr = struct.pack("QQQQ", MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY, 0, 0, userns)
        buf = ctypes.create_string_buffer(attr, len(attr))
        check(libc.syscall(SYS_mount_setattr, tree, b"", AT_EMPTY_PATH, buf, len(attr)),
              "mount_setattr(MOUNT_ATTR_IDMAP)")
        os.makedirs(dst, exist_ok=True)
        check(libc.syscall(SYS_move_mount, tree, b"", AT_FDCWD, dst.encode(),
                           MOVE_MOUNT_F_EMPTY_PATH), "move_mount")
    finally:
        child.kill()
        child.wait()


if __name__ == "__main__":
    main()
