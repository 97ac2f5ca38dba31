using Crisp.Runtime.Handlers;
using Crisp.Runtime.Monitor;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Handlers;

public sealed class OomTests
{
    [Fact]
    public async Task Memory_limit_kill_leaves_conmons_oom_marker_and_137()
    {
        const long limit = 24L * 1024 * 1024;
        using var bundle = new BusyboxBundle(["/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"], c =>
            c["linux"]!["resources"] = new System.Text.Json.Nodes.JsonObject
            {
                ["memory"] = new System.Text.Json.Nodes.JsonObject { ["limit"] = limit, ["swap"] = limit },
            });
        var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
        try
        {
            await handler.CreateAsync(bundle.Launch(), CancellationToken.None);
            await handler.StartAsync(bundle.ContainerId, CancellationToken.None);
            var exit = await RuntimeTestSupport.EventuallyAsync(() => ExitFile.TryRead(bundle.ExitDir, bundle.ContainerId), TimeSpan.FromSeconds(15), "exit file");
            Assert.Equal(137, exit.ExitCode);
            await RuntimeTestSupport.EventuallyAsync(() => ConmonFiles.OomMarkerExists(bundle.PersistDir), TimeSpan.FromSeconds(5), "conmon's oom marker");
        }
        finally
        {
            await handler.DeleteAsync(bundle.ContainerId, force: true, CancellationToken.None);
        }
    }
}
