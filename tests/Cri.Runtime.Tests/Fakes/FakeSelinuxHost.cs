using Crisp.Runtime.Lsm;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>A host's SELinux as tests set it up: by default disabled; enabled with container-selinux's labels.</summary>
public sealed class FakeSelinuxHost : ISelinuxHost
{
    public bool Enabled { get; set; }

    public (SelinuxContext Process, SelinuxContext File)? ContainerContexts { get; set; } =
        (new SelinuxContext("system_u", "system_r", "container_t", "s0"), new SelinuxContext("system_u", "object_r", "container_file_t", "s0"));
}
