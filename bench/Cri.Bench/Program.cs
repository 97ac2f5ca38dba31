using Crisp.Bench;

// `make bench`: runs every suite (or those named on the command line) and prints one table.
// Each suite measures crisp and its reference side by side in this same run.
// `--scale N` runs the scale suite alone: one pod with N created containers (too slow for every `make bench`).
IBenchSuite[] suites = [new DaemonSuite(), new PullSuite(), new LifecycleSuite(), new NetworkSuite()];
var scaleFlag = Array.IndexOf(args, "--scale");
IBenchSuite[] selected;
if (scaleFlag >= 0)
{
    if (scaleFlag + 1 >= args.Length || !int.TryParse(args[scaleFlag + 1], out var scale) || scale < 1)
    {
        Console.Error.WriteLine("bench: --scale needs a container count >= 1, e.g. --scale 1000");
        return 2;
    }
    selected = [new ScaleSuite(scale)];
}
else
{
    selected = args.Length == 0 ? suites : suites.Where(s => args.Contains(s.Name)).ToArray();
}

var rows = new List<BenchRow>();
foreach (var suite in selected)
{
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

string[] headers = ["suite", "measure", "crisp", "reference", "ratio", "note"];
var table = rows.Select(r => new[] { r.Suite, r.Measure, r.Crisp, r.Reference, r.Ratio, r.Note }).ToList();
var widths = headers.Select((h, i) => Math.Max(h.Length, table.Count == 0 ? 0 : table.Max(r => r[i].Length))).ToArray();
string Line(string[] cells) => string.Join(" | ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
Console.WriteLine(Line(headers));
Console.WriteLine(string.Join("-+-", widths.Select(w => new string('-', w))));
foreach (var row in table) Console.WriteLine(Line(row));
return rows.Any(r => r.Measure == "FAILED") ? 1 : 0;
