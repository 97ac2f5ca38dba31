using Crisp.Runtime.Api;
using Crisp.Runtime.Host;

namespace Crisp.Runtime.Namespaces;

/// <summary>
/// The bind-mounted namespace files of one pod; null means the pod uses the host's namespace of that kind.
/// <paramref name="PidHolder"/> is the process keeping a shared pod PID namespace alive (its init), when there is one.
/// </summary>
public sealed record PinnedNamespaces(string? NetworkPath, string? IpcPath, string? UtsPath, string? PidPath, ProcessIdentity? PidHolder)
{
    public SandboxNamespaces ToSandboxNamespaces() => new(NetworkPath, IpcPath, UtsPath, PidPath);
}
