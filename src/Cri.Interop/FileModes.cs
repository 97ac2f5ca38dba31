namespace Crisp.Interop;

/// <summary>
/// The modes crispd gives what it creates under root and state_dir, stated once (docs/architecture.md,
/// "Security model"). Everything is root's alone unless a container process reads it through a mount.
/// </summary>
public static class FileModes
{
    /// <summary>
    /// 0077: a file or directory created without an explicit mode (by crispd or a library it uses) is root's alone.
    /// No group needs crisp's state (the kubelet runs as root; the socket's group access is granted explicitly),
    /// so 0027 would only widen the default.
    /// </summary>
    public const uint DaemonUmask = 0x3F;

    /// <summary>
    /// 0022 for the runtime's create (under conmon): runc makes missing mount destinations inside the container's
    /// rootfs with the umask it inherits, and a non-root container process must be able to traverse them.
    /// </summary>
    public const uint ContainerRuntimeUmask = 0x12;

    /// <summary>0700: every crisp-owned directory (stores, snapshots, container and sandbox dirs, state).</summary>
    public const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// 0711: a parent a pod user namespace's root must traverse (runc resolves the container's rootfs path after
    /// joining the user namespace, where host root's directories are "other"). Nothing can be listed; the child
    /// directories keep their own 0700.
    /// </summary>
    public const UnixFileMode TraverseOnlyDirectory = PrivateDirectory | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>0600: databases, bundles, process specs, caches: anything holding env, config or secrets.</summary>
    public const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// 0755: a directory that becomes a container's "/" (its upper dir, a layer root) or that other host tools
    /// expect readable (cgroup dirs, the CNI conf dir); reachable only where its parents are.
    /// </summary>
    public const UnixFileMode SharedDirectory = PrivateDirectory
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>0644: a file a container process of any uid reads through a bind mount (hosts, resolv.conf, hostname).</summary>
    public const UnixFileMode SharedFile = PrivateFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
}
