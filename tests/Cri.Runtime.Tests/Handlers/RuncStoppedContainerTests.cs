using System.Text.Json.Nodes;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Xunit;

namespace Crisp.Runtime.Tests.Handlers;

/// <summary>The in-process `runc delete` of a stopped container, over a plain directory standing in for the cgroup filesystem.</summary>
public sealed class RuncStoppedContainerTests : IDisposable
{
    private const string Id = "c1";
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-runc-stopped-").FullName;
    private string Root => Path.Combine(_dir, "runc");
    private string CgroupFs => Path.Combine(_dir, "cgroup") + "/";
    private string StateDir => Path.Combine(Root, Id);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A state.json as runc 1.1.5 writes it (the fields read here), with an init that is gone unless told otherwise.</summary>
    private List<string> WriteState(ProcessIdentity? init = null, JsonNode? hooks = null, string? outsideCgroup = null)
    {
        var cgroups = new List<string> { CgroupFs + "memory/pod/c1", CgroupFs + "cpu/pod/c1", CgroupFs + "unified/pod/c1" };
        foreach (var cgroup in cgroups) Directory.CreateDirectory(cgroup);
        var paths = new JsonObject { ["memory"] = cgroups[0], ["cpu"] = cgroups[1], [""] = cgroups[2] };
        if (outsideCgroup is not null) paths["pids"] = outsideCgroup;
        // The test process's own pid with a start time it never had: a recycled pid, as runc tells it apart.
        var identity = init ?? new ProcessIdentity(Environment.ProcessId, 1);
        var state = new JsonObject
        {
            ["id"] = Id,
            ["init_process_pid"] = identity.Pid,
            ["init_process_start"] = identity.StartTime,
            ["cgroup_paths"] = paths,
            ["intel_rdt_path"] = "",
            ["config"] = new JsonObject { ["Hooks"] = hooks, ["namespaces"] = new JsonArray() },
        };
        Directory.CreateDirectory(StateDir);
        File.WriteAllText(Path.Combine(StateDir, "state.json"), state.ToJsonString());
        File.WriteAllText(Path.Combine(StateDir, "exec.fifo"), "");
        return cgroups;
    }

    private Task<bool> DeleteAsync() => RuncStoppedContainer.TryDeleteAsync(Root, Id, CancellationToken.None, CgroupFs);

    [Fact]
    public async Task A_stopped_container_loses_its_cgroups_and_state_directory()
    {
        var cgroups = WriteState(hooks: new JsonObject { ["poststop"] = new JsonArray() });

        Assert.True(await DeleteAsync());

        Assert.False(Directory.Exists(StateDir));
        Assert.All(cgroups, c => Assert.False(Directory.Exists(c)));
        Assert.True(Directory.Exists(CgroupFs + "memory/pod"));
    }

    [Fact]
    public async Task A_container_the_runtime_never_recorded_has_nothing_to_delete() => Assert.True(await DeleteAsync());

    public static TheoryData<string> LeftToRunc => ["live init", "poststop hook", "process in a cgroup", "child cgroup", "cgroup outside the cgroup fs", "no state.json", "unreadable state.json"];

    [Theory]
    [MemberData(nameof(LeftToRunc))]
    public async Task Anything_runc_would_do_more_for_is_left_to_runc_untouched(string situation)
    {
        var cgroups = situation switch
        {
            "live init" => WriteState(init: ProcessIdentity.Of(Environment.ProcessId)),
            "poststop hook" => WriteState(hooks: new JsonObject { ["poststop"] = new JsonArray(new JsonObject { ["path"] = "/bin/true" }) }),
            "cgroup outside the cgroup fs" => WriteState(outsideCgroup: Path.Combine(_dir, "elsewhere")),
            _ => WriteState(),
        };
        switch (situation)
        {
            case "process in a cgroup": File.WriteAllText(Path.Combine(cgroups[1], "cgroup.procs"), "4242\n"); break;
            case "child cgroup": Directory.CreateDirectory(Path.Combine(cgroups[0], "nested")); break;
            case "no state.json": File.Move(Path.Combine(StateDir, "state.json"), Path.Combine(StateDir, "status")); break;
            case "unreadable state.json": File.WriteAllText(Path.Combine(StateDir, "state.json"), "{\"init_process_pid\": "); break;
        }

        Assert.False(await DeleteAsync());

        Assert.True(Directory.Exists(StateDir));
        Assert.All(cgroups, c => Assert.True(Directory.Exists(c)));
    }
}
