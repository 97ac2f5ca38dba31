using Crisp.Bench;

// `make bench`: runs every suite (or those named on the command line) and prints one table.
// Each suite measures crisp and its reference side by side in this same run.
IBenchSuite[] suites = [new DaemonSuite(), new PullSuite(), new LifecycleSuite(), new NetworkSuite()];
var selected = args.Length == 0 ? suites : suites.Where(s => args.Contains(s.Name)).ToArray();

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
