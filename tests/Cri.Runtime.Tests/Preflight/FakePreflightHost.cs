using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Crisp.Runtime.Preflight;
using Crisp.Runtime.Tests.Fakes;

namespace Crisp.Runtime.Tests.Preflight;

/// <summary>A host made of files in a temp directory and scripted tools, for each outcome of `crispd check`.</summary>
internal sealed class FakePreflightHost : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("crisp-preflight-").FullName;
    public uint Uid { get; set; }
    public Dictionary<string, string> Executables { get; } = new() { ["runc"] = "/usr/sbin/runc", ["conmon"] = "/usr/bin/conmon" };
    public Dictionary<string, HandlerAvailability> Probes { get; } = new() { ["runc"] = new HandlerAvailability(true, null, true, false) };
    public long? FreeBytes { get; set; } = 100L << 30;

    public FakePreflightHost()
    {
        // A healthy cgroup v2 root-capable host unless a test changes a file.
        Write("cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        Write("filesystems", "nodev\tproc\nnodev\toverlay\n");
        Write("osrelease", "6.1.0-13-amd64\n");
        Write("status", "Name:\tcrispd\nCapEff:\t000001ffffffffff\nSeccomp:\t0\n");
        Write("oom_score_adj", "0\n");
        Directory.CreateDirectory(Path.Combine(Dir, "seccomp"));
        Write("apparmor", "Y\n");
        Write("cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\nmemory\t2\t1\t1\npids\t3\t1\t1\ncpuset\t4\t1\t1\n");
    }

    public void Write(string relative, string content)
    {
        var path = Path.Combine(Dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public void Delete(string relative) => File.Delete(Path.Combine(Dir, relative));

    public PreflightHost Build() => new(
        new HostPaths(P("status"), P("oom_score_adj"), P("seccomp"), P("cgroup")),
        P("filesystems"),
        P("cgroups"),
        P("osrelease"),
        P("modules/overlayfs"),
        P("run-systemd"),
        Uid,
        name => Executables.GetValueOrDefault(name),
        (binary, _) => Task.FromResult<string?>($"{Path.GetFileName(binary)} version 1.0"),
        (handler, _, _) => Task.FromResult(Probes.GetValueOrDefault(handler.Name) ?? HandlerAvailability.NotReady($"{handler.Name} probe failed")),
        _ => FreeBytes,
        new FakeAppArmorHost { Enabled = File.ReadAllText(P("apparmor")).Trim() == "Y" },
        new FakeSelinuxHost());

    public RuntimeOptions Options(params string[] handlers) => new()
    {
        Root = "/var/lib/crisp",
        Handlers = (handlers.Length == 0 ? ["runc"] : handlers)
            .Select(h => new RuntimeHandlerOptions { Name = h, Path = h, Root = $"/run/crisp/{h}" }).ToList(),
        CniConfDir = P("cni"),
        CniBinDirs = [P("cni-bin")],
    };

    public string P(string relative) => Path.Combine(Dir, relative);

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
