using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Lsm;
using Crisp.Runtime.Tests.Fakes;
using Xunit;

namespace Crisp.Runtime.Tests.Lsm;

/// <summary>SELinux pod levels and container labels through the sandbox and container services, over a faked host.</summary>
public sealed class SelinuxLabelsTests : IDisposable
{
    private readonly RuntimeHarness _runtime = new();

    public SelinuxLabelsTests() => _runtime.Selinux.Enabled = true;

    public void Dispose() => _runtime.Dispose();

    private async Task<string> RunPodAsync(string name, SELinuxOption? options = null)
    {
        var request = RuntimeHarness.PodRequest(name);
        request.Config.Linux.SecurityContext.SelinuxOptions = options;
        return await _runtime.Sandboxes.RunPodSandboxAsync(request, CancellationToken.None);
    }

    private async Task<JsonNode> ContainerSpecAsync(string sandboxId, LinuxContainerSecurityContext? sc = null)
    {
        var request = RuntimeHarness.ContainerRequest(sandboxId);
        request.Config.Linux = new LinuxContainerConfig { SecurityContext = sc ?? new LinuxContainerSecurityContext() };
        var id = await _runtime.Creator.CreateContainerAsync(request, CancellationToken.None);
        return JsonNode.Parse(_runtime.Store.FindContainer(id)!.SpecJson)!;
    }

    private string LevelOf(string sandboxId) => _runtime.Store.FindSandbox(sandboxId)!.SelinuxLevel;

    [Fact]
    public async Task Each_pod_gets_a_unique_mcs_level_even_when_the_draw_repeats()
    {
        foreach (var c in new[] { 7, 3, 3, 7, 9, 9, 1, 2 }) _runtime.ScriptedCategories.Enqueue(c);
        var first = await RunPodAsync("a");
        var second = await RunPodAsync("b");
        Assert.Equal("s0:c3,c7", LevelOf(first));
        // (3,7) is taken and (9,9) is no pair: the next free draw wins.
        Assert.Equal("s0:c1,c2", LevelOf(second));
    }

