using Crisp.Interop;

namespace Crisp.Runtime.Host;

/// <summary>
/// runc joins a pod's user namespace before it mounts the container's rootfs, and from there host root's 0700
/// directories are closed to it (root's ids are unmapped, so its capabilities do not apply). The container
/// directory is therefore given to the host ids of the container's root (still 0700: nobody else enters it), and
/// its parents, root and root/containers, become traverse-only (0711: nothing is listed; every other container
/// directory stays root's 0700). Start-up tightening puts them back to 0700; each such create opens them again.
/// </summary>
public static class UserNamespaceAccess
{
    public static void OpenContainerDirectory(RuntimeLayout layout, string containerDirectory, uint hostRootUid, uint hostRootGid)
    {
        Libc.Chmod(layout.Root, (uint)FileModes.TraverseOnlyDirectory);
        Libc.Chmod(layout.ContainersRoot, (uint)FileModes.TraverseOnlyDirectory);
        Libc.Lchown(containerDirectory, hostRootUid, hostRootGid);
    }
}
