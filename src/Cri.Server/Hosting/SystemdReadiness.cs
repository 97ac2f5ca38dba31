using System.Net.Sockets;
using Microsoft.Extensions.Hosting.Systemd;

namespace Crisp.Server.Hosting;

/// <summary>
/// sd_notify for the Type=notify unit: READY=1 once the CRI socket accepts connections (a kubelet started After=
/// crisp.service must not find it refusing), RELOADING=1 around a SIGHUP reload, STOPPING=1 on shutdown.
/// Without NOTIFY_SOCKET (not under systemd) every call does nothing.
/// </summary>
public sealed partial class SystemdReadiness
{
    private const string NotifySocketVariable = "NOTIFY_SOCKET";
    private static readonly TimeSpan SocketWait = TimeSpan.FromSeconds(10);

    private readonly SystemdNotifier _notifier;

    private SystemdReadiness(SystemdNotifier notifier) => _notifier = notifier;

    /// <summary>
    /// Takes NOTIFY_SOCKET and removes it from crispd's environment before any child starts: runc, given one,
    /// proxies the container's own sd_notify and `runc start` would wait for a READY the container never sends.
    /// </summary>
    public static SystemdReadiness TakeFromEnvironment()
    {
        var readiness = new SystemdReadiness(new SystemdNotifier());
        Environment.SetEnvironmentVariable(NotifySocketVariable, null);
        return readiness;
    }

    public bool IsEnabled => _notifier.IsEnabled;

    /// <summary>Sends READY=1 after a connection to <paramref name="criSocket"/> succeeds; false when it never did.</summary>
    public bool NotifyReady(string criSocket, ILogger logger)
    {
        if (!IsEnabled) return false;
        var deadline = DateTime.UtcNow + SocketWait;
        while (!Answers(criSocket))
        {
            if (DateTime.UtcNow > deadline)
            {
                // No READY: systemd's start timeout fails the unit, which is the truth.
                LogSocketSilent(logger, criSocket, SocketWait.TotalSeconds);
                return false;
            }
            Thread.Sleep(50);
        }
        _notifier.Notify(new ServiceState($"READY=1\nSTATUS=serving CRI on {criSocket}\nMAINPID={Environment.ProcessId}"));
        return true;
    }

    public void NotifyReloading()
    {
        if (IsEnabled) _notifier.Notify(new ServiceState("RELOADING=1\nSTATUS=reloading configuration"));
    }

    public void NotifyReloaded(string criSocket)
    {
        if (IsEnabled) _notifier.Notify(new ServiceState($"READY=1\nSTATUS=serving CRI on {criSocket}"));
    }

    public void NotifyStopping()
    {
        if (IsEnabled) _notifier.Notify(ServiceState.Stopping);
    }

    private static bool Answers(string criSocket)
    {
        try
        {
            return SocketPreparation.IsAnswering(criSocket);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "CRI socket {Socket} accepted no connection within {Seconds} s of start; READY=1 not sent to systemd")]
    private static partial void LogSocketSilent(ILogger logger, string socket, double seconds);
}
