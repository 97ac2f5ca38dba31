namespace Crisp.Runtime;

/// <summary>
/// The runtime library's facade: pod sandboxes and containers, as the daemon's RuntimeService
/// handlers see them. Owned by the lifecycle part (Sandboxes/, Containers/, State/, ...).
/// </summary>
public sealed partial class ContainerRuntime
{
}
