namespace Crisp.Bench;

/// <summary>
/// One reading on one runtime: the cell as printed, the number behind it (for the ratio), what this side's reading
/// consists of or how it was taken, and the goal (the same on both sides).
/// </summary>
public sealed record Measurement(string Measure, string Value, double? Number = null, string Detail = "", string Goal = "");

/// <summary>
/// Runs the same measurements on the measured runtime and then on the reference, and lays their readings side by
/// side, one row per measure. A side that fails keeps the readings it took and adds one FAILED row naming the side.
/// </summary>
public sealed class SideBySide(string suite, BenchTargets targets)
{
    public delegate Task MeasureAsync(ICriTargetLauncher launcher, BenchStep step, List<Measurement> readings, CancellationToken cancellationToken);

    public async Task<IReadOnlyList<BenchRow>> RunAsync(MeasureAsync measure, CancellationToken cancellationToken)
    {
        var failures = new List<BenchRow>();
        var measured = await RunSideAsync(targets.Measured, measure, failures, cancellationToken);
        var reference = targets.Reference is { } launcher ? await RunSideAsync(launcher, measure, failures, cancellationToken) : null;

        var rows = new List<BenchRow>();
        foreach (var name in measured.Concat(reference ?? []).Select(m => m.Measure).Distinct())
        {
            var mine = measured.FirstOrDefault(m => m.Measure == name);
            var theirs = reference?.FirstOrDefault(m => m.Measure == name);
            var ratio = mine?.Number is { } a && theirs?.Number is { } b ? Stats.Ratio(a, b) : "";
            var notes = new List<string> { mine?.Goal ?? theirs?.Goal ?? "", mine?.Detail ?? "" };
            if (theirs is { Detail.Length: > 0 }) notes.Add($"reference: {theirs.Detail}");
            var note = string.Join("; ", notes.Where(n => n.Length > 0));
            rows.Add(new BenchRow(suite, name, mine?.Value ?? "", theirs?.Value ?? (reference is null ? "n/a" : ""), ratio, note));
        }
        rows.AddRange(failures);
        return rows;
    }

    private async Task<List<Measurement>> RunSideAsync(ICriTargetLauncher launcher, MeasureAsync measure, List<BenchRow> failures, CancellationToken cancellationToken)
    {
        var readings = new List<Measurement>();
        Console.Error.WriteLine($"bench: {suite} on {launcher.Label} ...");
        try
        {
            await measure(launcher, new BenchStep($"{suite} ({launcher.Label})"), readings, cancellationToken);
        }
        catch (BenchStepException e)
        {
            failures.Add(e.ToRow() with { Suite = suite, Note = $"{launcher.Label}: {e.ToRow().Note}" });
        }
        return readings;
    }
}
