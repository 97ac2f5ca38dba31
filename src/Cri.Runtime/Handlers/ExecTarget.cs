using Crisp.Runtime.Host;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// The container an ExecSync runs in, with what crisp's record already knows of it: its bundle and its init process
/// (pid and start time). With both, the handler checks the init is alive in /proc instead of starting `runc state`;
/// a target named by id alone (no record at hand) is looked up in the runtime.
/// </summary>
public sealed record ExecTarget(string ContainerId, string? BundlePath = null, ProcessIdentity? Init = null)
{
    public static ExecTarget ById(string containerId) => new(containerId);
}
