using System.Text.Json;
using Crisp.Cri.V1;
using Xunit;

namespace Crisp.E2E.Daemon;

/// <summary>Status verbose reports CDI as containerd names it, with the devices and unusable files of the configured dirs.</summary>
public sealed class CdiStatusTests : IDisposable
{
    private readonly string _cdiDir = Directory.CreateTempSubdirectory("crisp-e2e-cdi-").FullName;

    public void Dispose() => Directory.Delete(_cdiDir, recursive: true);

    [Fact]
    public async Task Status_verbose_reports_cdi_devices_and_broken_spec_files()
    {
        File.WriteAllText(Path.Combine(_cdiDir, "good.json"),
            """{"cdiVersion":"0.6.0","kind":"example.com/dev","devices":[{"name":"null0","containerEdits":{"env":["CDI=1"]}}]}""");
        File.WriteAllText(Path.Combine(_cdiDir, "broken.yaml"), "cdiVersion: [");
        await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions { Flags = ["--runtime-cdi-spec-dirs", _cdiDir] });

        var status = await daemon.Runtime.StatusAsync(new StatusRequest { Verbose = true });

        using var cdi = JsonDocument.Parse(status.Info["cdi"]);
        Assert.True(cdi.RootElement.GetProperty("enableCDI").GetBoolean());
        Assert.Equal([_cdiDir], cdi.RootElement.GetProperty("cdiSpecDirs").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["example.com/dev=null0"], cdi.RootElement.GetProperty("devices").EnumerateArray().Select(e => e.GetString()));
        Assert.True(cdi.RootElement.GetProperty("errors").TryGetProperty(Path.Combine(_cdiDir, "broken.yaml"), out _));
    }
}
