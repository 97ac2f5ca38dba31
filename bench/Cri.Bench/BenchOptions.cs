using System.Globalization;

namespace Crisp.Bench;

/// <summary>
/// The command line: which suites run, and the one place that says which CRI runtime they measure
/// (--endpoint unix:///path, else a crispd the bench starts) and beside which reference (containerd unless --no-reference).
/// </summary>
public sealed record BenchOptions
{
    public string? EndpointSocket { get; init; }
    public bool Reference { get; init; } = true;
    public int? Scale { get; init; }
    /// <summary>Pods run and removed one after another before the memory reading (the table's "after 200 pods came and went").</summary>
    public int ChurnPods { get; init; } = 200;
    /// <summary>Created containers in one pod for the create rate and the restart with that state.</summary>
    public int StateContainers { get; init; } = 1000;
    public IReadOnlyList<string> Suites { get; init; } = [];

    public const string Usage = """
        usage: Cri.Bench [SUITE...] [--endpoint unix:///path/to/cri.sock] [--no-reference]
                         [--churn-pods N] [--state-containers N] | --scale N
          SUITE               daemon, workload, pull, lifecycle, network (default: all)
          --endpoint          measure the runtime already serving this socket instead of a crispd the bench starts
          --no-reference      do not start containerd as the reference column
          --churn-pods        pods run and removed before the memory reading (default 200; 100 and N are printed)
          --state-containers  created containers in one pod for the create rate and the restart (default 1000)
          --scale N           the scale suite alone: one pod with N created containers
        """;

    /// <summary>The options, or the reason the command line is wrong.</summary>
    public static (BenchOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        var suites = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            string? Value() => i + 1 < args.Count ? args[++i] : null;
            switch (args[i])
            {
                case "--endpoint":
                    var endpoint = Value();
                    if (endpoint is null || !endpoint.StartsWith("unix:///", StringComparison.Ordinal))
                        return (null, "--endpoint needs a unix socket URL, e.g. --endpoint unix:///run/containerd/containerd.sock");
                    options = options with { EndpointSocket = endpoint["unix://".Length..] };
                    break;
                case "--no-reference":
                    options = options with { Reference = false };
                    break;
                case "--scale":
                    if (PositiveCount(Value()) is not { } scale) return (null, "--scale needs a container count >= 1, e.g. --scale 1000");
                    options = options with { Scale = scale };
                    break;
                case "--churn-pods":
                    if (PositiveCount(Value()) is not { } pods) return (null, "--churn-pods needs a pod count >= 1, e.g. --churn-pods 200");
                    options = options with { ChurnPods = pods };
                    break;
                case "--state-containers":
                    if (PositiveCount(Value()) is not { } containers) return (null, "--state-containers needs a container count >= 1, e.g. --state-containers 1000");
                    options = options with { StateContainers = containers };
                    break;
                case var flag when flag.StartsWith("--", StringComparison.Ordinal):
                    return (null, $"unknown option {flag}");
                default:
                    suites.Add(args[i]);
                    break;
            }
        }
        return (options with { Suites = suites }, null);
    }

    private static int? PositiveCount(string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= 1 ? count : null;
}
