using System.Net;
using System.Net.Sockets;

namespace Crisp.TestSupport.Network;

/// <summary>Picks a loopback port the kernel considers free right now (callers retry if they lose the race).</summary>
public static class FreeTcpPort
{
    public static int Pick()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
