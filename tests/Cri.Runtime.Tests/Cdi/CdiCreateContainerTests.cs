using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Oci;
using Crisp.Runtime.Tests.Fakes;
using Xunit;

namespace Crisp.Runtime.Tests.Cdi;

public sealed class CdiCreateContainerTests : IDisposable
{
    private readonly RuntimeHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private void WriteSpec()
    {
        Directory.CreateDirectory(_harness.CdiDir);
        File.WriteAllText(Path.Combine(_harness.CdiDir, "vendor.yaml"), """
            cdiVersion: 0.6.0
            kind: example.com/dev
            containerEdits:
              env: [CDI_SPEC=1]
            devices:
              - name: null0
                containerEdits:
                  deviceNodes:
                    - path: /dev/cdi-null
                      hostPath: /dev/null
                      permissions: rw
                  mounts:
                    - hostPath: /etc
                      containerPath: /cdi/etc
                      options: [ro, rbind]
            """);
    }

    [Fact]
    public async Task A_requested_CDI_device_reaches_config_json()
    {
        WriteSpec();
        var sandbox = await _harness.RunPodAsync();
        var request = RuntimeHarness.ContainerRequest(sandbox);
        request.Config.CDIDevices.Add(new CDIDevice { Name = "example.com/dev=null0" });

        var id = await _harness.Creator.CreateContainerAsync(request, CancellationToken.None);

        var spec = OciSpec.FromJson(_harness.Store.FindContainer(id)!.SpecJson);
        Assert.Contains("CDI_SPEC=1", spec.Process!.Env!);
        var node = Assert.Single(spec.Linux!.Devices!, d => d.Path == "/dev/cdi-null");
        Assert.Equal(("c", 1L, 3L), (node.Type, node.Major, node.Minor));
        Assert.Contains(spec.Linux.Resources!.Devices!, r => r is { Allow: true, Type: "c", Major: 1, Minor: 3, Access: "rw" });
        Assert.Contains(spec.Mounts!, m => m.Destination == "/cdi/etc" && m.Source == "/etc");
    }

    [Fact]
    public async Task An_unknown_CDI_device_is_InvalidArgument_naming_it_and_creates_nothing()
    {
        WriteSpec();
        var sandbox = await _harness.RunPodAsync();
        var request = RuntimeHarness.ContainerRequest(sandbox);
        request.Config.Annotations["cdi.k8s.io/claim"] = "example.com/dev=missing";

        var error = await Assert.ThrowsAsync<RuntimeException>(() => _harness.Creator.CreateContainerAsync(request, CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("config.annotations[cdi.k8s.io/claim]", error.Message);
        Assert.Contains("example.com/dev=missing", error.Message);
        Assert.Empty(_harness.Store.ContainersOf(sandbox));
    }
}
