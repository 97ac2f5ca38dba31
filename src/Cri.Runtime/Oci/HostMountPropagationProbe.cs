using Crisp.Interop.Procfs;

namespace Crisp.Runtime.Oci;

/// <summary>The propagation of the host mount that holds a path, as this process's mount table reports it.</summary>
internal static class HostMountPropagationProbe
{
    public static HostMountPropagation Of(string path) => Of(path, MountTable.ReadSelf());

    internal static HostMountPropagation Of(string path, MountTable mounts) =>
        mounts.MountContaining(path) switch
        {
            { IsShared: true } => HostMountPropagation.Shared,
            { IsSlave: true } => HostMountPropagation.Slave,
            _ => HostMountPropagation.Private,
        };
}
