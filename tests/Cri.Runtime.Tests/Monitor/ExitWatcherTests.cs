using Crisp.Runtime.Monitor;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.Tests.Monitor;

public sealed class ExitWatcherTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "crisp-exits-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Reports_exits_written_before_and_after_start_once_each()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "while-down"), "3");
        var persist = Path.Combine(_dir, "persist");
        Directory.CreateDirectory(persist);
        File.WriteAllText(Path.Combine(persist, "oom"), "");

        using var watcher = new ExitWatcher(_dir, NullLogger<ExitWatcher>.Instance,
            id => id == "oomed" ? persist : null, TimeSpan.FromMilliseconds(100));
        var seen = new System.Collections.Concurrent.ConcurrentQueue<ContainerExitedEventArgs>();
        watcher.ContainerExited += (_, e) => seen.Enqueue(e);
        watcher.Start();

        await WaitForAsync(() => seen.Any(e => e.ContainerId == "while-down"));
        // conmon may create the file before the code is in it: no event for an empty file.
        File.WriteAllText(Path.Combine(_dir, "slow"), "");
        File.WriteAllText(Path.Combine(_dir, "oomed"), "137");
        await WaitForAsync(() => seen.Any(e => e.ContainerId == "oomed"));
        Assert.DoesNotContain(seen, e => e.ContainerId == "slow");
        File.WriteAllText(Path.Combine(_dir, "slow"), "0");
        await WaitForAsync(() => seen.Any(e => e.ContainerId == "slow"));
        await Task.Delay(300); // several scans

        Assert.Single(seen, e => e.ContainerId == "while-down");
        Assert.Single(seen, e => e.ContainerId == "oomed");
        Assert.Equal(3, seen.First(e => e.ContainerId == "while-down").ExitCode);
        Assert.True(seen.First(e => e.ContainerId == "oomed").OomKilled);
        Assert.False(seen.First(e => e.ContainerId == "slow").OomKilled);
        Assert.Equal(137, watcher.ReadExit("oomed")?.ExitCode);
        Assert.Null(watcher.ReadExit("never-ran"));

        watcher.Forget("oomed");
        Assert.Null(watcher.ReadExit("oomed"));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 5s");
            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
