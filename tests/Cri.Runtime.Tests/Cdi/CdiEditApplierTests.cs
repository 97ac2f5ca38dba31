using Crisp.Interop;
using Crisp.Runtime.Cdi;
using Crisp.Runtime.Oci;
using Xunit;

namespace Crisp.Runtime.Tests.Cdi;

public sealed class CdiEditApplierTests
{
    private static CdiRegistry.ResolvedDevice Device(string json, string name = "d0", string path = "/etc/cdi/v.json")
    {
        var spec = CdiSpecParser.Parse(path, json);
        return new(spec.Kind + "=" + name, path, spec, spec.Devices.Single(d => d.Name == name));
    }

    private static OciSpec BaseSpec() => new()
    {
        Process = new OciProcess { Env = ["PATH=/bin", "MODE=image"], User = new OciUser { Uid = 1000, Gid = 1000 } },
        Mounts = [new OciMount { Destination = "/proc", Type = "proc" }, new OciMount { Destination = "/data", Type = "bind", Source = "/host" }],
        Linux = new OciLinux { Resources = new OciResources { Devices = [new OciDeviceCgroup { Allow = false, Access = "rwm" }] } },
    };

    private static DeviceNodeInfo? NullDevice(string path) => path == "/dev/null" ? new DeviceNodeInfo('c', 1, 3, 0x1B6, 0, 0) : null;

    [Fact]
    public void Spec_edits_come_before_device_edits_and_once_per_spec()
    {
        var json = """
            {"cdiVersion":"0.6.0","kind":"vendor.com/x",
             "containerEdits":{"env":["ORDER=spec","SPEC=1"]},
             "devices":[{"name":"d0","containerEdits":{"env":["ORDER=d0"]}},{"name":"d1","containerEdits":{"env":["ORDER=d1"]}}]}
            """;
        var spec = BaseSpec();

        CdiEditApplier.Apply(spec, [Device(json, "d0"), Device(json, "d1")], NullDevice);

        // The spec-level env was applied once, before d0, and d1's edit (later) wins over both.
        Assert.Equal(["PATH=/bin", "MODE=image", "SPEC=1", "ORDER=d1"], spec.Process!.Env!);
    }

    [Fact]
    public void A_device_node_takes_missing_numbers_from_the_host_and_gets_exactly_its_cgroup_rule()
    {
        var json = """
            {"cdiVersion":"0.5.0","kind":"vendor.com/x","devices":[{"name":"d0","containerEdits":{
              "deviceNodes":[{"path":"/dev/renamed-null","hostPath":"/dev/null","permissions":"wr"},
                             {"path":"/dev/fixed","type":"b","major":8,"minor":1,"permissions":"none"}]}}]}
            """;
        var spec = BaseSpec();

        CdiEditApplier.Apply(spec, [Device(json)], NullDevice);

        var nodes = spec.Linux!.Devices!;
        Assert.Equal(("c", 1L, 3L, 0x1B6u, 1000u), (nodes[0].Type, nodes[0].Major, nodes[0].Minor, nodes[0].FileMode!.Value, nodes[0].Uid!.Value));
        Assert.Equal("/dev/renamed-null", nodes[0].Path);
        var rules = spec.Linux.Resources!.Devices!;
        Assert.Equal(3, rules.Count);
        Assert.Equal((true, "c", 1L, 3L, "rw"), (rules[1].Allow, rules[1].Type, rules[1].Major!.Value, rules[1].Minor!.Value, rules[1].Access));
        Assert.Equal((true, "b", 8L, 1L, ""), (rules[2].Allow, rules[2].Type, rules[2].Major!.Value, rules[2].Minor!.Value, rules[2].Access));
    }

    [Fact]
    public void A_device_node_missing_on_the_host_without_numbers_names_the_device_and_file()
    {
        var json = """{"cdiVersion":"0.5.0","kind":"vendor.com/x","devices":[{"name":"d0","containerEdits":{"deviceNodes":[{"path":"/dev/absent"}]}}]}""";
        var error = Assert.Throws<CdiResolutionException>(() => CdiEditApplier.Apply(BaseSpec(), [Device(json)], NullDevice));
        Assert.Contains("vendor.com/x=d0", error.Message);
        Assert.Contains("/etc/cdi/v.json", error.Message);
        Assert.Contains("/dev/absent", error.Message);
    }

    [Fact]
    public void Mounts_replace_the_same_destination_and_stay_parent_first_hooks_and_gids_are_added()
    {
        var json = """
            {"cdiVersion":"0.7.0","kind":"vendor.com/x","devices":[{"name":"d0","containerEdits":{
              "mounts":[{"hostPath":"/usr/lib/vendor","containerPath":"/data/lib","options":["ro","rbind"]},
                        {"hostPath":"/srv","containerPath":"/data","type":"bind","options":["rbind"]}],
              "hooks":[{"hookName":"createContainer","path":"/usr/bin/vendor-hook","args":["vendor-hook","x"],"timeout":5}],
              "additionalGids":[0,44]}}]}
            """;
        var spec = BaseSpec();

        CdiEditApplier.Apply(spec, [Device(json)], NullDevice);

        Assert.Equal(["/proc", "/data", "/data/lib"], spec.Mounts!.Select(m => m.Destination));
        Assert.Equal("/srv", spec.Mounts![1].Source);
        var hook = Assert.Single(spec.Hooks!.CreateContainer!);
        Assert.Equal(("/usr/bin/vendor-hook", 5), (hook.Path, hook.Timeout!.Value));
        Assert.Equal([44u], spec.Process!.User.AdditionalGids!);
        Assert.Contains("\"createContainer\"", spec.ToJson());
    }
}
