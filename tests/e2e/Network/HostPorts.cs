using System.Net;
using System.Net.Sockets;

namespace Crisp.E2E.Network;

/// <summary>
/// hostPorts for the network tests, from a range nothing else on these machines uses (18080-18099).
/// Each port is handed out once per test process, so a rule left by one test never answers for another.
/// </summary>
public static class HostPorts
{
    private const int First = 18080;
    private const int Last = 18099;
    private static int _next = First;

    public static int Pick()
    {
        while (true)
        {
            var port = Interlocked.Increment(ref _next) - 1;
            if (port > Last) throw new InvalidOperationException($"the network tests ran out of hostPorts in {First}-{Last}");
            if (IsFree(port)) return port;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
