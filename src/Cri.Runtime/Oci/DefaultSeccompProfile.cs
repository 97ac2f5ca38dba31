namespace Crisp.Runtime.Oci;

/// <summary>
/// crisp's RuntimeDefault seccomp profile: an allow-list in the spirit of Docker's and containerd's
/// defaults. Anything not listed fails with EPERM. Syscalls that need a capability to be useful
/// (mount, reboot, ptrace, ...) are allowed only when the container holds that capability, so adding
/// CAP_SYS_ADMIN keeps working as users expect.
/// </summary>
public static class DefaultSeccompProfile
{
    private const uint EPERM = 1;
    private const uint ENOSYS = 38;

    /// <summary>clone flags that create namespaces; an unprivileged container may not pass any of them.</summary>
    private const ulong NamespaceCloneFlags = 0x7E020000;

    /// <summary>The profile for a container holding containerd's default capability set.</summary>
    public static OciSeccomp Build(string architecture) => Build(architecture, DefaultCapabilities.Names);

    /// <summary>The profile for a container whose bounding set is <paramref name="capabilities"/>.</summary>
    public static OciSeccomp Build(string architecture, IEnumerable<string> capabilities)
    {
        var caps = new HashSet<string>(capabilities, StringComparer.Ordinal);
        var arch = SeccompArchitectures.NormalizeGoArch(architecture);
        var allowed = new List<string>(CommonAllowed);
        if (ArchAllowed.TryGetValue(arch, out var archSpecific)) allowed.AddRange(archSpecific);

        foreach (var (cap, names) in CapabilityGated)
            if (caps.Contains(cap)) allowed.AddRange(names);

        var syscalls = new List<OciSyscall>();
        foreach (var personality in AllowedPersonalities)
        {
            syscalls.Add(new OciSyscall
            {
                Names = ["personality"],
                Action = "SCMP_ACT_ALLOW",
                Args = [new OciSeccompArg { Index = 0, Value = personality, Op = "SCMP_CMP_EQ" }],
            });
        }

        if (caps.Contains("CAP_SYS_ADMIN"))
        {
            allowed.AddRange(["clone", "clone3"]);
        }
        else
        {
            // s390 passes clone's flags in the second argument; everywhere else in the first.
            var flagsIndex = arch == "s390x" ? 1u : 0u;
            syscalls.Add(new OciSyscall
            {
                Names = ["clone"],
                Action = "SCMP_ACT_ALLOW",
                Args = [new OciSeccompArg { Index = flagsIndex, Value = NamespaceCloneFlags, ValueTwo = 0, Op = "SCMP_CMP_MASKED_EQ" }],
            });
            // clone3 passes flags in memory seccomp cannot inspect; ENOSYS makes libc fall back to clone.
            syscalls.Add(new OciSyscall { Names = ["clone3"], Action = "SCMP_ACT_ERRNO", ErrnoRet = ENOSYS });
        }

        syscalls.Insert(0, new OciSyscall
        {
            Names = allowed.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            Action = "SCMP_ACT_ALLOW",
        });

        return new OciSeccomp
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            DefaultErrnoRet = EPERM,
            Architectures = SeccompArchitectures.ForGoArch(arch),
            Syscalls = syscalls,
        };
    }

    // Linux personas: PER_LINUX, PER_LINUX_32BIT, UNAME26, UNAME26|PER_LINUX32, and the query value.
    private static readonly ulong[] AllowedPersonalities = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

    private static readonly Dictionary<string, string[]> ArchAllowed = new(StringComparer.Ordinal)
    {
        ["amd64"] = ["arch_prctl", "modify_ldt"],
        ["386"] = ["modify_ldt"],
        ["arm"] = ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
        ["arm64"] = ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
        ["ppc64le"] = ["sync_file_range2", "swapcontext"],
        ["s390x"] = ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"],
        ["riscv64"] = ["riscv_flush_icache"],
    };

    private static readonly (string Capability, string[] Syscalls)[] CapabilityGated =
    [
        ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
        ("CAP_SYS_ADMIN", [
            "bpf", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie", "mount",
            "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
            "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare",
        ]),
        ("CAP_SYS_BOOT", ["reboot"]),
        ("CAP_SYS_CHROOT", ["chroot"]),
        ("CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
        ("CAP_SYS_PACCT", ["acct"]),
        ("CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "userfaultfd"]),
        ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        ("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
        ("CAP_SYS_TTY_CONFIG", ["vhangup"]),
        ("CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
        ("CAP_SYSLOG", ["syslog"]),
        ("CAP_BPF", ["bpf"]),
        ("CAP_PERFMON", ["perf_event_open"]),
    ];

    // Deliberately absent (so they fail with EPERM): keyring calls (add_key, keyctl, request_key),
    // kexec_*, swapon/swapoff, pivot_root, namespace and mount calls without CAP_SYS_ADMIN, io_uring_*
    // (a large kernel attack surface), obsolete calls (uselib, ustat, sysfs, _sysctl, nfsservctl, vm86*).
    private static readonly string[] CommonAllowed =
    [
        // files and directories
        "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat",
        "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
        "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64",
        "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstat", "fstat64",
        "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futimesat", "getcwd",
        "getdents", "getdents64", "getxattr", "lchown", "lchown32", "lgetxattr", "link", "linkat",
        "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
        "mkdir", "mkdirat", "mknod", "mknodat", "name_to_handle_at", "newfstatat", "open", "openat",
        "openat2", "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
        "readlink", "readlinkat", "readv", "removexattr", "rename", "renameat", "renameat2", "rmdir",
        "sendfile", "sendfile64", "setxattr", "splice", "stat", "stat64", "statfs", "statfs64", "statx",
        "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate", "truncate64",
        "umask", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vmsplice",
        "write", "writev", "fanotify_mark", "inotify_add_watch", "inotify_init", "inotify_init1",
        "inotify_rm_watch", "ioctl", "cachestat",
        // memory
        "brk", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore",
        "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock",
        "munlockall", "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages",
        // processes, threads, signals
        "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid",
        "waitpid", "getpid", "getppid", "gettid", "getpgid", "getpgrp", "getsid", "setpgid", "setsid",
        "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getuid", "getuid32",
        "getgroups", "getgroups32", "getresgid", "getresgid32", "getresuid", "getresuid32", "setfsgid",
        "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
        "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
        "setreuid32", "setuid", "setuid32", "getpriority", "setpriority", "getrlimit", "setrlimit",
        "ugetrlimit", "prlimit64", "getrusage", "prctl", "ptrace", "seccomp", "kill", "tgkill", "tkill",
        "pidfd_open", "pidfd_send_signal", "process_mrelease", "rt_sigaction", "rt_sigpending",
        "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaltstack", "signalfd", "signalfd4",
        "sigprocmask", "sigreturn", "restart_syscall", "pause", "get_robust_list", "set_robust_list",
        "set_tid_address", "get_thread_area", "set_thread_area", "rseq", "futex", "futex_requeue",
        "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "sched_getaffinity", "sched_getattr",
        "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
        "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
        "sched_setparam", "sched_setscheduler", "sched_yield", "ioprio_get", "ioprio_set", "getcpu",
        "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
        // time
        "adjtimex", "alarm", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "getitimer",
        "setitimer", "gettimeofday", "nanosleep", "time", "times", "timer_create", "timer_delete",
        "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
        "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
        // polling and events
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
        "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "poll", "ppoll", "ppoll_time64", "pselect6",
        "pselect6_time64", "select", "_newselect", "pipe", "pipe2",
        // asynchronous I/O
        "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup",
        "io_submit",
        // sockets
        "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen",
        "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg",
        "sendto", "setsockopt", "shutdown", "socket", "socketcall", "socketpair",
        // System V and POSIX IPC (scoped by the IPC namespace)
        "ipc", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget", "mq_getsetattr", "mq_notify", "mq_open",
        "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
        // system information
        "getrandom", "sysinfo", "uname",
    ];
}
