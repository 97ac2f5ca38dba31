using Crisp.Cri.V1;
using Xunit;

namespace Crisp.E2E.Daemon;

public sealed class DefaultNetworkTests
{
    [Fact]
    public async Task Write_default_cni_config_makes_the_network_ready_in_an_empty_dir()
    {
        await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions { CniConfig = null, Flags = ["--network-write-default-cni-config", "true"] });
        var file = Path.Combine(daemon.CniConfDir, "10-crisp-bridge.conflist");
        Assert.True(File.Exists(file));
        var status = await daemon.Runtime.StatusAsync(new StatusRequest());
        Assert.True(status.Status.Conditions.Single(c => c.Type == "NetworkReady").Status);
    }

    [Fact]
    public async Task Write_default_cni_config_never_touches_an_existing_valid_config()
    {
        var dir = Directory.CreateTempSubdirectory("crisp-cni-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "05-mine.conflist"), """{"cniVersion":"1.0.0","name":"mine","plugins":[{"type":"loopback"}]}""");
            await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions
            {
                CniConfDir = dir,
                Flags = ["--network-write-default-cni-config", "true"],
            });
            Assert.Equal(["05-mine.conflist"], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
