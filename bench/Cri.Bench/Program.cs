using Crisp.Bench;

// `make bench`: runs every suite (or those named on the command line) and prints one table.
// Target-neutral suites measure the runtime named by --endpoint (else a crispd started here) beside containerd started
// here on a private root; the others measure crispd beside their own floors (runc, CNI plugins, skopeo).
// `--scale N` runs the scale suite alone: one pod with N created containers (too slow for every `make bench`).
var (options, error) = BenchOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine($"bench: {error}\n{BenchOptions.Usage}");
    return 2;
}

var targets = await BenchTargets.ResolveAsync(options, CancellationToken.None);
IBenchSuite[] suites =
[
    new DaemonSuite(targets), new WorkloadSuite(targets, options), new PullSuite(targets), new LifecycleSuite(), new NetworkSuite(),
];
IBenchSuite[] selected = options.Scale is { } scale
    ? [new ScaleSuite(scale)]
    : options.Suites.Count == 0 ? suites : suites.Where(s => options.Suites.Contains(s.Name)).ToArray();
var unknown = options.Suites.Where(name => suites.All(s => s.Name != name)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"bench: no suite named {string.Join(", ", unknown)}\n{BenchOptions.Usage}");
    return 2;
}

var rows = new List<BenchRow>();
if (targets.ReferenceUnavailable is { } reason) rows.Add(new BenchRow("bench", $"reference: not available ({reason})", ""));
foreach (var suite in selected)
{
    if (targets.IsEndpoint && !suite.MeasuresAnyRuntime)
    {
        rows.Add(new BenchRow(suite.Name, "skipped", "", Note: "starts and inspects its own crispd; --endpoint runs only the daemon and workload suites"));
        continue;
    }
    Console.Error.WriteLine($"bench: running {suite.Name} ...");
    try
    {
        rows.AddRange(await suite.RunAsync(CancellationToken.None));
    }
    catch (Exception e)
    {
        rows.Add(new BenchRow(suite.Name, "FAILED", "", Note: e.Message.Split('\n')[0]));
    }
}

string[] headers = ["suite", "measure", targets.Measured.Label, targets.Reference?.Label ?? "reference", "ratio", "note"];
var table = rows.Select(r => new[] { r.Suite, r.Measure, r.Crisp, r.Reference, r.Ratio, r.Note }).ToList();
var widths = headers.Select((h, i) => Math.Max(h.Length, table.Count == 0 ? 0 : table.Max(r => r[i].Length))).ToArray();
string Line(string[] cells) => string.Join(" | ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
Console.WriteLine(Line(headers));
Console.WriteLine(string.Join("-+-", widths.Select(w => new string('-', w))));
foreach (var row in table) Console.WriteLine(Line(row));
return rows.Any(r => r.Measure == "FAILED") ? 1 : 0;
