namespace Crisp.Runtime.Rootfs;

/// <summary>
/// How a container of a pod with its own user namespace sees its image: each layer through an idmapped mount of
/// <paramref name="UserNamespacePath"/> (image owner 0 is the container's root), and an upper dir owned by the host ids
/// the container's root maps to, so what the container writes belongs to those unprivileged host ids.
/// </summary>
public sealed record RootfsIdmap(string UserNamespacePath, uint HostRootUid, uint HostRootGid);
