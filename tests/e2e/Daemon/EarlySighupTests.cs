using System.Globalization;
using Crisp.Cri.V1;
using Xunit;

namespace Crisp.E2E.Daemon;

/// <summary>
/// SIGHUP while crispd is still starting (systemctl reload during a long recovery): SIGHUP's default action would
/// end the process, so crispd catches it from the first line of Main and reloads once it runs.
/// </summary>
public sealed class EarlySighupTests
{
    // SIGHUP is signal 1: bit 0 of the mask.
    private const ulong SighupBit = 1;

    /// <summary>Whether the process has a handler for SIGHUP installed (SigCgt in /proc/PID/status).</summary>
    private static bool CatchesSighup(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigCgt:", StringComparison.Ordinal));
            return line is not null && (ulong.Parse(line["SigCgt:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & SighupBit) != 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_SIGHUP_sent_as_soon_as_crispd_catches_it_is_survived_and_answered_by_a_reload_once_started()
    {
        await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions { WaitUntilServing = false });
        var pid = daemon.ProcessId ?? throw new InvalidOperationException($"crispd exited at once:\n{daemon.Output}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!CatchesSighup(pid))
        {
            Assert.True(DateTime.UtcNow < deadline, $"crispd never caught SIGHUP:\n{daemon.Output}");
            Assert.True(daemon.ProcessId is not null, $"crispd exited while starting:\n{daemon.Output}");
            await Task.Delay(1);
        }

        daemon.Reload();

        await daemon.WaitUntilServingAsync(TimeSpan.FromSeconds(60));
        await daemon.WaitForOutputAsync("SIGHUP received while crispd was starting", 0, TimeSpan.FromSeconds(20));
        await daemon.WaitForOutputAsync("SIGHUP: registries configuration reloaded", 0, TimeSpan.FromSeconds(20));
        var version = await daemon.Runtime.VersionAsync(new VersionRequest());
        Assert.Equal("crisp", version.RuntimeName);
    }
}
