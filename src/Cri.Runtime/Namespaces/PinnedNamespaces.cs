using Crisp.Runtime.Api;
using Crisp.Runtime.Host;

namespace Crisp.Runtime.Namespaces;

/// <summary>
/// The bind-mounted namespace files of one pod; null means the pod uses the host's namespace of that kind.
/// <paramref name="PidHolder"/> is the process keeping a shared pod PID namespace alive (its init), when there is one.
/// </summary>
public sealed record PinnedNamespaces(string? NetworkPath, string? IpcPath, string? UtsPath, string? PidPath, ProcessIdentity? PidHolder)
{
    /// <summary>The pod's own user namespace (userns_options mode POD), owner of the others; null: the host's.</summary>
    public string? UserPath { get; init; }

    public SandboxNamespaces ToSandboxNamespaces() => new(NetworkPath, IpcPath, UtsPath, PidPath, UserPath);
}
