namespace Crisp.Runtime.Lsm;

/// <summary>What crisp needs from the host's SELinux; faked in unit tests, since these machines have no SELinux.</summary>
public interface ISelinuxHost
{
    /// <summary>selinuxfs is mounted (/sys/fs/selinux/enforce exists), in enforcing or permissive mode.</summary>
    bool Enabled { get; }

    /// <summary>
    /// The policy's labels for container processes and their files (lxc_contexts "process" and "file", e.g.
    /// system_u:system_r:container_t:s0 and system_u:object_r:container_file_t:s0), or null when the policy has none.
    /// </summary>
    (SelinuxContext Process, SelinuxContext File)? ContainerContexts { get; }
}
