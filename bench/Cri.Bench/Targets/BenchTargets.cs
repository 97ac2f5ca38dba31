namespace Crisp.Bench;

/// <summary>The runtime every target-neutral suite measures, and the reference beside it (or why there is none).</summary>
public sealed class BenchTargets(ICriTargetLauncher measured, ICriTargetLauncher? reference, string? referenceUnavailable)
{
    public ICriTargetLauncher Measured => measured;

    public ICriTargetLauncher? Reference => reference;

    /// <summary>Why the reference column is empty, e.g. "containerd not installed".</summary>
    public string? ReferenceUnavailable => referenceUnavailable;

    /// <summary>True when --endpoint named the runtime: suites that start their own crispd cannot measure it.</summary>
    public bool IsEndpoint => !measured.StartsFresh;

    public static async Task<BenchTargets> ResolveAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        ICriTargetLauncher measured = options.EndpointSocket is { } socket ? new EndpointLauncher(socket) : new CrispLauncher();
        if (!options.Reference) return new BenchTargets(measured, null, "--no-reference");
        var (containerd, unavailable) = await ContainerdLauncher.FindAsync(cancellationToken);
        return new BenchTargets(measured, containerd, unavailable);
    }
}
