using System.Net.Sockets;
using Crisp.Runtime.Streaming;
using Xunit;

namespace Crisp.Runtime.Tests.Streaming;

public sealed class ConmonAttachSocketTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "crisp-attach-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public void A_short_bundle_path_is_used_as_is()
    {
        var (address, handle) = ConmonAttachSocket.Address("/run/crisp/containers/abc");
        Assert.Null(handle);
        Assert.Equal("/run/crisp/containers/abc/attach", address);
    }

    [Fact]
    public void Resize_message_is_type_1_then_height_then_width()
    {
        Assert.Equal("1 24 80\n", ConmonAttachSocket.ResizeMessage(new TerminalSize(Width: 80, Height: 24)));
    }

    [Fact]
    public async Task A_socket_in_a_directory_too_deep_for_sun_path_is_reached_through_the_directory_fd()
    {
        // Deeper than the 107 bytes sun_path holds, like a long state dir plus a 64-hex container id.
        var bundle = Path.Combine(_dir, new string('b', 64), new string('c', 64));
        Directory.CreateDirectory(bundle);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(ConmonAttachSocket.PathIn(bundle)) > ConmonAttachSocket.MaxSocketPathBytes);

        // Bound the way conmon does it: relative to an fd of the directory.
        using var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        var (bindAddress, bindDir) = ConmonAttachSocket.Address(bundle);
        using (bindDir) listener.Bind(new UnixDomainSocketEndPoint(bindAddress));
        listener.Listen(1);
        Assert.True(File.Exists(ConmonAttachSocket.PathIn(bundle)));

        var (address, dir) = ConmonAttachSocket.Address(bundle);
        Assert.NotNull(dir);
        Assert.Matches(@"^/proc/self/fd/\d+/attach$", address);
        using var client = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        using (dir) await client.ConnectAsync(new UnixDomainSocketEndPoint(address));
        using var server = await listener.AcceptAsync();
        // Seqpacket keeps message boundaries: two sends are two receives.
        await server.SendAsync(new byte[] { ConmonAttachSocket.StdoutPipe, (byte)'x' }, SocketFlags.None);
        await server.SendAsync(new byte[] { ConmonAttachSocket.StderrPipe, (byte)'y', (byte)'z' }, SocketFlags.None);
        var buffer = new byte[64];
        Assert.Equal(2, await client.ReceiveAsync(buffer, SocketFlags.None));
        Assert.Equal(3, await client.ReceiveAsync(buffer, SocketFlags.None));
        Assert.Equal(ConmonAttachSocket.StderrPipe, buffer[0]);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
