using System.Net.Sockets;
using Crisp.E2E.Daemon;
using Xunit;

namespace Crisp.E2E.Security;

/// <summary>crispd deletes only a stale socket at its socket path and never chmods a directory it did not create.</summary>
public sealed class SocketPathTests : IDisposable
{
    private const UnixFileMode Open = (UnixFileMode)0b111_101_101;
    private readonly string _directory = Directory.CreateTempSubdirectory("crisp-e2e-socket-").FullName;

    [Fact]
    public async Task A_regular_file_at_the_socket_path_stops_the_start_and_stays_untouched()
    {
        var socketPath = Path.Combine(_directory, "crisp.sock");
        await File.WriteAllTextAsync(socketPath, "someone's data\n");

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => CrispDaemon.StartAsync(new DaemonOptions { SocketPath = socketPath }));

        Assert.Contains($"socket path {socketPath} holds a regular file", refused.Message);
        Assert.Equal("someone's data\n", await File.ReadAllTextAsync(socketPath));
    }

    [Fact]
    public async Task An_existing_socket_directory_keeps_its_mode_and_a_stale_socket_is_replaced()
    {
        var shared = Path.Combine(_directory, "run");
        Directory.CreateDirectory(shared);
        File.SetUnixFileMode(shared, Open);
        var socketPath = Path.Combine(shared, "crisp.sock");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            stale.Bind(new UnixDomainSocketEndPoint(socketPath)); // closed without unlinking: what a killed crispd leaves

        await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions { SocketPath = socketPath });

        Assert.Equal(Open, File.GetUnixFileMode(shared));
        Assert.NotNull(daemon.ProcessId);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
