using System.Diagnostics;
using System.Text.Json.Nodes;
using Crisp.E2E.Fixtures;

namespace Crisp.Bench;

/// <summary>
/// The floor under any CRI runtime: <c>runc create</c>, <c>runc start</c> and <c>runc delete -f</c> of a bundle
/// equivalent to a crisp container (busybox rootfs, <c>sleep 3600</c>, no terminal, writable root, its own
/// cgroup, host network like the benchmark's pods), with no daemon and no conmon in between.
/// </summary>
public sealed class RuncFloor : IAsyncDisposable
{
    private const string Runc = "runc";

    private readonly string _directory;
    private readonly string _stateDirectory;
    private readonly string _bundleDirectory;
    private readonly string _configTemplate;
    private readonly string _cgroupParent;
    private readonly HashSet<string> _live = new(StringComparer.Ordinal);

    private RuncFloor(string directory, string configTemplate, string cgroupParent)
    {
        _directory = directory;
        _stateDirectory = Path.Combine(directory, "state");
        _bundleDirectory = Path.Combine(directory, "bundle");
        _configTemplate = configTemplate;
        _cgroupParent = cgroupParent;
    }

    /// <summary>Builds the bundle once (rootfs and a <c>runc spec</c> adjusted for the benchmark).</summary>
    public static async Task<RuncFloor> CreateAsync(string cgroupParent, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("crisp-bench-runc-").FullName;
        try
        {
            var bundle = Path.Combine(directory, "bundle");
            await WriteRootfsAsync(Path.Combine(bundle, "rootfs"), cancellationToken);
            await ToolRunner.RunCheckedAsync(Runc, ["spec", "--bundle", bundle], cancellationToken);
            var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(bundle, "config.json"), cancellationToken))!;
            config["process"]!["terminal"] = false;
            config["process"]!["args"] = new JsonArray("sleep", "3600");
            config["root"]!["readonly"] = false;
            // The benchmark's pods use the host network: no network namespace to create here either.
            var namespaces = config["linux"]!["namespaces"]!.AsArray();
            foreach (var network in namespaces.Where(n => (string?)n!["type"] == "network").ToList()) namespaces.Remove(network);
            Directory.CreateDirectory(Path.Combine(directory, "state"));
            return new RuncFloor(directory, config.ToJsonString(), cgroupParent);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>One container through create, start and delete -f; the three durations in milliseconds.</summary>
    public async Task<(double Create, double Start, double Delete)> RunOnceAsync(string id, CancellationToken cancellationToken)
    {
        var config = JsonNode.Parse(_configTemplate)!;
        config["linux"]!["cgroupsPath"] = $"{_cgroupParent}/{id}";
        // runc reads config.json at create only, so one bundle directory serves every round in turn.
        await File.WriteAllTextAsync(Path.Combine(_bundleDirectory, "config.json"), config.ToJsonString(), cancellationToken);

        var started = Stopwatch.GetTimestamp();
        _live.Add(id);
        await RuncCreateAsync(id, cancellationToken);
        var create = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

        started = Stopwatch.GetTimestamp();
        await ToolRunner.RunCheckedAsync(Runc, ["--root", _stateDirectory, "start", id], cancellationToken);
        var start = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

        started = Stopwatch.GetTimestamp();
        await ToolRunner.RunCheckedAsync(Runc, ["--root", _stateDirectory, "delete", "-f", id], cancellationToken);
        var delete = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        _live.Remove(id);
        return (create, start, delete);
    }

    /// <summary>
    /// <c>runc create</c> without a terminal hands its own stdio to the container, which keeps the pipes open:
    /// wait for runc itself, not for end of output.
    /// </summary>
    private async Task RuncCreateAsync(string id, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(Runc)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _bundleDirectory,
        };
        foreach (var argument in new[] { "--root", _stateDirectory, "create", "--bundle", _bundleDirectory, id }) info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start runc create");
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            // No container holds the pipe when create failed, so the error text is complete.
            var error = await stderr.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            throw new InvalidOperationException($"runc create {id} exited {process.ExitCode}: {error.Trim()}");
        }
    }

    private static async Task WriteRootfsAsync(string rootfs, CancellationToken cancellationToken)
    {
        var bin = Path.Combine(rootfs, "bin");
        Directory.CreateDirectory(bin);
        foreach (var directory in new[] { "proc", "sys", "dev", "tmp", "etc", "root" }) Directory.CreateDirectory(Path.Combine(rootfs, directory));
        var busybox = Path.Combine(bin, "busybox");
        File.Copy(BusyboxRootfs.BusyboxPath, busybox);
        // Hard links, as in the catalogue images crisp runs.
        foreach (var applet in new[] { "sh", "sleep", "true" })
            await ToolRunner.RunCheckedAsync("ln", [busybox, Path.Combine(bin, applet)], cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc", "passwd"), BusyboxRootfs.Passwd, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc", "group"), BusyboxRootfs.Group, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _live) await ToolRunner.RunAsync(Runc, ["--root", _stateDirectory, "delete", "-f", id]);
        Directory.Delete(_directory, recursive: true);
    }
}
