using System.Diagnostics;
using System.Text.RegularExpressions;
using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Crisp.E2E.Runtime;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Security;

/// <summary>
/// An exec probe that floods its output can neither grow the daemon's state dir (tmpfs, i.e. node memory) nor
/// break the response: stdout and stderr together are truncated, visibly, to what one gRPC message carries
/// (the kubelet refuses more than 16 MiB), and the deadline is kept.
/// </summary>
[Collection(RuntimeCollection.Name)]
public sealed partial class ExecSyncLimitTests(RuntimeFixture fixture) : IAsyncLifetime
{
    /// <summary>What the kubelet (and this test's client) accepts as one CRI response.</summary>
    private const int KubeletMaxResponseBytes = 16 * 1024 * 1024;

    /// <summary>Files a few ExecSyncs keep while they run (process spec, pid and exit files): far below any flood.</summary>
    private const long StateGrowthBound = 256 * 1024;

    private PodHelper Pods => fixture.Pods;
    private string _podId = "";
    private PodSandboxConfig _pod = new();

    public async Task InitializeAsync() => (_podId, _pod) = await Pods.RunPodAsync("execlimit-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task DisposeAsync()
    {
        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = _podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = _podId });
    }

    [Fact]
    public async Task Yes_for_its_whole_timeout_returns_at_the_deadline_never_grows_the_state_dir_and_logs_no_args()
    {
        var id = await Pods.StartAsync(_podId, _pod, "yes", TestImageNames.Busybox, ["sleep", "300"]);
        var state = fixture.Daemon.StateDirectory;
        var before = BytesUnder(state);
        using var stopSampling = new CancellationTokenSource();
        var peak = SamplePeakAsync(state, stopSampling.Token);

        var sw = Stopwatch.StartNew();
        // An exec's arguments can carry secrets: they appear neither in the error nor in the daemon's log.
        const string secret = "s3cr3t-probe-token";
        var ex = await Assert.ThrowsAsync<RpcException>(() => Pods.ExecAsync(id, 3, "yes", secret));
        sw.Stop();
        await stopSampling.CancelAsync();
        var peakBytes = await peak;
        var after = BytesUnder(state);

        // The timeout is a timeout (what the kubelet turns into a failed probe), kept promptly.
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.InRange(sw.Elapsed.TotalSeconds, 2.9, 4.5);
        Assert.True(peakBytes - before < StateGrowthBound, $"state dir grew by {peakBytes - before} bytes while yes ran");
        Assert.True(after - before < StateGrowthBound, $"state dir is {after - before} bytes larger after the exec");
        Assert.Equal(ContainerState.ContainerRunning, (await Pods.StatusAsync(id)).State);
        Assert.DoesNotContain(secret, ex.Status.Detail);
        Assert.DoesNotContain(secret, fixture.Daemon.Output);
    }

    [Fact]
    public async Task Output_over_the_limit_is_truncated_with_a_marker_and_the_exit_code_is_kept()
    {
        var id = await Pods.StartAsync(_podId, _pod, "flood", TestImageNames.Busybox, ["sleep", "300"]);
        const int written = 20_000_000;
        var response = await Pods.ExecAsync(id, 30, "sh", "-c", $"yes | head -c {written}; exit 7");

        Assert.Equal(7, response.ExitCode);
        Assert.Empty(response.Stderr.ToByteArray());
        var stdout = response.Stdout.ToByteArray();
        var (dropped, limit, markerLength) = ParseMarker(stdout);
        Assert.InRange(limit, KubeletMaxResponseBytes - 4096, KubeletMaxResponseBytes);
        Assert.Equal(written - limit, dropped);
        Assert.Equal(limit + markerLength, stdout.Length);
        Assert.All(stdout.Take(limit).Chunk(2), pair => Assert.Equal("y\n"u8.ToArray(), pair));
        Assert.True(response.CalculateSize() <= KubeletMaxResponseBytes, $"response of {response.CalculateSize()} bytes");
    }

    [Fact]
    public async Task Output_exactly_at_the_limit_is_untouched_and_one_byte_more_is_marked()
    {
        var id = await Pods.StartAsync(_podId, _pod, "edge", TestImageNames.Busybox, ["sleep", "300"]);
        var limit = await DiscoverLimitAsync(id);

        var exact = await Pods.ExecAsync(id, 30, "sh", "-c", $"head -c {limit - 10} /dev/zero; printf 0123456789 >&2");
        Assert.Equal(0, exact.ExitCode);
        Assert.Equal(limit - 10, exact.Stdout.Length);
        Assert.All(exact.Stdout.ToByteArray(), b => Assert.Equal(0, b));
        Assert.Equal("0123456789", PodHelper.Utf8(exact.Stderr));

        var over = await Pods.ExecAsync(id, 30, "sh", "-c", $"head -c {limit - 10} /dev/zero; printf 0123456789X >&2");
        Assert.Equal(0, over.ExitCode);
        // Which stream loses the byte depends on which pipe was read first; exactly one byte is dropped and marked.
        var markers = new[] { over.Stdout.ToByteArray(), over.Stderr.ToByteArray() }.Select(TryParseMarker).Where(m => m is not null).ToList();
        var marker = Assert.Single(markers);
        Assert.Equal(1, marker!.Value.Dropped);
        Assert.Equal(limit + marker.Value.Length, over.Stdout.Length + over.Stderr.Length);
    }

    [Fact]
    public async Task Stdout_and_stderr_together_fit_one_response()
    {
        var id = await Pods.StartAsync(_podId, _pod, "both", TestImageNames.Busybox, ["sleep", "300"]);
        const int each = 12_000_000;
        var response = await Pods.ExecAsync(id, 30, "sh", "-c", $"head -c {each} /dev/zero; head -c {each} /dev/zero >&2");

        Assert.Equal(0, response.ExitCode);
        Assert.True(response.CalculateSize() <= KubeletMaxResponseBytes, $"response of {response.CalculateSize()} bytes");
        var stdout = response.Stdout.ToByteArray();
        var stderr = response.Stderr.ToByteArray();
        var markers = new[] { stdout, stderr }.Select(TryParseMarker).Where(m => m is not null).Select(m => m!.Value).ToList();
        Assert.NotEmpty(markers);
        var limit = markers[0].Limit;
        Assert.Equal(2L * each - limit, markers.Sum(m => m.Dropped));
        Assert.Equal(limit + markers.Sum(m => m.Length), stdout.Length + stderr.Length);
    }

    /// <summary>The limit as the daemon states it in its truncation marker.</summary>
    private async Task<int> DiscoverLimitAsync(string containerId)
    {
        var probe = await Pods.ExecAsync(containerId, 30, "head", "-c", KubeletMaxResponseBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), "/dev/zero");
        return ParseMarker(probe.Stdout.ToByteArray()).Limit;
    }

    private static (long Dropped, int Limit, int Length) ParseMarker(byte[] output) =>
        TryParseMarker(output) ?? throw new Xunit.Sdk.XunitException(
            $"no truncation marker at the end of {output.Length} bytes of output: \"{System.Text.Encoding.UTF8.GetString(output[^Math.Min(output.Length, 200)..])}\"");

    private static (long Dropped, int Limit, int Length)? TryParseMarker(byte[] output)
    {
        var tail = System.Text.Encoding.UTF8.GetString(output[^Math.Min(output.Length, 200)..]);
        var match = MarkerPattern().Match(tail);
        return match.Success
            ? (long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture),
                match.Length)
            : null;
    }

    [GeneratedRegex(@"\n\[crisp: output truncated, (\d+) more bytes dropped; stdout and stderr together are limited to (\d+) bytes\]\n$")]
    private static partial Regex MarkerPattern();

    private static async Task<long> SamplePeakAsync(string directory, CancellationToken ct)
    {
        long peak = 0;
        while (!ct.IsCancellationRequested)
        {
            peak = Math.Max(peak, BytesUnder(directory));
            try { await Task.Delay(50, ct); }
            catch (OperationCanceledException) { }
        }
        return peak;
    }

    /// <summary>Sum of the regular files' sizes below a directory; files may vanish while it is walked.</summary>
    private static long BytesUnder(string directory)
    {
        long total = 0;
        var pending = new Stack<DirectoryInfo>([new DirectoryInfo(directory)]);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            IEnumerable<FileSystemInfo> entries;
            try { entries = dir.EnumerateFileSystemInfos().ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            foreach (var entry in entries)
            {
                if (entry.LinkTarget is not null) continue;
                if (entry is DirectoryInfo sub) pending.Push(sub);
                else if (entry is FileInfo file)
                {
                    try { total += file.Length; }
                    catch (IOException) { }
                }
            }
        }
        return total;
    }
}
