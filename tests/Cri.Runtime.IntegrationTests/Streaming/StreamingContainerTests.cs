using System.IO.Pipes;
using System.Text;
using System.Threading.Channels;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Streaming;
using Crisp.Runtime.IntegrationTests.Handlers;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Streaming;

/// <summary>Streaming exec and attach against real runc containers under conmon (as root).</summary>
public sealed class StreamingContainerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Exec_without_tty_wires_stdin_stdout_stderr_and_returns_the_exit_code()
    {
        await using var c = await RunningContainer.StartAsync(["/bin/sleep", "300"]);
        var stdout = new CapturingStream();
        var stderr = new CapturingStream();
        var io = new StreamingIo { Stdin = new MemoryStream("hello\n"u8.ToArray()), Stdout = stdout, Stderr = stderr };

        var exit = await c.Handler.ExecAsync(c.Id, ["/bin/sh", "-c", "read x; echo out:$x; echo err:$x >&2; exit 3"], tty: false, io, CancellationToken.None)
            .WaitAsync(Patience);

        Assert.Equal(3, exit);
        Assert.Equal("out:hello\n", stdout.Text);
        Assert.Equal("err:hello\n", stderr.Text);
    }

    [Fact]
    public async Task Exec_without_client_stdin_reads_EOF_at_once()
    {
        await using var c = await RunningContainer.StartAsync(["/bin/sleep", "300"]);
        var stdout = new CapturingStream();
        var exit = await c.Handler.ExecAsync(c.Id, ["/bin/sh", "-c", "cat; echo cat-done"], tty: false, new StreamingIo { Stdout = stdout }, CancellationToken.None)
            .WaitAsync(Patience);
        Assert.Equal(0, exit);
        Assert.Equal("cat-done\n", stdout.Text);
    }

    [Fact]
    public async Task A_background_child_holding_the_output_keeps_the_exec_open_until_cancelled_which_kills_it_too()
    {
        await using var c = await RunningContainer.StartAsync(["/bin/sleep", "300"]);
        var stdout = new CapturingStream();
        using var cts = new CancellationTokenSource();
        var exec = c.Handler.ExecAsync(c.Id, ["/bin/sh", "-c", "sleep 4321 & echo parent-done"], tty: false, new StreamingIo { Stdout = stdout }, cts.Token);
        await stdout.WaitForAsync("parent-done", Patience);
        // runc exec waits for its output pipes, which the background sleep holds (the kubelet's other runtimes too).
        await Task.Delay(500);
        Assert.False(exec.IsCompleted);
        Assert.Contains("sleep 4321", await PsAsync(c));

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exec.WaitAsync(Patience));
        Assert.DoesNotContain("sleep 4321", await PsAsync(c));
    }

    [Fact]
    public async Task Exec_of_a_missing_binary_fails_with_the_runtimes_message_on_stderr()
    {
        await using var c = await RunningContainer.StartAsync(["/bin/sleep", "300"]);
        var stderr = new CapturingStream();
        var exit = await c.Handler.ExecAsync(c.Id, ["/no/such/binary"], tty: false, new StreamingIo { Stdout = new CapturingStream(), Stderr = stderr }, CancellationToken.None)
            .WaitAsync(Patience);
        Assert.NotEqual(0, exit);
        Assert.Contains("/no/such/binary", stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_with_tty_runs_on_a_terminal_that_follows_resizes()
    {
        await using var c = await RunningContainer.StartAsync(["/bin/sleep", "300"], extraApplets: ["stty"]);
        var output = new CapturingStream();
        var resize = Channel.CreateUnbounded<TerminalSize>();
        resize.Writer.TryWrite(new TerminalSize(Width: 100, Height: 30));
        using var stdinWriter = new AnonymousPipeServerStream(PipeDirection.Out);
        using var stdinReader = new AnonymousPipeClientStream(PipeDirection.In, stdinWriter.ClientSafePipeHandle);
        var io = new StreamingIo { Stdin = stdinReader, Stdout = output, Resize = resize.Reader };

        var exec = c.Handler.ExecAsync(c.Id,
            ["/bin/sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo on-a-tty; sleep 0.5; stty size; read line; echo got:$line; stty size; exit 5"],
            tty: true, io, CancellationToken.None);
        await output.WaitForAsync("30 100", Patience);
        resize.Writer.TryWrite(new TerminalSize(Width: 90, Height: 20));
        // Let the resize land before the process looks again.
        await Task.Delay(300);
        await stdinWriter.WriteAsync("typed\n"u8.ToArray());
        await stdinWriter.FlushAsync();

        Assert.Equal(5, await exec.WaitAsync(Patience));
        Assert.Contains("on-a-tty", output.Text, StringComparison.Ordinal);
        Assert.Contains("got:typed", output.Text, StringComparison.Ordinal);
        Assert.Contains("20 90", output.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_an_exec_kills_the_process_in_the_container()
    {
        await using var c = await RunningContainer.StartAsync(["/bin/sleep", "300"]);
        var stdout = new CapturingStream();
        using var cts = new CancellationTokenSource();
        var exec = c.Handler.ExecAsync(c.Id, ["/bin/sh", "-c", "echo started; exec sleep 1234"], tty: false, new StreamingIo { Stdout = stdout }, cts.Token);
        await stdout.WaitForAsync("started", Patience);
        Assert.Contains("sleep 1234", await PsAsync(c));

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exec.WaitAsync(Patience));
        Assert.DoesNotContain("sleep 1234", await PsAsync(c));
    }

    [Fact]
    public async Task Cancelling_a_tty_exec_kills_the_process_and_returns_promptly()
    {
        await using var c = await RunningContainer.StartAsync(["/bin/sleep", "300"]);
        var output = new CapturingStream();
        using var cts = new CancellationTokenSource();
        var exec = c.Handler.ExecAsync(c.Id, ["/bin/sh", "-c", "echo started; exec sleep 2345"], tty: true, new StreamingIo { Stdout = output }, cts.Token);
        await output.WaitForAsync("started", Patience);

        var cancelledAt = DateTime.UtcNow;
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exec.WaitAsync(Patience));
        Assert.True(DateTime.UtcNow - cancelledAt < TimeSpan.FromSeconds(5), $"took {DateTime.UtcNow - cancelledAt}");
        Assert.DoesNotContain("sleep 2345", await PsAsync(c));
    }

    [Fact]
    public async Task Attach_streams_output_by_pipe_and_stdin_once_closes_the_containers_stdin_at_EOF()
    {
        await using var c = await RunningContainer.StartAsync(
            ["/bin/sh", "-c", "while read l; do echo got:$l; echo err:$l >&2; done; echo bye"],
            launch: l => l with { Stdin = true, StdinOnce = true });
        var stdout = new CapturingStream();
        var stderr = new CapturingStream();
        var io = new StreamingIo { Stdin = new MemoryStream("a\nb\n"u8.ToArray()), Stdout = stdout, Stderr = stderr };

        // Returns once the container exited (its stdin closed after our EOF ended the loop).
        await ConmonAttachSession.RunAsync(c.Id, c.Bundle.BundlePath, tty: false, containerStdin: true, stdinOnce: true, io, NullLogger.Instance, CancellationToken.None)
            .WaitAsync(Patience);

        Assert.Equal("got:a\ngot:b\nbye\n", stdout.Text);
        Assert.Equal("err:a\nerr:b\n", stderr.Text);
    }

    [Fact]
    public async Task Attach_with_tty_resizes_the_containers_terminal_through_conmon()
    {
        await using var c = await RunningContainer.StartAsync(
            ["/bin/sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; stty size; echo done"],
            extraApplets: ["stty"],
            customize: config => config["process"]!["terminal"] = true,
            launch: l => l with { Tty = true });
        var output = new CapturingStream();
        var resize = Channel.CreateUnbounded<TerminalSize>();
        resize.Writer.TryWrite(new TerminalSize(Width: 111, Height: 33));

        var attach = ConmonAttachSession.RunAsync(c.Id, c.Bundle.BundlePath, tty: true, containerStdin: false, stdinOnce: false,
            new StreamingIo { Stdout = output, Resize = resize.Reader }, NullLogger.Instance, CancellationToken.None);
        // conmon only sends output to clients connected when it is produced: give the attach and resize a moment.
        await Task.Delay(500);
        File.WriteAllText(Path.Combine(c.Bundle.RootfsPath, "tmp", "go"), "");

        await attach.WaitAsync(Patience);
        Assert.Contains("33 111", output.Text, StringComparison.Ordinal);
        Assert.Contains("done", output.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attach_with_stdin_to_a_container_without_stdin_is_refused()
    {
        var e = await Assert.ThrowsAsync<RuntimeException>(() => ConmonAttachSession.RunAsync(
            "c1", "/nonexistent", tty: false, containerStdin: false, stdinOnce: false,
            new StreamingIo { Stdin = new MemoryStream() }, NullLogger.Instance, CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.FailedPrecondition, e.Kind);
    }

    private static async Task<string> PsAsync(RunningContainer c)
    {
        var result = await c.Handler.ExecSyncAsync(ExecTarget.ById(c.Id), ["ps", "-o", "args"], TimeSpan.FromSeconds(10), 1 << 20, CancellationToken.None);
        return Encoding.UTF8.GetString(result.Stdout);
    }

    private sealed class RunningContainer : IAsyncDisposable
    {
        public required BusyboxBundle Bundle { get; init; }
        public required OciRuntimeHandler Handler { get; init; }
        public string Id => Bundle.ContainerId;

        public static async Task<RunningContainer> StartAsync(
            string[] args,
            string[]? extraApplets = null,
            Action<System.Text.Json.Nodes.JsonObject>? customize = null,
            Func<ContainerLaunch, ContainerLaunch>? launch = null)
        {
            var bundle = new BusyboxBundle(args, customize);
            foreach (var applet in extraApplets ?? [])
                File.Copy("/bin/busybox", Path.Combine(bundle.RootfsPath, "bin", applet));
            var handler = await RuntimeTestSupport.RuncAsync(bundle.RuntimeRoot);
            var c = new RunningContainer { Bundle = bundle, Handler = handler };
            try
            {
                var l = bundle.Launch();
                await handler.CreateAsync(launch is null ? l : launch(l), CancellationToken.None);
                await handler.StartAsync(bundle.ContainerId, CancellationToken.None);
            }
            catch
            {
                await c.DisposeAsync();
                throw;
            }
            return c;
        }

        public async ValueTask DisposeAsync()
        {
            await Handler.DeleteAsync(Bundle.ContainerId, force: true, CancellationToken.None);
            Bundle.Dispose();
        }
    }
}