    [Fact]
    public async Task A_level_is_released_with_its_pod_and_survives_a_restart_until_then()
    {
        _runtime.ScriptedCategories.Enqueue(3);
        _runtime.ScriptedCategories.Enqueue(7);
        var first = await RunPodAsync("a");

        var restarted = _runtime.Restart();
        Assert.Equal("s0:c3,c7", restarted.Store.FindSandbox(first)!.SelinuxLevel);
        foreach (var c in new[] { 3, 7, 4, 5 }) restarted.ScriptedCategories.Enqueue(c);
        var second = await restarted.Sandboxes.RunPodSandboxAsync(RuntimeHarness.PodRequest("b"), CancellationToken.None);
        Assert.Equal("s0:c4,c5", restarted.Store.FindSandbox(second)!.SelinuxLevel);

        await restarted.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = first }, CancellationToken.None);
        restarted.ScriptedCategories.Enqueue(3);
        restarted.ScriptedCategories.Enqueue(7);
        var third = await restarted.Sandboxes.RunPodSandboxAsync(RuntimeHarness.PodRequest("c"), CancellationToken.None);
        Assert.Equal("s0:c3,c7", restarted.Store.FindSandbox(third)!.SelinuxLevel);
    }

    [Fact]
    public async Task Containers_get_the_policy_labels_at_their_pod_level()
    {
        _runtime.ScriptedCategories.Enqueue(3);
        _runtime.ScriptedCategories.Enqueue(7);
        var spec = await ContainerSpecAsync(await RunPodAsync("a"));
        Assert.Equal("system_u:system_r:container_t:s0:c3,c7", (string?)spec["process"]!["selinuxLabel"]);
        Assert.Equal("system_u:object_r:container_file_t:s0:c3,c7", (string?)spec["linux"]!["mountLabel"]);
    }

    [Fact]
    public async Task Given_options_are_honoured_pod_first_then_container()
    {
        var pod = await RunPodAsync("a", new SELinuxOption { Level = "s0:c5,c6", Type = "pod_t" });
        Assert.Equal("s0:c5,c6", LevelOf(pod));
        var podOnly = await ContainerSpecAsync(pod);
        Assert.Equal("system_u:system_r:pod_t:s0:c5,c6", (string?)podOnly["process"]!["selinuxLabel"]);

        var request = RuntimeHarness.ContainerRequest(pod, "own");
        request.Config.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext
            {
                SelinuxOptions = new SELinuxOption { User = "user_u", Role = "user_r", Type = "app_t", Level = "s0:c1.c3" },
            },
        };
        var own = JsonNode.Parse(_runtime.Store.FindContainer(await _runtime.Creator.CreateContainerAsync(request, CancellationToken.None))!.SpecJson)!;
        Assert.Equal("user_u:user_r:app_t:s0:c1.c3", (string?)own["process"]!["selinuxLabel"]);
        Assert.Equal("user_u:object_r:container_file_t:s0:c1.c3", (string?)own["linux"]!["mountLabel"]);
    }

    [Fact]
    public async Task A_privileged_container_has_no_process_label_but_keeps_the_mount_label()
    {
        var request = RuntimeHarness.PodRequest("a");
        request.Config.Linux.SecurityContext.Privileged = true;
        var pod = await _runtime.Sandboxes.RunPodSandboxAsync(request, CancellationToken.None);
        var spec = await ContainerSpecAsync(pod, new LinuxContainerSecurityContext { Privileged = true });
        Assert.Null(spec["process"]!["selinuxLabel"]);
        Assert.Equal("system_u:object_r:container_file_t:" + LevelOf(pod), (string?)spec["linux"]!["mountLabel"]);
    }

    [Fact]
    public async Task The_pod_shm_tmpfs_is_mounted_with_the_pod_file_label()
    {
        _runtime.ScriptedCategories.Enqueue(3);
        _runtime.ScriptedCategories.Enqueue(7);
        var pod = await RunPodAsync("a");
        var shm = _runtime.Store.FindSandbox(pod)!.ShmPath;
        Assert.Equal("system_u:object_r:container_file_t:s0:c3,c7", _runtime.Mounts.ShmLabels[Path.GetFullPath(shm)]);
        Assert.Equal("mode=1777,size=67108864,context=\"system_u:object_r:container_file_t:s0:c3,c7\"",
            Crisp.Runtime.Sandboxes.PodShm.Options("system_u:object_r:container_file_t:s0:c3,c7"));

        _runtime.Selinux.Enabled = false;
        var unlabeled = await RunPodAsync("b");
        Assert.Null(_runtime.Mounts.ShmLabels[Path.GetFullPath(_runtime.Store.FindSandbox(unlabeled)!.ShmPath)]);
        Assert.Equal("mode=1777,size=67108864", Crisp.Runtime.Sandboxes.PodShm.Options(null));
    }

    [Theory]
    [InlineData("user", "system_u,context=x")]
    [InlineData("role", "object_r\"")]
    [InlineData("type", "container t")]
    public async Task Names_that_are_no_policy_identifiers_are_refused_naming_the_field(string field, string value)
    {
        var options = new SELinuxOption();
        switch (field)
        {
            case "user": options.User = value; break;
            case "role": options.Role = value; break;
            default: options.Type = value; break;
        }
        var e = await Assert.ThrowsAsync<RuntimeException>(() => RunPodAsync("a", options));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("selinux_options." + field, e.Message);
        _runtime.AssertNothingLeft();
    }

    [Fact]
    public async Task A_malformed_level_is_refused_naming_the_field_and_leaves_nothing()
    {
        var e = await Assert.ThrowsAsync<RuntimeException>(() => RunPodAsync("a", new SELinuxOption { Level = "c1,c2; rm" }));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("selinux_options.level", e.Message);
        _runtime.AssertNothingLeft();
    }

    [Fact]
    public async Task Without_SELinux_options_are_ignored_and_nothing_is_labeled()
    {
        _runtime.Selinux.Enabled = false;
        var pod = await RunPodAsync("a", new SELinuxOption { Level = "not even a level", Type = "pod_t" });
        Assert.Equal("", LevelOf(pod));
        var spec = await ContainerSpecAsync(pod, new LinuxContainerSecurityContext { SelinuxOptions = new SELinuxOption { Type = "app_t" } });
        Assert.Null(spec["process"]!["selinuxLabel"]);
        Assert.Null(spec["linux"]!["mountLabel"]);
    }

    [Fact]
    public async Task A_policy_without_container_contexts_labels_nothing()
    {
        _runtime.Selinux.ContainerContexts = null;
        var pod = await RunPodAsync("a");
        Assert.Equal("", LevelOf(pod));
        Assert.Null((await ContainerSpecAsync(pod))["process"]!["selinuxLabel"]);
    }

    [Fact]
    public void Container_contexts_are_read_from_the_policy_named_in_the_config()
    {
        var dir = Directory.CreateTempSubdirectory("crisp-selinux-").FullName;
        try
        {
            Assert.Null(SelinuxHost.ReadContexts(dir));
            File.WriteAllText(Path.Combine(dir, "config"), "# comment\nSELINUX=enforcing\nSELINUXTYPE=targeted\n");
            Directory.CreateDirectory(Path.Combine(dir, "targeted", "contexts"));
            File.WriteAllText(Path.Combine(dir, "targeted", "contexts", "lxc_contexts"),
                "process = \"system_u:system_r:container_t:s0\"\ncontent = \"system_u:object_r:virt_var_lib_t:s0\"\nfile = \"system_u:object_r:container_file_t:s0\"\n");
            var (process, file) = SelinuxHost.ReadContexts(dir)!.Value;
            Assert.Equal("system_u:system_r:container_t:s0", process.ToString());
            Assert.Equal("container_file_t", file.Type);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("s0", true)]
    [InlineData("s0:c1,c2", true)]
    [InlineData("s0-s0:c0.c1023", true)]
    [InlineData("s0:c1.c3,c7", true)]
    [InlineData("", false)]
    [InlineData("c1,c2", false)]
    [InlineData("s0:c1,", false)]
    [InlineData("s0:c1;c2", false)]
    public void Levels_are_checked_for_their_mls_form(string level, bool valid) =>
        Assert.Equal(valid, SelinuxContext.IsValidLevel(level));
}

/// <summary>A pod rebuilt from disk after its database was lost keeps the level its containers carry.</summary>
public sealed class SelinuxLevelRebuildTests : IDisposable
{
    private readonly RuntimeHarness _runtime = new();

    public void Dispose() => _runtime.Dispose();

    [Fact]
    public async Task The_level_is_taken_back_from_the_containers_mount_label()
    {
        _runtime.Selinux.Enabled = true;
        var pod = await _runtime.RunPodAsync();
        var container = await _runtime.CreateContainerAsync(pod);
        _runtime.WriteExitFile(container, 0);
        var level = _runtime.Store.FindSandbox(pod)!.SelinuxLevel;
        Assert.Matches(@"^s0:c\d+,c\d+$", level);

        var emptied = new InMemoryStateStore();
        await _runtime.RebuilderInto(emptied).RebuildAsync(CancellationToken.None);
        Assert.Equal(level, emptied.FindSandbox(pod)!.SelinuxLevel);
    }
}
