using Crisp.Runtime.Cdi;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.Tests.Cdi;

public sealed class CdiRegistryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "crisp-cdi-" + Guid.NewGuid().ToString("N"));
    private string Etc => Path.Combine(_dir, "etc");
    private string Run => Path.Combine(_dir, "run");

    public CdiRegistryTests()
    {
        Directory.CreateDirectory(Etc);
        Directory.CreateDirectory(Run);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private CdiRegistry Registry() => new([Etc, Run], NullLogger<CdiRegistry>.Instance);

    private static string Spec(string kind, string env, params string[] devices) =>
        $$$"""{"cdiVersion":"0.6.0","kind":"{{{kind}}}","devices":[{{{string.Join(",", devices.Select(d => $$$"""{"name":"{{{d}}}","containerEdits":{"env":["{{{env}}}"]}}"""))}}}]}""";

    [Fact]
    public void Resolves_fully_qualified_names_and_a_broken_file_hides_no_good_one()
    {
        File.WriteAllText(Path.Combine(Etc, "good.json"), Spec("vendor.com/gpu", "FROM=etc", "gpu0", "gpu1"));
        File.WriteAllText(Path.Combine(Etc, "bad.yaml"), "cdiVersion: 0.6.0\nkind: [");
        var registry = Registry();

        var devices = registry.Resolve(["vendor.com/gpu=gpu1", "vendor.com/gpu=gpu0", "vendor.com/gpu=gpu1"]);

        Assert.Equal(["vendor.com/gpu=gpu1", "vendor.com/gpu=gpu0"], devices.Select(d => d.QualifiedName));
        Assert.Contains(Path.Combine(Etc, "bad.yaml"), registry.Current().Errors.Keys);
    }

    [Fact]
    public void An_unknown_device_names_the_device_and_the_broken_files()
    {
        File.WriteAllText(Path.Combine(Etc, "bad.json"), "{");
        var error = Assert.Throws<CdiResolutionException>(() => Registry().Resolve(["vendor.com/gpu=gpu9"]));
        Assert.Equal("vendor.com/gpu=gpu9", error.Device);
        Assert.Contains("vendor.com/gpu=gpu9", error.Message);
        Assert.Contains(Path.Combine(Etc, "bad.json"), error.Message);
    }

    [Fact]
    public void A_later_directory_overrides_and_a_conflict_in_one_directory_drops_the_device()
    {
        File.WriteAllText(Path.Combine(Etc, "a.json"), Spec("vendor.com/gpu", "FROM=etc", "gpu0", "gpu1"));
        File.WriteAllText(Path.Combine(Run, "a.json"), Spec("vendor.com/gpu", "FROM=run", "gpu0"));
        File.WriteAllText(Path.Combine(Run, "b.json"), Spec("vendor.com/nic", "X=1", "nic0"));
        File.WriteAllText(Path.Combine(Run, "c.json"), Spec("vendor.com/nic", "X=2", "nic0"));
        var registry = Registry();

        Assert.Equal("FROM=run", registry.Resolve(["vendor.com/gpu=gpu0"])[0].Device.ContainerEdits!.Env![0]);
        Assert.Equal("FROM=etc", registry.Resolve(["vendor.com/gpu=gpu1"])[0].Device.ContainerEdits!.Env![0]);
        Assert.Throws<CdiResolutionException>(() => registry.Resolve(["vendor.com/nic=nic0"]));
    }

    [Fact]
    public void A_spec_written_later_is_seen_without_a_restart()
    {
        var registry = Registry();
        Assert.Throws<CdiResolutionException>(() => registry.Resolve(["vendor.com/gpu=gpu0"]));
        File.WriteAllText(Path.Combine(Run, "new.json"), Spec("vendor.com/gpu", "A=1", "gpu0"));
        Assert.Single(registry.Resolve(["vendor.com/gpu=gpu0"]));
    }

    [Fact]
    public void A_file_over_the_size_limit_is_reported_by_the_limit_name()
    {
        using (var stream = File.Create(Path.Combine(Etc, "huge.json"))) stream.SetLength(CdiRegistry.MaxSpecFileBytes + 1);
        var errors = Registry().Current().Errors;
        Assert.Contains(nameof(CdiRegistry.MaxSpecFileBytes), errors[Path.Combine(Etc, "huge.json")]);
    }

    [Fact]
    public void Requested_names_come_from_the_field_then_the_annotations_without_duplicates()
    {
        var config = new Crisp.Cri.V1.ContainerConfig();
        config.CDIDevices.Add(new Crisp.Cri.V1.CDIDevice { Name = "vendor.com/gpu=0" });
        config.Annotations["cdi.k8s.io/plugin_claim"] = "vendor.com/gpu=0, vendor.com/gpu=1";
        config.Annotations["other"] = "vendor.com/gpu=2";
        Assert.Equal(["vendor.com/gpu=0", "vendor.com/gpu=1"], CdiNames.Requested(config).Select(r => r.Name));
    }
}
