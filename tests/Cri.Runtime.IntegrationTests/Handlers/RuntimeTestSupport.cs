using Xunit;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crisp.Runtime.IntegrationTests.Handlers;

internal static class RuntimeTestSupport
{
    /// <summary>A runc handler over the bundle's own --root, probed for real.</summary>
    public static async Task<OciRuntimeHandler> RuncAsync(string runtimeRoot)
    {
        var handler = new OciRuntimeHandler(
            new RuntimeHandlerOptions { Name = "runc", Path = "runc", Root = runtimeRoot }, "conmon", "cgroupfs", NullLogger.Instance);
        await handler.ProbeAsync(CancellationToken.None);
        Assert.True(handler.Availability.Ready, handler.Availability.Reason);
        return handler;
    }

    public static async Task<T> EventuallyAsync<T>(Func<T?> probe, TimeSpan timeout, string what) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (probe() is { } value) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not happen within {timeout}");
            await Task.Delay(20);
        }
    }

    public static async Task EventuallyAsync(Func<bool> probe, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!probe())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not happen within {timeout}");
            await Task.Delay(20);
        }
    }

    public static string? ReadOrNull(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return null; }
    }
}
