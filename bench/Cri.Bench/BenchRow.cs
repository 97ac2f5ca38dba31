namespace Crisp.Bench;

/// <summary>
/// One line of the bench table: a measurement of the measured runtime (crisp unless --endpoint), optionally beside
/// its reference and their ratio.
/// </summary>
public sealed record BenchRow(string Suite, string Measure, string Crisp, string Reference = "", string Ratio = "", string Note = "");

/// <summary>A group of measurements taken side by side in one run.</summary>
public interface IBenchSuite
{
    string Name { get; }

    /// <summary>True when the suite talks only CRI to its target, so it can measure the runtime --endpoint names.</summary>
    bool MeasuresAnyRuntime => false;

    Task<IReadOnlyList<BenchRow>> RunAsync(CancellationToken cancellationToken);
}
