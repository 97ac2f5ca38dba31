using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Grpc.Core;

namespace Crisp.Bench;

/// <summary>
/// Polls a socket with Version until it answers: the "start to socket answering" the table measures. Polls every
/// few milliseconds so the poll interval does not dominate a start that takes well under a second.
/// </summary>
public static class ServingProbe
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(5);

    public static async Task WaitAsync(string label, string socketPath, Func<CriClient> client, Func<bool> exited, Func<string> output, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (exited()) throw new InvalidOperationException($"{label} exited before serving on {socketPath}:\n{Tail(output())}");
            if (File.Exists(socketPath))
            {
                try
                {
                    await client().Runtime.VersionAsync(new VersionRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                    return;
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                }
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{label} did not answer on {socketPath} within {timeout}:\n{Tail(output())}");
            await Task.Delay(Interval);
        }
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : "..." + text[^2000..];
}
