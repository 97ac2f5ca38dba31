using System.Net.Sockets;
using Crisp.Runtime.Preflight;
using Crisp.Server.Commands;
using Xunit;

namespace Crisp.Server.Tests.Commands;

public sealed class CheckCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-checkcmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_free_socket_path_is_ok_and_names_the_kubelet_endpoint()
    {
        var path = Path.Combine(_dir, "crisp.sock");

        var item = CheckCommand.Socket(path);

        Assert.Equal(PreflightStatus.Ok, item.Status);
        Assert.Contains($"--container-runtime-endpoint=unix://{path}", item.Detail);
    }

    [Fact]
    public void A_path_too_long_for_a_unix_socket_address_is_missing()
    {
        var path = Path.Combine(_dir, new string('s', 120) + ".sock");

        var item = CheckCommand.Socket(path);

        Assert.Equal(PreflightStatus.Missing, item.Status);
        Assert.Contains("longer than the 107 bytes", item.Detail);
    }

    [Fact]
    public void A_socket_something_serves_is_ok_for_a_check()
    {
        var path = Path.Combine(_dir, "served.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();

        var item = CheckCommand.Socket(path);

        Assert.Equal(PreflightStatus.Ok, item.Status);
        Assert.Contains("served already", item.Detail);
    }

    [Fact]
    public void Lines_carry_status_name_detail_and_the_fix_when_not_ok()
    {
        Assert.Equal("ok        conmon  found", CheckCommand.Format(PreflightItem.Ok("conmon", "found"), 8));
        Assert.Equal("missing   conmon  absent (fix: install it)", CheckCommand.Format(PreflightItem.Missing("conmon", "absent", "install it"), 8));
        Assert.StartsWith("degraded  ", CheckCommand.Format(PreflightItem.Degraded("x", "y", "z"), 3));
    }
}
